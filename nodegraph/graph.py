"""The graph model: node instances, links, groups. networkx holds the topology."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import networkx as nx

NODE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
MODES = ("normal", "mute", "bypass")


@dataclass(slots=True)
class NodeInstance:
    """One node in a graph: its id, type, params (named), mode and layout."""

    id: str
    type: str
    params: dict[str, Any] = field(default_factory=dict)
    mode: str = "normal"
    ui: dict[str, Any] = field(default_factory=dict)
    title: str = ""
    type_version: int = 1

    def clone(self, new_id: str | None = None) -> NodeInstance:
        twin = copy.deepcopy(self)
        if new_id:
            twin.id = new_id
        return twin


class Link(NamedTuple):
    """A wire from an output port to an input port or a param of another node.

    A named tuple, not a frozen dataclass: as immutable and hashable, and made several times as fast (a
    flattened graph of 100 subgraph instances makes 900 of them before it can plan)."""

    src: str
    src_port: str
    dst: str
    dst_port: str

    @property
    def from_ref(self) -> str:
        return f"{self.src}.{self.src_port}"

    @property
    def to_ref(self) -> str:
        return f"{self.dst}.{self.dst_port}"


@dataclass
class Group:
    """A titled backdrop that carries its nodes."""

    title: str
    nodes: list[str] = field(default_factory=list)
    ui: dict[str, Any] = field(default_factory=dict)


@dataclass
class Note:
    """A Markdown sticky note on the canvas: kept in the file, ignored by validation and runs."""

    text: str = ""
    ui: dict[str, Any] = field(default_factory=dict)


def topological(node_ids: Iterable[str], links: Iterable[Link]) -> list[str] | None:
    """`node_ids` in an order where each follows the nodes that feed it through `links`, generation by generation
    and each generation in the given order (Kahn's walk); None when they hold a cycle. Links to other nodes are
    left out."""
    waiting = dict.fromkeys(node_ids, 0)
    feeds: dict[str, list[str]] = {}
    for link in links:
        if link.src in waiting and link.dst in waiting:
            waiting[link.dst] += 1
            feeds.setdefault(link.src, []).append(link.dst)
    order = [n for n, count in waiting.items() if not count]
    for node_id in order:  # grows while it is walked
        for dst in feeds.get(node_id, ()):
            waiting[dst] -= 1
            if not waiting[dst]:
                order.append(dst)
    return order if len(order) == len(waiting) else None


class Graph:
    """A workflow in memory. Params stay named; relative paths resolve against base_dir."""

    def __init__(self, name: str = "Untitled", base_dir: Path | None = None):
        self.name = name
        self.nodes: dict[str, NodeInstance] = {}
        self.links: list[Link] = []
        self.groups: list[Group] = []
        self.notes: list[Note] = []
        self.meta: dict[str, Any] = {}
        self.base_dir = base_dir
        self.subgraphs: dict[str, Any] = {}  # name -> SubgraphDef (nodegraph/subgraphs.py), instanced by type
        self.interface: dict[str, Any] | None = None  # a workflow that is also a subgraph: its "subgraph" ports
        # On a graph flattened from subgraph instances: instance path -> the flat ids of every node inside it.
        self.instances: dict[str, list[str]] = {}
        # flatten.py keeps the flat graph here with a snapshot of what it was made from (checked before each use).
        self._flat_memo: tuple | None = None
        self._nx: nx.MultiDiGraph | None = None
        self._incoming: dict[str, dict[str, Link]] | None = None
        self._order: list[str] | None = None  # run_order() of every node, once asked
        # Problems found while loading that the graph itself cannot show (a second node with a taken id, a second
        # link into one input: only the first was kept). They fail validation until the graph is saved anew.
        self.load_issues: list = []

    # -- queries ----------------------------------------------------------------------

    def node(self, node_id: str) -> NodeInstance:
        return self.nodes[node_id]

    def links_into(self, node_id: str) -> dict[str, Link]:
        """Links that feed `node_id`, keyed by the input port or param they feed."""
        if self._incoming is None:
            incoming: dict[str, dict[str, Link]] = {}
            for link in self.links:
                incoming.setdefault(link.dst, {})[link.dst_port] = link
            self._incoming = incoming
        return self._incoming.get(node_id, {})

    def links_from(self, node_id: str) -> list[Link]:
        return [link for link in self.links if link.src == node_id]

    def link_into(self, node_id: str, port: str) -> Link | None:
        return self.links_into(node_id).get(port)

    def nx(self) -> nx.MultiDiGraph:
        """The topology as a networkx multigraph (one edge per link), rebuilt after edits."""
        if self._nx is None:
            import networkx as nx  # here, not at import: a run plans without it, and it is slow to import

            g = nx.MultiDiGraph()
            g.add_nodes_from(self.nodes)
            for link in self.links:
                g.add_edge(link.src, link.dst, key=(link.src_port, link.dst_port))
            self._nx = g
        return self._nx

    def run_order(self, needed: set[str] | None = None) -> list[str] | None:
        """`needed` (default: every node) in an order where each node follows what feeds it; None on a cycle.

        Generation by generation, each in the order the nodes were added: the order networkx's topological sort
        gives, without building a filtered view of the graph on every run. A graph flattened from subgraph
        instances comes with its whole order made by flattening (`nodegraph/flatten.py`): each instance's nodes
        together, in its definition's order.
        """
        whole = needed is None or (len(needed) == len(self.nodes) and needed >= self.nodes.keys())
        if whole and self._order is not None:  # validation asked first, and the run asks the same
            return list(self._order)
        order = topological(self.nodes if needed is None else [n for n in self.nodes if n in needed], self.links)
        if whole and order is not None:
            self._order = list(order)
        return order

    def unique_id(self, base: str) -> str:
        """A free node id derived from `base` (a type id or an existing id)."""
        stem = re.sub(r"[^A-Za-z0-9_-]", "_", base.split(".")[-1].split(":")[-1]) or "node"  # subgraph:name
        if not stem[0].isalpha():
            stem = "n" + stem
        stem = re.sub(r"_\d+$", "", stem)
        if stem not in self.nodes:
            return stem
        n = 2
        while f"{stem}_{n}" in self.nodes:
            n += 1
        return f"{stem}_{n}"

    # -- edits ------------------------------------------------------------------------

    def touch(self) -> None:
        """Forget derived topology after a structural edit."""
        self._nx = None
        self._incoming = None
        self._order = None

    def add_node(self, node: NodeInstance) -> NodeInstance:
        if node.id in self.nodes:
            raise ValueError(f"a node with id {node.id!r} already exists")
        self.nodes[node.id] = node
        self.touch()
        return node

    def remove_node(self, node_id: str) -> tuple[NodeInstance, list[Link]]:
        """Remove a node and its links; returns both so an undo can put them back."""
        node = self.nodes.pop(node_id)
        removed = [link for link in self.links if node_id in (link.src, link.dst)]
        self.links = [link for link in self.links if node_id not in (link.src, link.dst)]
        for group in self.groups:
            if node_id in group.nodes:
                group.nodes.remove(node_id)
        self.touch()
        return node, removed

    def connect(self, link: Link) -> Link | None:
        """Add a link; an existing link into the same port is replaced and returned."""
        old = self.link_into(link.dst, link.dst_port)
        if old is not None:
            self.links.remove(old)
        self.links.append(link)
        self.touch()
        return old

    def disconnect(self, link: Link) -> None:
        self.links.remove(link)
        self.touch()

    def copy(self) -> Graph:
        twin = Graph(self.name, self.base_dir)
        twin.nodes = {k: v.clone() for k, v in self.nodes.items()}
        twin.links = list(self.links)
        twin.groups = copy.deepcopy(self.groups)
        twin.notes = copy.deepcopy(self.notes)
        twin.meta = copy.deepcopy(self.meta)
        twin.subgraphs = copy.deepcopy(self.subgraphs)
        twin.instances = dict(self.instances)
        twin.interface = copy.deepcopy(self.interface)
        twin._flat_memo = self._flat_memo  # a copy runs as its original: the snapshot says whether it still fits
        twin.load_issues = list(self.load_issues)
        return twin

    def subgraph(self, node_ids: list[str]) -> Graph:
        """The given nodes with the links among them (for copy and paste)."""
        keep = set(node_ids)
        part = Graph(self.name, self.base_dir)
        for node_id in node_ids:
            part.nodes[node_id] = self.nodes[node_id].clone()
        part.links = [lk for lk in self.links if lk.src in keep and lk.dst in keep]
        part.groups = [copy.deepcopy(g) for g in self.groups if g.nodes and set(g.nodes) <= keep]
        return part

    def resolve_path(self, value: str) -> str:
        """A param path made absolute against the workflow's folder (when it is relative)."""
        from .node import resolve_against

        return resolve_against(value, self.base_dir)
