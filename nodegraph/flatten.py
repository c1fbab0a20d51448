"""Subgraph instances made plain nodes before planning: inner node ids become paths (`upscaler/resize`).

The flat graph is what validation, the scheduler, the cache and the events see, so every inner node caches,
re-runs, reports progress and fails under its own path; two instances share nothing but identical cache keys.

Each definition is expanded once into a template (its nodes, links and ports, nested instances included, named
relative to the instance); an instance is its template under its path, with its values set. The flat graph comes
with its run order, made from the levels' orders, so planning does not walk its links again: 100 instances of a
10-node definition plan and validate in the time the same 1,001 nodes flattened by hand do (`bench/engine.py
--subgraphs`)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from .errors import Issue, ValidationError
from .graph import Graph, Link, NodeInstance, topological
from .node import Node, Param, Port
from .registry import NodeRegistry
from .subgraphs import PREFIX, SubgraphDef, definition_name, has_instances, is_instance, lookup
from .types import is_compatible

MAX_DEPTH = 32
# Link(...) without its keyword-taking __new__, at half the cost: made for every link inside every instance.
_link = tuple.__new__
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
    memo = graph._flat_memo
    if memo is not None and memo[0] == signature and memo[1] is registry:
        return memo[2], list(memo[3])
    # After an edit of the workflow's own nodes (not of a definition or the folder), each definition expands as
    # it did before: its template is kept.
    same_definitions = memo is not None and memo[0][0] == signature[0] and memo[0][4] == signature[4]
    templates = memo[4] if same_definitions and memo[1] is registry else {}
    flat, issues = _flatten(graph, registry, templates)
    graph._flat_memo = (signature, registry, flat, list(issues), templates)
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


def _flatten(graph: Graph, registry: NodeRegistry, templates: dict | None = None) -> tuple[Graph, list[Issue]]:
    flat = Graph(graph.name, graph.base_dir)
    flat.meta, flat.groups, flat.notes = graph.meta, graph.groups, graph.notes
    flat.load_issues = list(graph.load_issues)
    expander = _Expander(registry, flat, {} if templates is None else templates)
    expander.expand(graph, (graph.subgraphs,), ())
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
    graph._order = flat._order  # the same nodes and links: the order flattening made still holds


@dataclasses.dataclass(slots=True)
class _Template:
    """A definition expanded once, at the root of an instance of its own: what every instance of it adds to the
    flat graph, with ids relative to the instance's path. An instance is its template with the path put in
    front, the instance's values set and its mode applied: no inner node is looked at again, and past the ids
    no string is made (links, ports and nested instances name the nodes inside by their place in `ids`)."""

    name: str
    ids: list[str]  # every plain node inside, nested instances' included: "resize", "inner/resize"
    nodes: list[tuple]  # (type, params, mode, title, type_version) for each id, params with the definition's values
    links: list[tuple[int, str, int, str]]  # between the nodes inside
    order: list[int] | None  # the nodes inside in run order (None: they hold a cycle)
    nested: dict[str, list[int]]  # instance inside -> the nodes inside it
    ins: dict[str, list[tuple[int, str]]]  # input port or promoted param -> the (node, port or param)s it feeds
    outs: dict[str, tuple[int, str] | None]  # output port -> the (node, port) that feeds it
    params: dict[str, None]  # the promoted params' names, in order
    defaults: list[tuple[str, Any, Path | None]]  # promoted params with a default: name, value, where it was written
    issues: list[Issue]  # node ids relative, as the ids
    unknown_targets: dict[str, list[Issue]]  # promoted param -> problems to report when it is given a value

    def param_names(self) -> str:
        return ", ".join(self.params) or "none"


# An instance as its level's links see it: the flat ids of the nodes inside (its template's `ids`, placed) and
# its template.
Placed = dict[str, tuple[list[str], _Template]]


class _Expander:
    """Adds a level's nodes to `flat` under their own ids; each instance comes from its definition's template,
    made once per definition (and nesting) and kept in `templates` while the definitions stay as they were."""

    def __init__(self, registry: NodeRegistry, flat: Graph, templates: dict):
        self.registry = registry
        self.flat = flat
        self.templates = templates  # (ids of the definitions entered, the definition's id) -> (definition, template)
        self.issues: list[Issue] = []
        self._clash = False  # a node was left out because another had its id
        self.passing: dict[str, dict[str, tuple[str | None, str]]] = {}  # bypassed instances: output -> input, type

    def expand(self, level: Graph, scopes: Scopes, stack: tuple[int, ...]) -> Placed:
        """Add `level`'s nodes and links; returns its instances as placed."""
        placed: Placed = {}
        rebase = level.base_dir != self.flat.base_dir
        flat_nodes = self.flat.nodes
        bypassed = self.passing
        for node_id, node in level.nodes.items():
            if node.type.startswith(PREFIX):
                if node.mode == "bypass":
                    self._bypassed(node, scopes, stack, bypassed)
                else:
                    self._instance(node, level, scopes, stack, placed)
                continue
            if node_id in flat_nodes:
                self._taken(node_id)
                continue
            params = self._rebased(node.type, node.params, level.base_dir) if rebase else node.params.copy()
            flat_nodes[node_id] = NodeInstance(node_id, node.type, params, node.mode, {}, node.title,
                                               node.type_version)
        links = self.flat.links
        feeds = {(link.dst, link.dst_port): link for link in level.links if link.dst in bypassed}
        for link in level.links:
            if bypassed and (link.src in bypassed or link.dst in bypassed):
                if link.dst in bypassed:
                    continue  # what feeds a bypassed instance goes on past it, as the links out of it ask
                link = self._past_bypassed(link, bypassed, feeds)
                if link is None:
                    continue
            if link.src not in placed and link.dst not in placed:  # the common case: plain node to plain node
                links.append(link)
                continue
            src = _src(placed, link.src, link.src_port)
            if src is None:
                if link.src in placed:
                    self._no_port(placed[link.src][1], link.src, link.src_port, "output")
                continue
            dsts = _dsts(placed, link.dst, link.dst_port)
            if dsts is None:
                self._no_port(placed[link.dst][1], link.dst, link.dst_port, "input or param")
                continue
            links.extend([_link(Link, (*src, *dst)) for dst in dsts])
        self.flat._order = self._run_order(level, placed)
        return placed

    def _run_order(self, level: Graph, placed: Placed) -> list[str] | None:
        """The flat graph's run order, made from the structure flattening has in hand: `level`'s own order with
        each instance's nodes, in its template's order, in the instance's place. Every flat link runs inside one
        instance (its template's order keeps it) or between two things of the level (the level's order does), so
        this is an order the scheduler may run, without walking the thousand links of the flat graph. None
        (planning walks them) when the level holds a cycle, even one the flat graph does not, or ids clash."""
        outer = topological(level.nodes, level.links)
        if outer is None or self._clash:
            return None
        order: list[str] = []
        for node_id in outer:
            entry = placed.get(node_id)
            if entry is None:
                if not level.nodes[node_id].type.startswith(PREFIX):  # an instance that could not be placed adds none
                    order.append(node_id)
                continue
            ids, template = entry
            if template.order is None:
                return None
            order += [ids[i] for i in template.order]
        return order if len(order) == len(self.flat.nodes) else None

    def _instance(self, node: NodeInstance, level: Graph, scopes: Scopes, stack: tuple[int, ...],
                  placed: Placed) -> None:
        """Put instance `node`'s inner nodes in the flat graph, and the instance in `placed`."""
        fid = node.id
        defn = self._definition(node, scopes, stack)
        if defn is None:
            return
        template = self._template(defn, scopes, stack)
        prefix = fid + "/"
        ids = [prefix + rel for rel in template.ids]
        if node.mode == "mute":
            made = [NodeInstance(i, kind, params.copy(), "mute", {}, title, version)
                    for i, (kind, params, _, title, version) in zip(ids, template.nodes, strict=True)]
        else:
            made = [NodeInstance(i, kind, params.copy(), mode, {}, title, version)
                    for i, (kind, params, mode, title, version) in zip(ids, template.nodes, strict=True)]
        flat_nodes = self.flat.nodes
        if flat_nodes.keys().isdisjoint(ids):
            flat_nodes.update(zip(ids, made, strict=True))
        else:  # another node of the workflow has an id of one inside (made in memory: a file cannot say "a/b")
            for inner in made:
                if inner.id in flat_nodes:
                    self._taken(inner.id)
                else:
                    flat_nodes[inner.id] = inner
        self.flat.links.extend([_link(Link, (ids[a], p, ids[b], q)) for a, p, b, q in template.links])
        instances = self.flat.instances
        instances[fid] = ids
        if template.nested:
            instances.update((prefix + path, [ids[i] for i in inside]) for path, inside in template.nested.items())
        if template.issues:
            self.issues.extend(_under(prefix, issue) for issue in template.issues)
        if node.params or template.defaults:
            self._set_values(template, prefix, made, node, level)
        placed[fid] = (ids, template)

    def _definition(self, node: NodeInstance, scopes: Scopes, stack: tuple[int, ...]) -> SubgraphDef | None:
        """The definition instance `node` names, or None with the problem noted."""
        name = node.type[len(PREFIX):]
        defn = scopes[-1].get(name) or lookup(name, scopes)
        if defn is None:
            known = sorted({n for scope in scopes for n in scope})
            fix = f"defined here: {', '.join(known)}" if known else "this workflow defines no subgraphs"
            self.issues.append(Issue(f"no subgraph named {name!r}; {fix}", node.id, "type"))
            return None
        if id(defn) in stack or len(stack) >= MAX_DEPTH:
            self.issues.append(Issue(f"subgraph {name!r} contains itself; remove the instance that loops back",
                                     node.id, "type"))
            return None
        return defn

    def _bypassed(self, node: NodeInstance, scopes: Scopes, stack: tuple[int, ...],
                  bypassed: dict[str, dict[str, tuple[str | None, str]]]) -> None:
        """A bypassed instance: nothing inside it runs (in this instance; the definition and its other instances
        are untouched), and each output passes on the first input of a compatible type, as a bypassed node's do."""
        defn = self._definition(node, scopes, stack)
        if defn is None:
            return
        cls = instance_class(defn, self.registry, scopes, stack)
        bypassed[node.id] = {out.name: (next((p.name for p in cls.inputs if is_compatible(p.type, out.type)), None),
                                        out.type) for out in cls.outputs}
        self.flat.instances[node.id] = []

    def _past_bypassed(self, link: Link, bypassed: dict, feeds: dict[tuple[str, str], Link]) -> Link | None:
        """`link` from a bypassed instance made to start where the input it passes on is fed (through any number
        of bypassed instances in a row); None, with the problem noted, when nothing can be passed on."""
        src, port, seen = link.src, link.src_port, set()
        while src in bypassed and src not in seen:
            seen.add(src)
            if port not in bypassed[src]:
                self.issues.append(Issue(f"this bypassed subgraph has no output {port!r}", src, port))
                return None
            passed, kind = bypassed[src][port]
            if passed is None:
                self._note(Issue(f"cannot bypass: no input of type {kind} to pass through to output {port!r}; "
                                 "mute the subgraph instead", src, "mode"))
                return None
            feed = feeds.get((src, passed))
            if feed is None:
                self._note(Issue(f"bypassed, so output {port!r} passes on input {passed!r}, which nothing feeds; "
                                 "connect it, or stop bypassing the subgraph", src, passed))
                return None
            src, port = feed.src, feed.src_port
        if src in bypassed:
            return None  # bypassed instances passing each other's outputs round in a loop: the cycle check names it
        return _link(Link, (src, port, link.dst, link.dst_port))

    def _note(self, issue: Issue) -> None:
        if issue not in self.issues:  # once, however many links leave that output
            self.issues.append(issue)

    def _set_values(self, template: _Template, prefix: str, made: list[NodeInstance], node: NodeInstance,
                    level: Graph) -> None:
        """The instance's promoted params, then the defaults of those it leaves unset, on the inner params they
        lead to. A relative path is read against the folder of the file it was written in."""
        given = node.params
        values = [(key, value, level.base_dir) for key, value in given.items()]
        if template.defaults:
            values += [default for default in template.defaults if default[0] not in given]
        here = self.flat.base_dir
        for key, value, written_in in values:
            targets = template.ins.get(key) if key in template.params else None
            if targets is None:
                self.issues.append(Issue(f"subgraph {template.name!r} has no param {key!r} (its params: "
                                         f"{template.param_names()})", node.id, key))
                continue
            if key in template.unknown_targets:
                self.issues.extend(_under(prefix, issue) for issue in template.unknown_targets[key])
            for i, param in targets:
                inner = made[i]
                inner.params[param] = value if written_in == here else self._written_in(
                    inner.type, param, value, written_in)

    def _template(self, defn: SubgraphDef, scopes: Scopes, stack: tuple[int, ...]) -> _Template:
        key = (*stack, id(defn))
        kept = self.templates.get(key)
        if kept is not None and kept[0] is defn:
            return kept[1]
        inner = _Expander(self.registry, Graph(defn.name, self.flat.base_dir), self.templates)
        placed = inner.expand(defn.graph, scopes + (defn.graph.subgraphs,), key)
        flat = inner.flat
        place = {node_id: i for i, node_id in enumerate(flat.nodes)}
        ins: dict[str, list[tuple[int, str]]] = {}
        unknown: dict[str, list[Issue]] = {}
        for spec in [*defn.inputs, *defn.params]:
            targets = ins[spec.name] = []
            for node_id, port in spec.refs:
                found = _dsts(placed, node_id, port)
                if node_id in inner.passing:
                    inner.issues.append(Issue(f"subgraph {defn.name!r}: {spec.name!r} leads into the bypassed "
                                              f"instance {node_id!r} inside it, and a port cannot pass through one; "
                                              "connect around it, or bypass this subgraph's instance instead"))
                elif found is not None:
                    targets += [(place[n], p) for n, p in found if n in place]
                    if node_id not in placed and node_id not in place:
                        inner.issues.append(Issue(f"subgraph {defn.name!r}: {spec.name!r} leads to {node_id}.{port}, "
                                                  "and there is no such node inside; point it at one"))
                elif node_id in placed:  # a promoted param of a nested instance that it does not have
                    nested = placed[node_id][1]
                    unknown.setdefault(spec.name, []).append(Issue(
                        f"subgraph {nested.name!r} has no param {port!r} (its params: {nested.param_names()})",
                        node_id, port))
        outs = {}
        for spec in defn.outputs:
            if spec.refs and spec.refs[0][0] in inner.passing:
                inner.issues.append(Issue(f"subgraph {defn.name!r}: output {spec.name!r} comes from the bypassed "
                                          f"instance {spec.refs[0][0]!r} inside it, and a port cannot pass through "
                                          "one; connect around it, or bypass this subgraph's instance instead"))
            found = _src(placed, *spec.refs[0]) if spec.refs else None
            outs[spec.name] = (place[found[0]], found[1]) if found is not None and found[0] in place else None
        template = _Template(
            defn.name, list(flat.nodes),
            [(n.type, n.params, n.mode, n.title, n.type_version) for n in flat.nodes.values()],
            [(place[link.src], link.src_port, place[link.dst], link.dst_port) for link in flat.links
             if link.src in place and link.dst in place],
            None if (order := flat.run_order()) is None else [place[node_id] for node_id in order],
            {path: [place[m] for m in inside] for path, inside in flat.instances.items()},
            ins, outs, dict.fromkeys(p.name for p in defn.params),
            [(p.name, p.default, defn.graph.base_dir) for p in defn.params if p.default is not None],
            inner.issues, unknown)
        self.templates[key] = (defn, template)
        return template

    def _written_in(self, type_id: str, name: str, value: Any, folder: Path | None) -> Any:
        """`value` of param `name`, a relative path in it made absolute against `folder` when that is not the
        flat graph's (a subgraph file read from another folder)."""
        if folder == self.flat.base_dir or not isinstance(value, str):
            return value
        cls = self.registry.get(type_id)
        param = cls.param(name) if cls is not None else None
        return param.resolve(value, folder) if param is not None and param.is_path else value

    def _rebased(self, type_id: str, params: dict, folder: Path | None) -> dict:
        return {name: self._written_in(type_id, name, value, folder) for name, value in params.items()}

    def _taken(self, fid: str) -> None:
        self._clash = True
        self.issues.append(Issue("this id is taken by a node inside a subgraph instance of that name; "
                                 "rename one of them", fid))

    def _no_port(self, template: _Template, node_id: str, port: str, kind: str) -> None:
        self.issues.append(Issue(f"subgraph {template.name!r} has no {kind} {port!r}", node_id, port))


def _under(prefix: str, issue: Issue) -> Issue:
    """A problem met inside a template, named by its path in the instance."""
    return dataclasses.replace(issue, node_id=prefix + issue.node_id if issue.node_id else prefix.rstrip("/"),
                               through=tuple(prefix + n for n in issue.through))


def _src(placed: Placed, node_id: str, port: str) -> tuple[str, str] | None:
    """Where a link from `node_id`'s output `port` starts in the flat graph; None: an instance without that port."""
    entry = placed.get(node_id)
    if entry is None:
        return node_id, port
    ids, template = entry
    found = template.outs.get(port)
    return (ids[found[0]], found[1]) if found is not None else None


def _dsts(placed: Placed, node_id: str, port: str) -> list[tuple[str, str]] | None:
    """Where a link into `node_id`'s `port` ends in the flat graph; None: an instance without that port."""
    entry = placed.get(node_id)
    if entry is None:
        return [(node_id, port)]
    ids, template = entry
    found = template.ins.get(port)
    return [(ids[i], p) for i, p in found] if found is not None else None


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
