"""Preparing a run, one way for the CLI and the server: targets checked, the plan made, options and graph validated."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import Issue, ValidationError
from .graph import Graph
from .params import resolve_params
from .planning import plan as plan_of
from .quality import QualityOptions, check_options
from .registry import NodeRegistry
from .validate import validate

NOTHING_TO_RUN = "nothing to run: the workflow has no output nodes (add video.save, say) "


@dataclass(frozen=True)
class Wording:
    """How a caller's messages name what it was given: the CLI's options, or the fields of a server's request."""

    target: str  # a target that is no node, formatted with its id
    no_targets: str  # ends NOTHING_TO_RUN
    quality_fields: tuple[str, str]  # where the quality thresholds and retries were given


CLI_WORDING = Wording("--only {!r}", "no --only was given", ("--quality-threshold", "--retry-on-quality"))
SERVER_WORDING = Wording("targets: {!r}", "no targets were given", ("quality.thresholds", "quality.retries"))


@dataclass(frozen=True)
class PreparedRun:
    """A graph ready to run: the `targets` asked for (None: every output node), the `plan` a run of them visits,
    and the quality options checked (None when none were asked for)."""

    graph: Graph
    targets: list[str] | None
    plan: list[str]
    quality: QualityOptions | None = None


def prepare_run(graph: Graph, registry: NodeRegistry, targets: Iterable[str] | None, output_dir: Path | None, *,
                input_dirs: list[Path] | None = None, quality: Any = None, wording: Wording = CLI_WORDING,
                validate_plan: Callable[[list[str]], None] | None = None) -> PreparedRun:
    """Check `targets`, plan the run, check the `quality` options (anything with `thresholds` and `retries`) and
    validate what the plan visits (writing into `output_dir`; with `input_dirs`, reading only from those, as a server
    does). `validate_plan(plan)` replaces that validation (a sweep validates each of its variants).

    Raises ValidationError (naming what was given as `wording` says) or WorkflowError; the graph is unchanged."""
    targets = list(targets) if targets else None
    for node_id in targets or ():
        if node_id not in graph.nodes and node_id not in graph.instances:
            raise ValidationError(Issue(f"no such node; nodes are {', '.join(graph.nodes) or 'none'}",
                                        field=wording.target.format(node_id)))
    plan = plan_of(graph, registry, targets)
    checked = None
    if quality is not None:
        checked = check_options(registry, graph, plan, quality.thresholds, quality.retries,
                                fields=wording.quality_fields)
    if validate_plan is not None:
        validate_plan(plan)
    else:
        validate(graph, registry, only=plan or None, output_dir=output_dir, input_dirs=input_dirs)
    if not plan:
        raise ValidationError(NOTHING_TO_RUN + "and " + wording.no_targets)
    return PreparedRun(graph, targets, plan, checked)


def tell_embedded_inputs(source: str, graph: Graph, registry: NodeRegistry, plan: list[str]) -> None:
    """A workflow taken from a video (perhaps someone else's): say on stderr which files it will read before it runs."""
    from .workflow import is_workflow_text

    if is_workflow_text(source):
        return
    reads = sorted({path for node_id in plan for path in _files_read(graph, registry, node_id)})
    listed = "".join(f"\n  {path}" for path in reads) or " none"
    print(f"kinograph: running the workflow embedded in {source}; it reads these files:{listed}", file=sys.stderr)


def _files_read(graph: Graph, registry: NodeRegistry, node_id: str):
    """The files a node's file params name, where the run reads them (not model ids, not params fed by links)."""
    cls = registry.get(graph.nodes[node_id].type)
    if cls is None:
        return
    effective = resolve_params(graph, node_id, cls)
    for param in cls.params:
        value = effective.stated[param.name]
        if param.is_path and param.name not in effective.linked and isinstance(value, str) and value \
                and not param.names_model_id(value, graph.base_dir):
            yield effective.resolved(param.name)
