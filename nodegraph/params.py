"""A node's effective params, built one way for the run, validation, confinement and the editor."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .graph import Graph, Link
    from .node import Node, Param
    from .registry import NodeRegistry


class NodeParams:
    """One node's params as everyone sees them.

    `stated`: every param's value as the workflow holds it (the value set on the node, else its default): what the
    editor shows and edits, and what confinement judges. `linked`: the params a link feeds, with their links (their
    values arrive as inputs when the node runs). `values`: what `check()`, `notices()`, `fingerprint()` and `run()`
    get: the stated values less the linked ones, paths resolved by `Param.resolve` (beside the workflow, else in
    the models folders), whole numbers of float params as floats."""

    __slots__ = ("cls", "base_dir", "linked", "stated", "_values", "_guesses")

    def __init__(self, graph: Graph, node_id: str, cls: type[Node]):
        self.cls = cls
        self.base_dir = graph.base_dir
        self.linked: dict[str, Link] = graph.links_into(node_id)
        self.stated: dict[str, Any] = cls.defaults()
        self.stated.update(graph.nodes[node_id].params)
        self._values: dict[str, Any] | None = None
        self._guesses: dict[str, Any] | None = None

    def resolved(self, name: str) -> Any:
        """One param's stated value as the run gets it (it looks a file up only for this param)."""
        param = self.cls.param(name)
        value = self.stated.get(name)
        return value if param is None else _resolve(param, value, self.base_dir)

    @property
    def values(self) -> dict[str, Any]:
        if self._values is None:  # made once, on the first look: the scheduler makes one for every node it runs
            out = dict(self.stated)
            linked = self.linked
            for param in self.cls.params:
                if param.name in linked:
                    out.pop(param.name, None)
                elif param.kind is not None or param.type is float:
                    out[param.name] = _resolve(param, out.get(param.name), self.base_dir)
            self._values = out
        return self._values

    @property
    def guesses(self) -> dict[str, Any]:
        """Every param resolved, a linked one at its stated value: for estimates made before the run (frame sizes,
        what a feeding node holds), when a value a link brings is not known yet."""
        if self._guesses is None:
            out = dict(self.values)
            for name in self.linked:
                param = self.cls.param(name)
                if param is not None:
                    out[name] = _resolve(param, self.stated.get(name), self.base_dir)
            self._guesses = out
        return self._guesses


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


def behind_forwards(graph: Graph, registry: NodeRegistry, src_id: str, src_port: str) -> tuple[str, str]:
    """Where the value on output `src_port` of `src_id` starts: past every node that passes an input on with a
    change (`Node.forwards`, as model.lora does), the output of the first node that makes it. A muted node, a
    port not linked, or a cycle ends the walk where it is."""
    for _ in range(len(graph.nodes)):
        node = graph.nodes.get(src_id)
        cls = registry.get(node.type) if node is not None else None
        if cls is None or not cls.forwards or node.mode == "mute":
            break
        back = graph.links_into(src_id).get(cls.forwards.get(src_port, ""))
        if back is None:
            break
        src_id, src_port = back.src, back.src_port
    return src_id, src_port


def _resolve(param: Param, value: Any, base_dir) -> Any:
    if param.is_path:
        return param.resolve(value, base_dir)
    if param.type is float and isinstance(value, int):
        return float(value)
    return value
