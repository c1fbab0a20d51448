"""Graph validation: find every problem at once, before anything runs."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from pathlib import Path

from .confine import confinement_issues
from .errors import Issue, ValidationError
from .graph import MODES, Graph
from .media import chunk_frames
from .node import Node
from .params import NodeParams, behind_forwards, resolve_params
from .registry import NodeRegistry
from .sizes import MEMORY_LIMIT_ENV, memory_limit, show_size
from .types import IMAGE, MASK, VIDEO, is_compatible

FRAME_TYPES = (VIDEO, IMAGE, MASK)


def find_issues(graph: Graph, registry: NodeRegistry, only: Iterable[str] | None = None, *,
                output_dir: Path | None = None, input_dirs: list[Path] | None = None,
                unused_definitions: bool = True) -> list[Issue]:
    """Every problem in `graph` (or in the nodes `only` names), in a stable order.

    Paths are confined first (output names to `output_dir`; with `input_dirs`, file params to those folders):
    while any path leaves its folder no node's own check runs, so none touches a file it may not see.
    Subgraph instances are checked flattened: a problem inside one is named by its path (`upscaler/resize`)."""
    from .flatten import flatten_with_issues

    unused = _unused_definition_issues(graph, registry) if only is None and unused_definitions else []
    graph, flat_issues = flatten_with_issues(graph, registry)
    scope = set(graph.nodes) if only is None else set(only)
    issues: list[Issue] = list(graph.load_issues) + flat_issues + unused
    confined = confinement_issues(graph, registry, [n for n in graph.nodes if n in scope],
                                  output_dir=output_dir, input_dirs=input_dirs)
    effective_params: dict[str, NodeParams] = {}  # each node's, made once for the checks, sources and sizes below

    for node in graph.nodes.values():
        if node.id not in scope:
            continue
        if not _NODE_ID_OR_PATH.match(node.id):
            issues.append(Issue("node id must start with a letter and hold only letters, digits, '_' or '-'", node.id))
        if node.mode not in MODES:
            issues.append(Issue(f"mode {node.mode!r} is not one of {', '.join(MODES)}", node.id, "mode"))
        cls = registry.get(node.type)
        if cls is None:
            hint = registry.suggest(node.type)
            fix = f"; did you mean {hint!r}?" if hint else "; run 'kinograph nodes' to list the node types"
            issues.append(Issue(f"unknown node type {node.type!r}{fix}", node.id, "type"))
            continue
        linked = graph.links_into(node.id)
        for name, value in node.params.items():
            param = cls.param(name)
            if param is None:
                known = [p.name for p in cls.params]
                close = difflib.get_close_matches(name, known, n=1)
                takes = ", ".join(known) or "no params"
                fix = f"did you mean {close[0]!r}?" if close else f"{cls.type_id} takes {takes}"
                issues.append(Issue(f"unknown param {name!r}; {fix}", node.id, name))
                continue
            if name in linked:
                continue
            problem = param.check(value)
            if problem:
                issues.append(Issue(problem, node.id, name))
        if node.mode == "normal" and not confined:
            effective = resolve_params(graph, node.id, cls, effective_params)
            for param in cls.params:
                if param.is_path and param.name not in linked:
                    problem = param.models_problem(effective.stated[param.name], graph.base_dir)
                    if problem:
                        issues.append(Issue(problem, node.id, param.name))
            params = effective.values  # checks see what runs
            try:
                for problem in cls.check(params):
                    issues.append(Issue(problem, node.id))
                sources = _sources(graph, registry, linked, effective_params)
                if sources:
                    for problem in cls.check_inputs(params, sources):
                        issues.append(Issue(problem, node.id))
            except Exception as exc:  # a node's own check must not hide the others
                issues.append(Issue(f"param check failed: {exc}", node.id))
        if node.mode != "mute":
            for port in cls.inputs:
                if not port.optional and port.name not in linked:
                    issues.append(Issue(
                        f"required input {port.name!r} ({port.type}) is not connected; "
                        f"connect an output of type {port.type} to it", node.id, port.name))

    for link in graph.links:
        if link.dst not in scope and link.src not in scope:
            continue
        issues.extend(_link_issues(graph, registry, link))

    issues.extend(_bypass_issues(graph, registry, scope))
    cycles = _cycle_issues(graph, registry, scope)
    issues.extend(cycles)
    if not confined and not cycles:
        issues.extend(_memory_issues(graph, registry, scope, effective_params))
    return issues + [i for i in confined if i not in issues]


# A node id, or a node inside a subgraph instance, flattened (`instance/inner`, each part a node id): a run's
# record of a workflow with subgraphs holds these, and loads as it ran. One match a node, as planning is timed.
_NODE_ID_OR_PATH = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*(?:/[A-Za-z][A-Za-z0-9_-]*)*$")


def _unused_definition_issues(graph: Graph, registry: NodeRegistry) -> list[Issue]:
    """Definitions no node instances, checked as one instance named after them would be (`upscale/resize.scale`),
    less the inputs their ports leave for the instance's wires."""
    from .graph import NodeInstance
    from .subgraphs import PREFIX

    used = {node.type[len(PREFIX):] for node in graph.nodes.values() if node.type.startswith(PREFIX)}
    out: list[Issue] = []
    for name, defn in graph.subgraphs.items():
        if name in used:
            continue
        probe = Graph(name, graph.base_dir)
        probe.subgraphs = graph.subgraphs
        probe.nodes[name] = NodeInstance(name, PREFIX + name)
        fed = {(f"{name}/{node}", port) for spec in [*defn.inputs, *defn.params] for node, port in spec.refs}
        out += [issue for issue in find_issues(probe, registry, unused_definitions=False)
                if (issue.node_id, issue.field) not in fed and issue.field != "output folder"]
    return out


def find_notices(graph: Graph, registry: NodeRegistry, only: Iterable[str] | None = None) -> list[Issue]:
    """What the nodes that would run want a person to know before the run (see `Node.notices`)."""
    from .flatten import flatten_with_issues

    graph, _ = flatten_with_issues(graph, registry)
    scope = set(graph.nodes) if only is None else set(only)
    out: list[Issue] = []
    for node in graph.nodes.values():
        cls = registry.get(node.type)
        if node.id not in scope or node.mode != "normal" or cls is None or cls.notices is Node.notices:
            continue
        try:
            out.extend(Issue(text, node.id) for text in cls.notices(resolve_params(graph, node.id, cls).values))
        except Exception as exc:  # a node's own look-up must not stop validation
            out.append(Issue(f"could not check: {exc}", node.id))
    return out


def node_label(graph: Graph, registry: NodeRegistry, node_id: str) -> str:
    """How a message names a node: its title (or its type's name) and its id, "Resize (resize)"."""
    node = graph.nodes[node_id]
    cls = registry.get(node.type)
    return f"{node.title or (cls.display_name() if cls else node.type)} ({node_id})"


def _sources(graph: Graph, registry: NodeRegistry, linked: dict,
             memo: dict[str, NodeParams]) -> dict[str, tuple[str, dict]]:
    """For each linked input: the feeding node's type id and its params (`NodeParams.guesses`); past a node that
    passes that value on (`Node.forwards`), the node behind it.

    `memo` keeps each feeding node's params for the others it feeds (a model feeds three nodes or more)."""
    out: dict[str, tuple[str, dict]] = {}
    for port, link in linked.items():
        src_id, _ = behind_forwards(graph, registry, link.src, link.src_port)
        src = graph.nodes.get(src_id)
        cls = registry.get(src.type) if src else None
        if cls is not None:
            out[port] = (cls.type_id, resolve_params(graph, src_id, cls, memo).guesses)
    return out


def _memory_issues(graph: Graph, registry: NodeRegistry, scope: set[str],
                   memo: dict[str, NodeParams]) -> list[Issue]:
    """Nodes whose frames would not fit in memory, from each node's `frame_size` estimate along the links: a chunk
    holds its input frames and its output frames at once."""
    out: list[Issue] = []
    limit, origin = memory_limit()
    sizes: dict[str, tuple[int, int] | None] = {}
    for node_id in graph.run_order(scope) or []:
        node = graph.nodes[node_id]
        cls = registry.get(node.type)
        if cls is None or node.mode == "mute":
            sizes[node_id] = None
            continue
        inputs = {port: sizes[link.src] for port, link in graph.links_into(node_id).items()
                  if cls.input(port) is not None and cls.input(port).type in FRAME_TYPES and sizes.get(link.src)}
        if node.mode == "bypass":
            sizes[node_id] = next(iter(inputs.values()), None)
            continue
        params = resolve_params(graph, node_id, cls, memo).guesses
        try:
            size = cls.frame_size(params, inputs)
        except ValueError as exc:
            out.append(Issue(str(exc), node_id))
            size = None
        except Exception:  # an estimate that fails is no estimate; the node's own check reports a bad file
            size = None
        if not any(port.type in FRAME_TYPES for port in cls.outputs):
            size = None
        sizes[node_id] = size
        held = [s for s in {*inputs.values(), size} if s]
        needed = sum(w * h * 3 * chunk_frames(w, h) for w, h in held)
        if needed > limit:
            sizes[node_id] = None  # said once, here: the nodes it feeds are not blamed again
            w, h = max(held, key=lambda s: s[0] * s[1])
            out.append(Issue(f"{w}x{h} frames need about {show_size(needed)} at a time here, above the memory "
                             f"limit of {show_size(limit)} ({origin}); use a smaller size, or raise the limit "
                             f"with {MEMORY_LIMIT_ENV} (e.g. {MEMORY_LIMIT_ENV}=64G)", node_id))
    return out


def _link_issues(graph: Graph, registry: NodeRegistry, link) -> list[Issue]:
    where = f"link {link.from_ref} -> {link.to_ref}"
    out: list[Issue] = []
    src = graph.nodes.get(link.src)
    dst = graph.nodes.get(link.dst)
    if src is None:
        out.append(Issue(f"{where}: there is no node {link.src!r}", link.dst if dst else None))
    if dst is None:
        out.append(Issue(f"{where}: there is no node {link.dst!r}", link.src if src else None))
    if out:
        return out
    src_cls, dst_cls = registry.get(src.type), registry.get(dst.type)
    if src_cls is None or dst_cls is None:
        return out  # already reported as unknown type
    src_port = src_cls.output(link.src_port)
    if src_port is None:
        names = ", ".join(p.name for p in src_cls.outputs) or "none"
        out.append(Issue(f"{where}: {src.type} has no output {link.src_port!r} (outputs: {names})", link.src))
    dst_port = dst_cls.input(link.dst_port)
    dst_type = dst_port.type if dst_port else None
    if dst_port is None:
        param = dst_cls.param(link.dst_port)
        if param is not None:
            dst_type = param.port_type
        else:
            names = ", ".join([p.name for p in dst_cls.inputs] + [p.name for p in dst_cls.params]) or "none"
            out.append(Issue(f"{where}: {dst.type} has no input or param {link.dst_port!r} (has: {names})", link.dst))
    if src_port is not None and dst_type is not None and not is_compatible(src_port.type, dst_type):
        out.append(Issue(
            f"{where}: incompatible types, {src_port.type} output cannot feed {dst_type} input",
            link.dst, link.dst_port))
    return out


def _bypass_issues(graph: Graph, registry: NodeRegistry, scope: set[str]) -> list[Issue]:
    out: list[Issue] = []
    for node in graph.nodes.values():
        if node.mode != "bypass" or node.id not in scope:
            continue
        cls = registry.get(node.type)
        if cls is None:
            continue
        used = {lk.src_port for lk in graph.links_from(node.id)}
        for port in cls.outputs:
            if port.name in used and not any(is_compatible(i.type, port.type) for i in cls.inputs):
                out.append(Issue(
                    f"cannot bypass: no input of type {port.type} to pass through to output {port.name!r}; "
                    "mute the node instead", node.id, "mode"))
    return out


def _cycle_issues(graph: Graph, registry: NodeRegistry, scope: set[str]) -> list[Issue]:
    out: list[Issue] = []
    if graph.run_order() is not None:  # the common case, checked cheaply: no cycle at all
        return out
    import networkx as nx  # only for a graph with a cycle, to name it

    g = graph.nx()
    for component in nx.strongly_connected_components(g):
        if len(component) == 1:
            only = next(iter(component))
            if not g.has_edge(only, only):
                continue
        if not component & scope:
            continue
        members = sorted(component)
        try:
            cycle = [u for u, _v, *_ in nx.find_cycle(g.subgraph(members))]
        except nx.NetworkXNoCycle:  # pragma: no cover - a strongly connected component has one
            cycle = members
        path = " -> ".join(node_label(graph, registry, n) for n in cycle + [cycle[0]])
        out.append(Issue(f"a cycle: {path}; a node cannot feed itself, so remove one of these links", cycle[0],
                         through=tuple(cycle)))
    return out


def validate(graph: Graph, registry: NodeRegistry, only: Iterable[str] | None = None, *,
             output_dir: Path | None = None, input_dirs: list[Path] | None = None) -> None:
    """Raise ValidationError listing every problem, or return when the graph is runnable."""
    issues = find_issues(graph, registry, only, output_dir=output_dir, input_dirs=input_dirs)
    if issues:
        raise ValidationError(issues)
