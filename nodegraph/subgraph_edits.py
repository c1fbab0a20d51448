"""Undoable subgraph edits: make a subgraph of a selection, unpack an instance, edit inside a definition."""

from __future__ import annotations

import copy
from collections.abc import Iterable

from .edits import Edit
from .graph import Graph, Link, NodeInstance
from .subgraphs import PREFIX, PortSpec, PromotedParam, SubgraphDef, definition_name, is_instance, lookup


class _Structural(Edit):
    """Remembers nodes, links, groups and definitions as they were, to restore exactly."""

    def _save(self, graph: Graph) -> None:
        self._nodes = dict(graph.nodes)
        self._links = list(graph.links)
        self._groups = copy.deepcopy(graph.groups)
        self._subgraphs = dict(graph.subgraphs)

    def revert(self, graph: Graph) -> None:
        graph.nodes, graph.links = dict(self._nodes), list(self._links)
        graph.groups, graph.subgraphs = copy.deepcopy(self._groups), dict(self._subgraphs)
        graph.touch()

    def touched(self) -> set[str] | None:
        return None


def _free(base: str, taken: set[str]) -> str:
    name, n = base, 2
    while name in taken:
        name = f"{base}_{n}"
        n += 1
    taken.add(name)
    return name


class MakeSubgraph(_Structural):
    """Move `node_ids` into a new definition `name` and put one instance of it in their place. Wires that cross
    the selection become its input and output ports; `promote` lists the inner (node, param) shown outside."""

    def __init__(self, node_ids: Iterable[str], name: str, *, promote: Iterable[tuple[str, str]] = (),
                 instance_id: str | None = None, title: str = ""):
        self.node_ids = list(dict.fromkeys(node_ids))
        self.name, self.promote, self.title = name, list(promote), title
        self.instance_id = instance_id
        self.text = f"Make subgraph {name}"

    def apply(self, graph: Graph) -> None:
        inside = set(self.node_ids)
        if not inside or not inside <= set(graph.nodes):
            raise KeyError("make a subgraph of nodes that are in the graph")
        if self.name in graph.subgraphs:
            raise ValueError(f"a subgraph named {self.name!r} already exists")
        self._save(graph)
        part = graph.subgraph(self.node_ids)
        part.groups = []
        inputs: dict[tuple[str, str], PortSpec] = {}
        outputs: dict[tuple[str, str], PortSpec] = {}
        names: set[str] = set()
        crossing_in, crossing_out = [], []
        for link in graph.links:
            if link.dst in inside and link.src not in inside:
                spec = inputs.get((link.src, link.src_port))
                if spec is None:
                    spec = inputs[(link.src, link.src_port)] = PortSpec(_free(link.dst_port, names))
                spec.refs.append((link.dst, link.dst_port))
                crossing_in.append((link, spec.name))
            elif link.src in inside and link.dst not in inside:
                spec = outputs.get((link.src, link.src_port))
                if spec is None:
                    spec = outputs[(link.src, link.src_port)] = PortSpec(_free(link.src_port, names),
                                                                         [(link.src, link.src_port)])
                crossing_out.append((link, spec.name))
        params = [PromotedParam(_free(param, names), [(node_id, param)]) for node_id, param in self.promote]
        xs = [float(graph.nodes[n].ui.get("x", 0.0)) for n in self.node_ids]
        ys = [float(graph.nodes[n].ui.get("y", 0.0)) for n in self.node_ids]
        defn = SubgraphDef(self.name, part, list(inputs.values()), list(outputs.values()), params, title=self.title)
        graph.subgraphs = {**graph.subgraphs, self.name: defn}
        for node_id in self.node_ids:
            graph.remove_node(node_id)
        self.instance_id = self.instance_id if self.instance_id and self.instance_id not in graph.nodes \
            else graph.unique_id(self.name)
        ui = {"x": round(sum(xs) / len(xs)), "y": round(sum(ys) / len(ys))}
        graph.add_node(NodeInstance(self.instance_id, PREFIX + self.name, {}, ui=ui))
        for link, port in crossing_in:
            if Link(link.src, link.src_port, self.instance_id, port) not in graph.links:
                graph.links.append(Link(link.src, link.src_port, self.instance_id, port))
        for link, port in crossing_out:
            graph.links.append(Link(self.instance_id, port, link.dst, link.dst_port))
        graph.touch()


class Unpack(_Structural):
    """Put an instance's inner nodes (with its promoted values) in its place, wired as it was; the definition
    goes when nothing else uses it. `mapping` gives inner id → new id."""

    def __init__(self, instance_id: str):
        self.instance_id = instance_id
        self.mapping: dict[str, str] = {}
        self.text = f"Unpack {instance_id}"

    def apply(self, graph: Graph) -> None:
        instance = graph.nodes[self.instance_id]
        if not is_instance(instance.type):
            raise ValueError(f"{self.instance_id} is not a subgraph instance")
        name = definition_name(instance.type)
        defn = lookup(name, (graph.subgraphs,))
        if defn is None:
            raise KeyError(f"no subgraph named {name!r}")
        self._save(graph)
        values: dict[tuple[str, str], object] = {}
        for promoted in defn.params:
            value = instance.params.get(promoted.name, promoted.default)
            if value is not None:
                values.update(dict.fromkeys(promoted.refs, value))
        inner = defn.graph
        xs = [float(n.ui.get("x", 0.0)) for n in inner.nodes.values()] or [0.0]
        ys = [float(n.ui.get("y", 0.0)) for n in inner.nodes.values()] or [0.0]
        dx = float(instance.ui.get("x", 0.0)) - sum(xs) / len(xs)
        dy = float(instance.ui.get("y", 0.0)) - sum(ys) / len(ys)
        outside = [lk for lk in graph.links if self.instance_id in (lk.src, lk.dst)]
        graph.remove_node(self.instance_id)
        taken = set(graph.nodes)
        mapping = {old: _free(old, taken) for old in inner.nodes}
        for old, node in inner.nodes.items():
            twin = node.clone(mapping[old])
            twin.ui = {**twin.ui, "x": round(float(twin.ui.get("x", 0.0)) + dx),
                       "y": round(float(twin.ui.get("y", 0.0)) + dy)}
            for (node_id, param), value in values.items():
                if node_id == old:
                    twin.params[param] = value
            graph.add_node(twin)
        for link in inner.links:
            if link.src in mapping and link.dst in mapping:
                graph.connect(Link(mapping[link.src], link.src_port, mapping[link.dst], link.dst_port))
        for link in outside:
            if link.dst == self.instance_id:
                spec = defn.port("in", link.dst_port) or defn.param(link.dst_port)
                for node_id, port in spec.refs if spec else ():
                    graph.connect(Link(link.src, link.src_port, mapping[node_id], port))
            else:
                spec = defn.port("out", link.src_port)
                if spec is not None and spec.refs:
                    node_id, port = spec.refs[0]
                    graph.connect(Link(mapping[node_id], port, link.dst, link.dst_port))
        subgraphs = dict(graph.subgraphs)
        subgraphs.update({k: v for k, v in inner.subgraphs.items() if k not in subgraphs})  # what it used
        if defn.path is None and not any(n.type == instance.type for n in graph.nodes.values()):
            subgraphs.pop(name, None)
        graph.subgraphs = subgraphs
        self.mapping = mapping
        graph.touch()


class AddDefinition(_Structural):
    """Put a subgraph definition in the graph (one taken from the user's folder, say), to instance it."""

    def __init__(self, defn: SubgraphDef):
        self.defn = defn
        self.text = f"Add subgraph {defn.name}"

    def apply(self, graph: Graph) -> None:
        self._save(graph)
        graph.subgraphs = {**graph.subgraphs, self.defn.name: self.defn}


def level_graph(root: Graph, path: Iterable[str]) -> Graph:
    """The graph inside the definitions named by `path` (outermost first), as seen from `root`."""
    graph, scopes = root, (root.subgraphs,)
    for name in path:
        defn = lookup(name, scopes)
        if defn is None:
            raise KeyError(f"no subgraph named {name!r}")
        graph = defn.graph
        scopes += (graph.subgraphs,)
    return graph


class InSubgraph(Edit):
    """An edit made inside a definition (the editor has entered it): applied to that definition's graph."""

    def __init__(self, path: Iterable[str], edit: Edit):
        self.path, self.edit = tuple(path), edit
        self.text = edit.text

    def apply(self, graph: Graph) -> None:
        self.edit.apply(level_graph(graph, self.path))

    def revert(self, graph: Graph) -> None:
        self.edit.revert(level_graph(graph, self.path))

    def merge(self, other: Edit) -> bool:
        return isinstance(other, InSubgraph) and other.path == self.path and self.edit.merge(other.edit)

    def touched(self) -> set[str] | None:
        return self.edit.touched()
