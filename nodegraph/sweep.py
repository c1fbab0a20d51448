"""Sweeps: one workflow run once per combination of param values (`--sweep NODE.PARAM=V1,V2,...`).

A spec is parsed and checked against the graph before anything runs (every problem at once); `expand` makes the
cartesian product; `run_local` runs the variants one after another through one Scheduler, so loaded models and
every cached node upstream of the swept params are shared. Each variant writes into its own subfolder of the
output folder, named after its values."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import Issue, ValidationError
from .graph import Graph
from .registry import NodeRegistry

MAX_VARIANTS = 10_000
VALUES_FILE_MAX_BYTES = 1 << 20  # an @FILE of values is read whole: checked before it is read
_RANGE = re.compile(r"^\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*(?:\.\.\s*(\d+)\s*)?$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
NAME_VALUE_CHARS = 32


@dataclass(frozen=True)
class Axis:
    """One swept param and the values it takes, in order."""

    node_id: str
    param: str
    values: tuple[Any, ...]

    @property
    def ref(self) -> str:
        return f"{self.node_id}.{self.param}"


@dataclass(frozen=True)
class Variant:
    """One combination: the settings it makes and the subfolder it writes into."""

    index: int
    settings: tuple[tuple[str, str, Any], ...]  # (node id, param, value)
    name: str

    @property
    def label(self) -> str:
        return ", ".join(f"{node}.{param}={_show(value)}" for node, param, value in self.settings)

    def apply(self, graph: Graph) -> Graph:
        """A copy of `graph` with this variant's values set."""
        twin = graph.copy()
        for node_id, param, value in self.settings:
            twin.nodes[node_id].params[param] = value
        return twin


@dataclass
class VariantOutcome:
    """What became of one variant: how it ended, the files it wrote, where and how long it took."""

    variant: Variant
    status: str  # succeeded, failed, cancelled
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""
    worker: str = "local"
    attempts: int = 1
    executed: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    loads: int = 0  # models its worker had loaded when it finished (all runs so far)
    round_trip: float = 0.0  # from being sent to its files landing: `seconds` plus the executor's overhead


def parse_sweeps(specs: list[str | tuple[str, list[str]]], graph: Graph, registry: NodeRegistry, *,
                 cwd: Path | None = None) -> list[Axis]:
    """The axes of `--sweep` specs, each value parsed and checked against its param; ValidationError listing every
    problem (unknown node or param, a value out of range, a bad range, an unreadable @FILE) when any is wrong. A
    spec may also be (NODE.PARAM, [value text, ...]), the values taken as they are."""
    cwd = Path.cwd() if cwd is None else Path(cwd)
    issues: list[Issue] = []
    axes: list[Axis] = []
    seen: set[str] = set()
    for spec in specs:
        given = None
        if isinstance(spec, tuple):  # (NODE.PARAM, the value texts): the editor's dialog, one value a line
            target, given = spec
            spec, sep, text = f"{target}=...", "=", ""
        else:
            target, sep, text = spec.partition("=")
        node_id, dot, name = target.strip().partition(".")
        where = f"--sweep {spec!r}" if given is None else f"{target}"
        if not sep or not dot or not node_id or not name:
            issues.append(Issue(f"{where}: expected NODE.PARAM=V1,V2,... (or A..B, or @FILE), e.g. "
                                "sample.seed=1..4"))
            continue
        node = graph.nodes.get(node_id)
        if node is None:
            issues.append(Issue(f"{where}: no node {node_id!r}; nodes are {', '.join(graph.nodes)}"))
            continue
        cls = registry.get(node.type)
        param = cls.param(name) if cls else None
        if param is None:
            known = ", ".join(p.name for p in cls.params) if cls else "unknown"
            issues.append(Issue(f"{where}: {node.type} has no param {name!r} (params: {known})", node_id))
            continue
        link = graph.link_into(node_id, name)
        if link is not None:
            issues.append(Issue(f"{where}: this param is fed by a link from {link.from_ref}; sweep that node "
                                "instead", node_id, name))
            continue
        if f"{node_id}.{name}" in seen:
            issues.append(Issue(f"{where}: {node_id}.{name} is swept twice; give all its values in one --sweep",
                                node_id, name))
            continue
        seen.add(f"{node_id}.{name}")
        texts, problem = (list(given), None if given else "give at least one value") if given is not None \
            else _value_texts(text, param, cwd)
        if problem:
            issues.append(Issue(f"{where}: {problem}", node_id, name))
            continue
        values: list[Any] = []
        for item in texts:
            try:
                value = param.parse(item)
            except ValueError as exc:
                issues.append(Issue(f"{where}: {exc}", node_id, name))
                continue
            value = param.resolve(value, cwd)  # paths typed on the command line are relative to the cwd
            problem = param.check(value)
            if problem:
                issues.append(Issue(f"{where}: {problem}", node_id, name))
                continue
            if value in values:
                issues.append(Issue(f"{where}: {_show(value)} is given twice; give each value once", node_id, name))
                continue
            values.append(value)
        axes.append(Axis(node_id, name, tuple(values)))
    count = 1
    for axis in axes:
        count *= max(1, len(axis.values))
    if count > MAX_VARIANTS:
        issues.append(Issue(f"--sweep makes {count:,} variants, more than {MAX_VARIANTS:,}; sweep fewer values "
                            "or split the sweep"))
    if issues:
        raise ValidationError(issues)
    return axes


def _value_texts(text: str, param, cwd: Path) -> tuple[list[str], str | None]:
    """The value texts of a spec: `@FILE` (one a line), else comma-separated items, each maybe an A..B range."""
    if text.startswith("@"):
        return _read_values_file(text[1:], cwd)
    out: list[str] = []
    for item in text.split(","):
        if not item.strip():
            return [], f"an empty value in {text!r}; separate values with single commas (for text with commas, " \
                       "use @FILE with one value a line)"
        if ".." not in item or param.type is str:
            out.append(item.strip() if param.type is not str else item)
            continue
        if param.type is not int:
            return [], f"{item.strip()!r}: ranges are for whole-number params, and {param.name} takes " \
                       f"{param.type.__name__}; list the values"
        match = _RANGE.match(item)
        if match is None:
            return [], f"{item.strip()!r} is not a range; write A..B or A..B..STEP with whole numbers, e.g. 1..8"
        start, stop, step = int(match[1]), int(match[2]), int(match[3] or 1)
        if step < 1 or stop < start:
            return [], f"{item.strip()!r}: a range goes up, A..B or A..B..STEP with A <= B and STEP >= 1"
        if (stop - start) // step + 1 > MAX_VARIANTS:
            return [], f"{item.strip()!r} holds more than {MAX_VARIANTS:,} values; give a smaller range"
        out += [str(v) for v in range(start, stop + 1, step)]
    return out, None


def _read_values_file(name: str, cwd: Path) -> tuple[list[str], str | None]:
    """One value a line from a text file named relative to the current folder (blank lines skipped)."""
    if not name or "\x00" in name:
        return [], "@FILE needs a file name after the @, e.g. @prompts.txt"
    path = Path(name).expanduser()
    path = path if path.is_absolute() else cwd / path
    if not path.is_file():
        return [], f"@{name}: no such file ({path}); give a text file with one value a line"
    size = path.stat().st_size
    if size > VALUES_FILE_MAX_BYTES:
        return [], f"@{name} is {size:,} bytes, more than the {VALUES_FILE_MAX_BYTES:,} a values file may hold"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        return [], f"@{name} is not UTF-8 text; save it as UTF-8 with one value a line"
    values = [line for line in lines if line.strip()]
    if not values:
        return [], f"@{name} holds no values; write one value a line"
    return values, None


def expand(axes: list[Axis]) -> list[Variant]:
    """Every combination of the axes' values, the first axis changing slowest (so variants that share its value,
    a model say, run next to each other)."""
    if not axes:
        return [Variant(1, (), "")]
    combos = list(itertools.product(*(axis.values for axis in axes)))
    width = len(str(len(combos)))
    short = _short_names(axes)
    variants = []
    for index, combo in enumerate(combos, start=1):
        settings = tuple((axis.node_id, axis.param, value) for axis, value in zip(axes, combo, strict=True))
        parts = [f"{label}-{_safe(value)}" for label, value in zip(short, combo, strict=True)]
        variants.append(Variant(index, settings, f"{index:0{width}d}_" + "_".join(parts)))
    return variants


def _short_names(axes: list[Axis]) -> list[str]:
    """The param name alone where it is unique among the axes, else node.param."""
    names = [axis.param for axis in axes]
    return [axis.param if names.count(axis.param) == 1 else f"{axis.node_id}.{axis.param}" for axis in axes]


def _safe(value: Any) -> str:
    """A value as a short file-name-safe text: paths by their file name, everything else but letters, digits, dot,
    dash and underscore turned into '-'."""
    text = Path(value).stem if isinstance(value, str) and ("/" in value or "\\" in value) else _show(value)
    text = _UNSAFE.sub("-", text).strip("-.") or "value"
    return text[:NAME_VALUE_CHARS].rstrip("-.")


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def validate_variants(graph: Graph, variants: list[Variant], registry: NodeRegistry, plan: list[str],
                      output_dir: Path) -> None:
    """Check every variant as a run would, before any runs; one ValidationError with every variant's problems."""
    from .validate import validate

    issues: list[Issue] = []
    for variant in variants:
        try:
            validate(variant.apply(graph), registry, only=plan or None, output_dir=output_dir / variant.name)
        except ValidationError as exc:
            prefix = f"variant {variant.index} ({variant.label}): " if variant.settings else ""
            issues += [Issue(prefix + issue.message, issue.node_id, issue.field) for issue in exc.issues]
    if issues:
        raise ValidationError(issues)


def run_local(scheduler, graph: Graph, variants: list[Variant], targets: list[str] | None, output_dir: Path,
              on_variant: Callable[[Variant, Callable[[], Any]], Any] | None = None) -> list[VariantOutcome]:
    """Run the variants one after another through `scheduler` (shared caches), each into its own subfolder.

    `on_variant(variant, run)` wraps each run (a progress display); a cancel ends the sweep after the variant
    that was running, and the variants not run are reported cancelled."""
    outcomes: list[VariantOutcome] = []
    for variant in variants:
        if scheduler.cancel_requested and outcomes:
            outcomes.append(VariantOutcome(variant, "cancelled", error="cancelled before it started", worker="-",
                                           attempts=0))
            continue
        scheduler.output_dir = output_dir / variant.name if variant.name else output_dir
        twin = variant.apply(graph)

        def run(twin=twin):
            return scheduler.run(twin, targets, validate_first=False)

        result = on_variant(variant, run) if on_variant else run()
        outcomes.append(VariantOutcome(variant, result.status, list(result.files), result.wall_seconds,
                                       str(result.error or ""), executed=list(result.executed),
                                       cached=list(result.cached), loads=scheduler.resources.loads,
                                       round_trip=result.wall_seconds))
        if result.status == "cancelled":
            scheduler.cancel()  # keeps the request for the variants after it (run() clears it as it starts)
    scheduler.output_dir = output_dir
    return outcomes
