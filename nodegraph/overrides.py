"""`NODE.PARAM=VALUE` settings on a loaded workflow: the CLI's `--set` and a server job's overrides."""

from __future__ import annotations

from pathlib import Path

from .errors import Issue, ValidationError
from .graph import Graph
from .registry import NodeRegistry


def load_with_overrides(path: str, overrides: list[str], registry: NodeRegistry) -> Graph:
    """The workflow at `path` (a file, or a video that carries one) with `overrides` applied."""
    from .workflow import load_workflow

    graph = load_workflow(path, registry)
    apply_overrides(graph, overrides, registry)
    return graph


def apply_overrides(graph: Graph, overrides: list[str], registry: NodeRegistry,
                    relative_to: Path | None = None) -> None:
    """Apply `NODE.PARAM=VALUE` settings, coerced to each param's type (ValidationError on bad ones).

    A relative path in a value is taken against `relative_to`: the working folder by default (the command line's
    habit); a server job's own folder on the server. A graph with subgraph instances is flattened in place:
    `upscaler.scale` sets a promoted param of the instance first, then `upscaler/resize.method` sets that
    instance's own inner node."""
    from .flatten import flatten_in_place
    from .subgraphs import has_instances

    folder = relative_to if relative_to is not None else Path.cwd()
    inner = [item for item in overrides if "/" in item.partition("=")[0].partition(".")[0]]
    _apply_overrides(graph, [item for item in overrides if item not in inner], registry, folder)
    if has_instances(graph):
        flatten_in_place(graph, registry)
    _apply_overrides(graph, inner, registry, folder)


def _apply_overrides(graph: Graph, overrides: list[str], registry: NodeRegistry, folder: Path) -> None:
    from .flatten import node_class

    issues: list[Issue] = []
    for item in overrides:
        target, sep, text = item.partition("=")
        node_id, dot, name = target.partition(".")
        if not sep or not dot or not node_id or not name:
            issues.append(Issue(f"--set {item!r}: expected NODE.PARAM=VALUE, e.g. save.crf=20"))
            continue
        node = graph.nodes.get(node_id)
        if node is None:
            issues.append(Issue(f"--set {item!r}: no node {node_id!r}; nodes are {', '.join(graph.nodes)}"))
            continue
        cls = node_class(graph, registry, node.type)
        param = cls.param(name) if cls else None
        if param is None:
            known = ", ".join(p.name for p in cls.params) if cls else "unknown"
            issues.append(Issue(f"--set {item!r}: {node.type} has no param {name!r} (params: {known})", node_id))
            continue
        if graph.link_into(node_id, name) is not None:
            link = graph.link_into(node_id, name)
            issues.append(Issue(f"--set {item!r}: this param is fed by a link from {link.from_ref}; "
                                "set that node instead", node_id, name))
            continue
        try:
            value = param.parse(text)
        except ValueError as exc:
            issues.append(Issue(f"--set {item!r}: {exc}", node_id, name))
            continue
        value = param.resolve(value, folder)  # the run's own rule: beside, in the models folders, or an id
        problem = param.check(value)
        if problem:
            issues.append(Issue(f"--set {item!r}: {problem}", node_id, name))
            continue
        node.params[name] = value
    if issues:
        raise ValidationError(issues)
