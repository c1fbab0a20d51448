"""The node canvas: scene items are thin views of nodegraph's model."""

from .node_item import NodeItem
from .scene import GraphScene
from .view import NODE_MIME, GraphView
from .wire_item import WireItem

__all__ = ["NODE_MIME", "GraphScene", "GraphView", "NodeItem", "WireItem"]
