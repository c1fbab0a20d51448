"""Subgraph instances made plain nodes before planning: inner node ids become paths (`upscaler/resize`).

The flat graph is what validation, the scheduler, the cache and the events see, so every inner node caches,
re-runs, reports progress and fails under its own path; two instances share nothing but identical cache keys."""

from __future__ import annotations

import dataclasses
from typing import Any

from .errors import Issue, ValidationError
from .graph import Graph, Link, NodeInstance
from .node import Node, Param, Port
from .registry import NodeRegistry
from .subgraphs import PREFIX, SubgraphDef, definition_name, has_instances, is_instance, lookup

MAX_DEPTH = 32
Scopes = tuple[dict[str, SubgraphDef], ...]


def flatten(graph: Graph, registry: NodeRegistry) -> Graph:
    """`graph` with every instance expanded (the same object when it has none); ValidationError on problems."""
    flat, issues = flatten_with_issues(graph, registry)
    if issues:
        raise ValidationError(issues)
    return flat


def flatten_with_issues(graph: Graph, registry: NodeRegistry) -> tuple[Graph, list[Issue]]:
    """The flat graph as far as it could be built, and every problem met on the way.

    Kept on `graph` with a snapshot of what it was made from (the workflow's nodes and the definitions', not the
    flat nodes: 111 against 1,001 for 100 instances of 10 nodes), so planning, validating and running the same
    graph flatten it once. Treat the flat graph as read-only; `flatten_in_place` takes a fresh one."""
    if not has_instances(graph):
        return graph, []
    signature = _signature(graph)
    memo = getattr(graph, "_flat_memo", None)
    if memo is not None and memo[0] == signature and memo[1] is registry:
        return memo[2], list(memo[3])
    flat, issues = _flatten(graph, registry)
    graph._flat_memo = (signature, registry, flat, list(issues))
    return flat, issues


def _signature(graph: Graph) -> tuple:
    """What flattening reads, as plain values compared with ==: nodes, links and definitions, all levels."""
    return (graph.base_dir, graph.name,
            [(n.id, n.type, n.mode, n.title, n.type_version, [(k, v.__class__, v) for k, v in n.params.items()])
             for n in graph.nodes.values()],
            list(graph.links),
            [(name, defn.path, [(p.name, tuple(p.refs)) for p in defn.inputs],
              [(p.name, tuple(p.refs)) for p in defn.outputs],
              [(p.name, tuple(p.refs), p.default) for p in defn.params], _signature(defn.graph))
             for name, defn in graph.subgraphs.items()])


def _flatten(graph: Graph, registry: NodeRegistry) -> tuple[Graph, list[Issue]]:
    flat = Graph(graph.name, graph.base_dir)
    flat.meta, flat.groups, flat.notes = graph.meta, graph.groups, graph.notes
    flat.load_issues = list(graph.load_issues)
    expander = _Expander(registry, flat)
    expander.expand(graph, "", (graph.subgraphs,), (), None, {})
    return flat, expander.issues


def flatten_in_place(graph: Graph, registry: NodeRegistry) -> None:
    """Replace `graph`'s nodes and links by their flat form (the CLI and server, before inner overrides).
    ValidationError with every problem of the graph when it cannot be flattened."""
    if not has_instances(graph):
        return
    flat, issues = _flatten(graph, registry)  # its own: the caller goes on to change the flat nodes
    if issues:
        from .validate import find_issues

        raise ValidationError(find_issues(graph, registry))
    graph.nodes, graph.links, graph.instances = flat.nodes, flat.links, flat.instances
    graph.subgraphs = {}
    graph.touch()


class _Expander:
    def __init__(self, registry: NodeRegistry, flat: Graph):
        self.registry = registry
        self.flat = flat
        self.issues: list[Issue] = []

    def expand(self, level: Graph, prefix: str, scopes: Scopes, stack: tuple[int, ...], mode: str | None,
               overrides: dict[str, dict[str, Any]], owners: tuple[list[str], ...] = ()):
        """Add `level`'s nodes under `prefix`; returns, for its instances, where their ports lead in the flat graph.
        `owners`: the member lists of the instances this level is inside (each flat node joins them all)."""
        ins: dict[str, dict[str, list[tuple[str, str]]]] = {}
        outs: dict[str, dict[str, tuple[str, str] | None]] = {}
        rebase = level.base_dir != self.flat.base_dir
        flat_nodes = self.flat.nodes
        for node_id, node in level.nodes.items():
            fid = prefix + node_id
            extra = overrides.get(node_id)
            params = {**node.params, **extra} if extra else dict(node.params)
            if node.type.startswith(PREFIX):
                ports = self._instance(node, fid, params, scopes, stack, mode, owners)
                if ports is not None:
                    ins[node_id], outs[node_id] = ports
                continue
            if fid in flat_nodes:
                self.issues.append(Issue("this id is taken by a node inside a subgraph instance of that name; "
                                         "rename one of them", fid))
                continue
            if rebase:
                params = self._rebased(node.type, params, level)
            flat_nodes[fid] = NodeInstance(fid, node.type, params, mode or node.mode, {}, node.title,
                                           node.type_version)
            for members in owners:
                members.append(fid)
        links = self.flat.links
        for link in level.links:
            if link.src not in outs and link.dst not in ins:  # the common case: plain node to plain node
                links.append(Link(prefix + link.src, link.src_port, prefix + link.dst, link.dst_port))
                continue
            src = _src(outs, prefix, link.src, link.src_port)
            if src is None:
                if link.src in outs:
                    self._no_port(prefix + link.src, level, link.src, link.src_port, "output")
                continue
            dsts = _dsts(ins, prefix, link.dst, link.dst_port)
            if dsts is None:
                self._no_port(prefix + link.dst, level, link.dst, link.dst_port, "input or param")
                continue
            for dst in dsts:
                links.append(Link(src[0], src[1], dst[0], dst[1]))
        return ins, outs

    def _instance(self, node: NodeInstance, fid: str, params: dict, scopes: Scopes, stack: tuple[int, ...],
                  mode: str | None, owners: tuple[list[str], ...]):
        name = definition_name(node.type)
        defn = lookup(name, scopes)
        if defn is None:
            known = sorted({n for scope in scopes for n in scope})
            fix = f"defined here: {', '.join(known)}" if known else "this workflow defines no subgraphs"
            self.issues.append(Issue(f"no subgraph named {name!r}; {fix}", fid, "type"))
            return None
        if id(defn) in stack or len(stack) >= MAX_DEPTH:
            self.issues.append(Issue(f"subgraph {name!r} contains itself; remove the instance that loops back",
                                     fid, "type"))
            return None
        if node.mode == "bypass":
            self.issues.append(Issue("a subgraph instance cannot be bypassed; mute it, or bypass nodes inside it",
                                     fid, "mode"))
        overrides: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            promoted = defn.param(key)
            if promoted is None:
                names = ", ".join(p.name for p in defn.params) or "none"
                self.issues.append(Issue(f"subgraph {name!r} has no param {key!r} (its params: {names})", fid, key))
                continue
            for inner, inner_param in promoted.refs:
                overrides.setdefault(inner, {})[inner_param] = value
        for promoted in defn.params:
            if promoted.name not in params and promoted.default is not None:
                for inner, inner_param in promoted.refs:
                    overrides.setdefault(inner, {})[inner_param] = promoted.default
        members = self.flat.instances[fid] = []
        inner_mode = "mute" if node.mode == "mute" else mode
        ins, outs = self.expand(defn.graph, fid + "/", scopes + (defn.graph.subgraphs,), stack + (id(defn),),
                                inner_mode, overrides, owners + (members,))
        prefix = fid + "/"
        port_ins: dict[str, list[tuple[str, str]]] = {}
        for spec in [*defn.inputs, *defn.params]:
            port_ins[spec.name] = [d for n, p in spec.refs for d in (_dsts(ins, prefix, n, p) or ())]
        port_outs = {spec.name: _src(outs, prefix, *spec.refs[0]) if spec.refs else None for spec in defn.outputs}
        return port_ins, port_outs

    def _rebased(self, type_id: str, params: dict, level: Graph) -> dict:
        """Relative paths in a subgraph read from another folder, made absolute against that folder."""
        cls = self.registry.get(type_id)
        if cls is None:
            return params
        out = dict(params)
        for param in cls.params:
            if param.is_path and isinstance(out.get(param.name), str):
                out[param.name] = param.resolve(out[param.name], level.base_dir)
        return out

    def _no_port(self, fid: str, level: Graph, node_id: str, port: str, kind: str) -> None:
        defn_name = definition_name(level.nodes[node_id].type) if node_id in level.nodes else "?"
        self.issues.append(Issue(f"subgraph {defn_name!r} has no {kind} {port!r}", fid, port))


def _src(outs: dict, prefix: str, node_id: str, port: str) -> tuple[str, str] | None:
    if node_id in outs:
        return outs[node_id].get(port)
    return prefix + node_id, port


def _dsts(ins: dict, prefix: str, node_id: str, port: str) -> list[tuple[str, str]] | None:
    if node_id in ins:
        return ins[node_id].get(port)
    return [(prefix + node_id, port)]


def inner_targets(graph: Graph, node_ids: Any) -> Any:
    """Node ids for a flat graph: an instance's path stands for every node inside it."""
    if node_ids is None or not graph.instances:
        return node_ids
    out: list[str] = []
    for node_id in node_ids:
        out.extend(graph.instances.get(node_id, [node_id]))
    return out


# -- an instance seen from outside ---------------------------------------------------------


def instance_class(defn: SubgraphDef, registry: NodeRegistry, scopes: Scopes = (),
                   _stack: tuple[int, ...] = (), category: str = "Subgraphs") -> type[Node]:
    """A Node class that describes an instance of `defn` (its ports and promoted params, typed from the inner
    nodes they lead to): for the editor, `--set` and `kinograph nodes`. It is never run: instances are flattened."""
    scopes = scopes + (defn.graph.subgraphs,)
    stack = _stack + (id(defn),)

    def inner_class(node_id: str) -> type[Node] | None:
        node = defn.graph.nodes.get(node_id)
        if node is None:
            return None
        if is_instance(node.type):
            inner = lookup(definition_name(node.type), scopes)
            if inner is None or id(inner) in stack or len(stack) >= MAX_DEPTH:
                return None
            return instance_class(inner, registry, scopes, stack)
        return registry.get(node.type)

    inputs, outputs, params = [], [], []
    for spec in defn.inputs:
        cls = inner_class(spec.refs[0][0]) if spec.refs else None
        port = cls.input(spec.refs[0][1]) if cls else None
        param = cls.param(spec.refs[0][1]) if cls and port is None else None
        kind = port.type if port else (param.port_type if param else "ANY")
        inputs.append(Port(spec.name, kind, optional=port.optional if port else True))
    for spec in defn.outputs:
        cls = inner_class(spec.refs[0][0]) if spec.refs else None
        port = cls.output(spec.refs[0][1]) if cls else None
        outputs.append(Port(spec.name, port.type if port else "ANY"))
    for promoted in defn.params:
        node_id, name = promoted.refs[0] if promoted.refs else ("", "")
        cls = inner_class(node_id)
        inner = cls.param(name) if cls else None
        if inner is None:
            continue
        default = promoted.default
        if default is None:
            default = defn.graph.nodes[node_id].params.get(name, inner.default)
        try:
            params.append(dataclasses.replace(inner, name=promoted.name, default=default,
                                              label=promoted.title or inner.label))
        except (ValueError, TypeError):
            params.append(dataclasses.replace(inner, name=promoted.name, label=promoted.title or inner.label))
    doc = defn.description or f"Subgraph {defn.display_name()}: {len(defn.graph.nodes)} nodes inside."
    return type(f"Subgraph_{defn.name}", (Node,), {
        "__doc__": doc, "type_id": f"subgraph:{defn.name}", "title": defn.display_name(), "category": category,
        "inputs": tuple(inputs), "outputs": tuple(outputs), "params": tuple(params),
        "is_output": any(c is not None and c.is_output for c in map(inner_class, defn.graph.nodes)),
    })


def node_class(graph: Graph, registry: NodeRegistry, type_id: str) -> type[Node] | None:
    """The class of a node type as `graph` sees it: a registered type, or one of its subgraphs."""
    if is_instance(type_id):
        defn = graph.subgraphs.get(definition_name(type_id))
        return instance_class(defn, registry, (graph.subgraphs,)) if defn is not None else None
    return registry.get(type_id)


def param_of(graph: Graph, registry: NodeRegistry, node_id: str, name: str) -> Param | None:
    node = graph.nodes.get(node_id)
    cls = node_class(graph, registry, node.type) if node is not None else None
    return cls.param(name) if cls is not None else None
