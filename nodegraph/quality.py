"""Checking what a run wrote, and running again on the next seed until it passes: the one loop behind
`kinograph run --check-quality / --retry-on-quality N` and the job server's `quality` option.

The measuring itself is a service of the evaluation pack (`registry.services.check_quality`); this module
only decides what to check, which prompt each file was made from, and which seeds to change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import Issue, ValidationError
from .graph import Graph
from .registry import NodeRegistry

MAX_RETRIES = 20


@dataclass
class QualityOptions:
    """What to check after a run: thresholds by name (the defaults where absent) and how many retries."""

    thresholds: dict[str, float] = field(default_factory=dict)
    retries: int = 0


@dataclass
class Checked:
    """The run that was kept, which attempt it was, and the quality warnings about its files (empty: passed)."""

    result: Any  # scheduler.RunResult
    attempt: int
    attempts: int
    warnings: list[str]

    @property
    def passed(self) -> bool:
        return not self.warnings


def add_arguments(parser) -> None:
    """The quality options of `kinograph run` and `kinograph submit`."""
    parser.add_argument("--check-quality", action="store_true",
                        help="measure every video written and warn about flicker, warp error, stalls or dropped "
                             "frames (the thresholds and their defaults: kinograph eval --help)")
    parser.add_argument("--retry-on-quality", type=int, default=0, metavar="N",
                        help="when the quality check warns, run again with every seed one higher, up to N more "
                             "times (implies --check-quality; every attempt's files are kept)")
    parser.add_argument("--quality-threshold", action="append", default=[], metavar="NAME=VALUE",
                        help="change a --check-quality threshold, e.g. flicker=2.5, or turn on the prompt check "
                             "with alignment=0.2 (repeatable; implies --check-quality)")


def requested(args) -> QualityOptions | None:
    """The quality options given on a command line (not yet checked against the workflow), None when none."""
    if not (args.check_quality or args.quality_threshold or args.retry_on_quality != 0):
        return None
    thresholds: dict[str, float] = {}
    for item in args.quality_threshold:
        name, sep, text = item.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            thresholds[name.strip()] = float(text)
        except ValueError:
            raise ValidationError(f"--quality-threshold {item!r}: expected NAME=NUMBER, e.g. flicker=2.5") from None
    return QualityOptions(thresholds, args.retry_on_quality)


def check_options(registry: NodeRegistry, graph: Graph, plan: list[str], thresholds: Mapping[str, Any],
                  retries: int, fields: tuple[str, str] = ("quality.thresholds", "quality.retries")) -> QualityOptions:
    """The options, checked before anything runs: every problem at once, as a ValidationError whose issues name
    `fields` (where the thresholds and the retries were given: option names on the command line)."""
    threshold_field, retries_field = fields
    issues: list[Issue] = []
    registry.services.require("check_quality", "checking quality")
    if not isinstance(retries, int) or not 0 <= retries <= MAX_RETRIES:
        issues.append(Issue(f"{retries!r}: give how many more attempts, 0 to {MAX_RETRIES}",
                            field=retries_field))
    problems = registry.services.check_quality_thresholds
    for problem in problems(dict(thresholds)) if problems else ():
        issues.append(Issue(problem, field=threshold_field))
    if isinstance(retries, int) and retries > 0 and not seed_params(graph, registry, plan):
        issues.append(Issue("retrying needs a seed to change between attempts, and no node this run uses has a "
                            "seed param set on it; add a seeded node or drop the retries",
                            field=retries_field))
    if issues:
        raise ValidationError(issues)
    return QualityOptions({k: float(v) for k, v in thresholds.items()}, retries)


def seed_params(graph: Graph, registry: NodeRegistry, plan: list[str]) -> list[tuple[str, Any]]:
    """(node id, param) of every seed param set on a node of the plan (not fed by a link)."""
    found = []
    for node_id in plan:
        cls = registry.get(graph.nodes[node_id].type)
        linked = graph.links_into(node_id)
        found += [(node_id, p) for p in (cls.params if cls else ()) if p.kind == "seed" and p.name not in linked]
    return found


def next_seeds(graph: Graph, registry: NodeRegistry, plan: list[str]) -> list[str]:
    """Every seed of the plan one higher (wrapping to its minimum past its maximum); "node.seed=N" for each."""
    changed = []
    for node_id, param in seed_params(graph, registry, plan):
        params = graph.nodes[node_id].params
        value = int(params.get(param.name, param.default)) + 1
        if param.max is not None and value > param.max:
            value = int(param.min or 0)
        params[param.name] = value
        changed.append(f"{node_id}.{param.name}={value}")
    return changed


def file_prompts(graph: Graph, registry: NodeRegistry, written: Mapping[str, list[Path]]) -> dict[Path, str]:
    """The prompt each written file was made from: the `prompt` param of the nearest node upstream of the node
    that wrote it (set on the node, not fed by a link). Files with no prompt upstream are left out."""
    import networkx as nx

    reverse = graph.nx().reverse(copy=False)
    out: dict[Path, str] = {}
    for writer, paths in written.items():
        if writer not in graph.nodes:
            continue
        distances = nx.single_source_shortest_path_length(reverse, writer)
        for node_id in sorted(distances, key=lambda n: (distances[n], n)):
            text = _prompt_of(graph, registry, node_id)
            if text:
                out.update({Path(p): text for p in paths})
                break
    return out


def _prompt_of(graph: Graph, registry: NodeRegistry, node_id: str) -> str:
    cls = registry.get(graph.nodes[node_id].type)
    param = cls.param("prompt") if cls is not None else None
    if param is None or param.type is not str or "prompt" in graph.links_into(node_id):
        return ""
    value = graph.nodes[node_id].params.get("prompt", param.default)
    return value.strip() if isinstance(value, str) else ""


def check_files(registry: NodeRegistry, graph: Graph, result: Any, options: QualityOptions) -> list[str]:
    """The quality warnings about the videos `result` wrote (empty when they all pass)."""
    return check_paths(registry, graph, list(result.files), getattr(result, "written", {}), options)


def check_paths(registry: NodeRegistry, graph: Graph, files: list[Path], written: Mapping[str, list[Path]],
                options: QualityOptions) -> list[str]:
    """The quality warnings about `files`, each checked against the prompt of the node that wrote it (`written`:
    node id -> its files; a file it does not name is checked without a prompt)."""
    checker = registry.services.require("check_quality", "checking quality")
    return checker(list(files), options.thresholds, prompts=file_prompts(graph, registry, written))


def run_checked(run_once: Callable[[], Any], graph: Graph, registry: NodeRegistry, plan: list[str],
                options: QualityOptions, say: Callable[[str, str], None]) -> Checked:
    """Run, check the files, and while they fail and retries are left, run again with every seed one higher.

    Every attempt's files are kept (output names never overwrite). `say(level, line)` hears one line per event,
    level "warning" or "info": each attempt's warnings, the seeds of the next attempt, which attempt passed.
    """
    attempts = 1 + options.retries
    attempt = 1
    while True:
        result = run_once()
        if result.status != "succeeded":
            return Checked(result, attempt, attempts, [])
        warnings = check_files(registry, graph, result, options)
        if not warnings:
            if attempts > 1:
                kept = ", ".join(str(p) for p in result.files) or "no files"
                say("info", f"attempt {attempt} of {attempts} passed the quality check; kept: {kept}")
            return Checked(result, attempt, attempts, [])
        if attempts == 1:
            return Checked(result, attempt, attempts, warnings)
        for line in warnings:
            say("warning", f"attempt {attempt}: {line}")
        if attempt == attempts:
            say("info", f"no attempt of {attempts} passed the quality check; every attempt's files are kept, the last "
                "ones listed below")
            return Checked(result, attempt, attempts, warnings)
        seeds = next_seeds(graph, registry, plan)
        attempt += 1
        say("info", f"attempt {attempt} of {attempts}: running again with {', '.join(seeds)}")
