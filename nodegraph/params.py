"""A node's effective params, built one way for the run, validation, confinement and the editor."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .graph import Graph, Link
    from .node import Node, Param


class NodeParams:
    """One node's params as everyone sees them.

    `stated`: every param's value as the workflow holds it (the value set on the node, else its default): what the
    editor shows and edits, and what confinement judges. `linked`: the params a link feeds, with their links (their
    values arrive as inputs when the node runs). `values`: what `check()`, `notices()`, `fingerprint()` and `run()`
    get: the stated values less the linked ones, paths resolved by `Param.resolve` (beside the workflow, else in
    the models folders), whole numbers of float params as floats."""

    def __init__(self, graph: Graph, node_id: str, cls: type[Node]):
        node = graph.nodes[node_id]
        self.cls = cls
        self.base_dir = graph.base_dir
        self.linked: dict[str, Link] = graph.links_into(node_id)
        self.stated: dict[str, Any] = {**cls.defaults(), **node.params}

    def resolved(self, name: str) -> Any:
        """One param's stated value as the run gets it (it looks a file up only for this param)."""
        param = self.cls.param(name)
        value = self.stated.get(name)
        return value if param is None else _resolve(param, value, self.base_dir)

    @cached_property
    def values(self) -> dict[str, Any]:
        out = dict(self.stated)
        for param in self.cls.params:
            if param.name in self.linked:
                out.pop(param.name, None)
            else:
                out[param.name] = _resolve(param, out.get(param.name), self.base_dir)
        return out

    @cached_property
    def guesses(self) -> dict[str, Any]:
        """Every param resolved, a linked one at its stated value: for estimates made before the run (frame sizes,
        what a feeding node holds), when a value a link brings is not known yet."""
        out = dict(self.values)
        for name in self.linked:
            param = self.cls.param(name)
            if param is not None:
                out[name] = _resolve(param, self.stated.get(name), self.base_dir)
        return out


def resolve_params(graph: Graph, node_id: str, cls: type[Node],
                   memo: dict[str, NodeParams] | None = None) -> NodeParams:
    """The effective params of node `node_id` (of class `cls`) in `graph`: see `NodeParams`. With `memo`, each
    node's are made once for every look at that graph as it is (validation looks at a node up to three times)."""
    if memo is None:
        return NodeParams(graph, node_id, cls)
    found = memo.get(node_id)
    if found is None:
        found = memo[node_id] = NodeParams(graph, node_id, cls)
    return found


def _resolve(param: Param, value: Any, base_dir) -> Any:
    if param.is_path:
        return param.resolve(value, base_dir)
    if param.type is float and isinstance(value, int):
        return float(value)
    return value
