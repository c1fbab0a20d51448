"""`kinograph run --sweep ... [--executor ...]`: a workflow run once per combination of values, here or elsewhere.

Executors other than this process come from the `kinograph.executors` entry-point group (Ray: executors/ray), so
the engine never imports them. An executor is made by `factory(args, registry)` and has `run_variants(graph,
variants, targets, output_dir, events_for) -> list[VariantOutcome]` and `cancel()`."""

from __future__ import annotations

import argparse
import signal
import sys
from importlib import metadata
from pathlib import Path

from .errors import UsageError, ValidationError
from .graph import Graph
from .sweep import Variant, VariantOutcome, expand, parse_sweeps, run_local, validate_variants

EXECUTOR_GROUP = "kinograph.executors"
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm")
EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_CANCELLED = 0, 1, 2, 130


def add_arguments(run: argparse.ArgumentParser) -> None:
    """The sweep and executor options of `kinograph run`."""
    run.add_argument("--sweep", action="append", default=[], metavar="NODE.PARAM=V1,V2,...",
                     help="run once per value: a list (1,2,3), a whole-number range (1..8, or 0..100..25), or "
                          "@FILE with one value a line; repeat for every combination. Each variant writes into "
                          "its own subfolder named after its values")
    run.add_argument("--contact-sheet", action="store_true",
                     help="after a sweep, tile the variants' videos side by side, labelled with their values, "
                          "into contact_sheet.mp4 and a PNG of its middle frame")
    add_executor_arguments(run, "variants")


def add_executor_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    """--executor, --ray-address, --cpus-per-worker and --shared-dir (for `run` and `serve`; `what` runs)."""
    parser.add_argument("--executor", default="local", metavar="local|ray|ray://HOST:PORT",
                        help=f"where {what} run: this process (default), a Ray started here on demand (ray), or the "
                             "Ray cluster at HOST:PORT, one worker per GPU (needs pip install 'kinograph[ray]')")
    parser.add_argument("--ray-address", default=None, metavar="ADDRESS",
                        help="the Ray cluster to use (ray://HOST:PORT, HOST:PORT or auto); implies --executor ray")
    parser.add_argument("--cpus-per-worker", type=float, default=None, metavar="N",
                        help="on a cluster without GPUs: one worker per N CPUs (default 1); with GPUs there is one "
                             "worker per GPU")
    parser.add_argument("--shared-dir", default=None, metavar="DIR",
                        help="a folder every Ray node sees at the same path: inputs and outputs move through it "
                             "instead of the object store")


def executor_entry_point(args: argparse.Namespace, group: str):
    """None for this process; else the entry point (of `group`) of the executor --executor/--ray-address name,
    the options checked first (ValidationError)."""
    choice = args.executor.strip()
    kind = choice.split("://", 1)[0] if "://" in choice else choice
    if args.ray_address:
        if kind not in ("local", "ray"):
            raise ValidationError(f"--ray-address goes with --executor ray, not {choice!r}")
        kind = "ray"
    if args.cpus_per_worker is not None and args.cpus_per_worker <= 0:
        raise ValidationError(f"--cpus-per-worker {args.cpus_per_worker:g}: give a number of CPUs above 0")
    if kind == "local":
        if args.shared_dir or args.cpus_per_worker is not None:
            raise ValidationError("--shared-dir and --cpus-per-worker are for --executor ray; drop them or add "
                                  "--executor ray")
        return None
    found = {ep.name: ep for ep in metadata.entry_points(group=group)}
    if kind not in found:
        known = ", ".join(["local", *sorted(found)])
        raise ValidationError(f"--executor {choice!r}: no such executor; choose from {known} (ray://HOST:PORT "
                              "for a cluster)")
    return found[kind]


def wanted(args: argparse.Namespace) -> bool:
    """Whether `kinograph run` takes the sweep path (a sweep, or an executor other than this process)."""
    return bool(args.sweep or args.ray_address or args.executor != "local" or args.contact_sheet)


def cmd_sweep(args: argparse.Namespace, registry) -> int:
    """`kinograph run` with a sweep or an executor, the models folders configured and the registry made."""
    from . import quality
    from .overrides import load_with_overrides
    from .prepare import prepare_run, tell_embedded_inputs

    graph = load_with_overrides(args.workflow, args.overrides, registry)
    checks = quality.requested(args)
    if checks is not None and checks.retries:
        raise ValidationError("--retry-on-quality changes seeds between attempts of one run; with --sweep, sweep "
                              "the seed instead (--sweep NODE.seed=1..4)")
    if args.contact_sheet and not args.sweep:
        raise ValidationError("--contact-sheet tiles the variants of a sweep; add --sweep NODE.PARAM=V1,V2,...")
    axes = parse_sweeps(args.sweep, graph, registry)
    variants = expand(axes)
    output_dir = Path(args.output_dir)
    prepared = prepare_run(graph, registry, args.only, output_dir, quality=checks,
                           validate_plan=lambda plan: validate_variants(graph, variants, registry, plan, output_dir))
    targets, plan, checks = prepared.targets, prepared.plan, prepared.quality
    if args.contact_sheet:
        registry.services.require("contact_sheet", "--contact-sheet")
    executor = make_executor(args, registry)
    tell_embedded_inputs(args.workflow, graph, registry, plan)
    if len(variants) > 1:
        print(f"kinograph: {len(variants)} variants on {executor.describe()}", file=sys.stderr)
    outcomes = _run_with_cancel(executor, graph, variants, targets, output_dir, registry)
    return _report(outcomes, args, output_dir, registry, checks, graph, plan)


def make_executor(args: argparse.Namespace, registry):
    """The executor `--executor`/`--ray-address` name: this process, or one from the entry-point group."""
    entry = executor_entry_point(args, EXECUTOR_GROUP)
    return LocalSweepExecutor(registry, args.device) if entry is None else entry.load()(args, registry)


class LocalSweepExecutor:
    """Variants one after another in this process, through one Scheduler (shared models and caches)."""

    def __init__(self, registry, device: str):
        from .scheduler import Scheduler

        self.scheduler = Scheduler(registry, device=device)
        self.registry = registry

    def describe(self) -> str:
        return "this machine, one after another"

    def cancel(self) -> None:
        self.scheduler.cancel()

    @property
    def cancel_requested(self) -> bool:
        return self.scheduler.cancel_requested

    def run_variants(self, graph: Graph, variants: list[Variant], targets, output_dir: Path,
                     events_for) -> list[VariantOutcome]:
        def on_variant(variant: Variant, run):
            unsubscribe = self.scheduler.subscribe(events_for(variant), previews=False)
            try:
                return run()
            finally:
                unsubscribe()

        return run_local(self.scheduler, graph, variants, targets, output_dir, on_variant)


def _run_with_cancel(executor, graph: Graph, variants: list[Variant], targets, output_dir: Path,
                     registry) -> list[VariantOutcome]:
    """Run the variants with progress bars; Ctrl+C or SIGTERM cancels every variant (a second one at once)."""
    from .progress import ProgressReporter

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    asked = []

    def on_interrupt(signum, frame):
        if asked:
            raise KeyboardInterrupt
        asked.append(signum)
        again = "press Ctrl+C again" if signum == signal.SIGINT else "send the signal again"
        print(f"\ncancelling every variant... ({again} to stop at once)", file=sys.stderr)
        executor.cancel()

    for sig in previous:
        signal.signal(sig, on_interrupt)
    reporter = ProgressReporter(graph, registry)
    single = len(variants) == 1

    def events_for(variant: Variant):
        return reporter.on_event if single else reporter.for_variant(variant.name)

    try:
        with reporter:
            return executor.run_variants(graph, variants, targets, output_dir, events_for)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _report(outcomes: list[VariantOutcome], args, output_dir: Path, registry, checks, graph: Graph,
            plan: list[str]) -> int:
    """The summary table, the contact sheet, every file written (stdout), and the exit code."""
    files = [path for outcome in outcomes for path in outcome.files]
    if len(outcomes) > 1:
        print_summary(outcomes)
    else:
        for outcome in outcomes:
            if outcome.error and outcome.status != "succeeded":
                print(f"error: {outcome.error}", file=sys.stderr)
    if args.contact_sheet:
        tiles = []  # the first video of each variant that finished
        for o in outcomes:
            video = next((p for p in o.files if p.suffix.lower() in VIDEO_SUFFIXES), None)
            if o.status == "succeeded" and video is not None:
                tiles.append((o.variant.label, video))
        try:
            files += registry.services.require("contact_sheet", "--contact-sheet")(tiles, output_dir)
        except UsageError as exc:
            print(f"warning: no contact sheet: {exc}", file=sys.stderr)
    for path in files:
        print(path)
    statuses = {o.status for o in outcomes}
    if "cancelled" in statuses:
        print("error: cancelled; results computed so far stay cached", file=sys.stderr)
        return EXIT_CANCELLED
    if "failed" in statuses:
        return EXIT_FAILED
    if checks is not None:
        _check_quality(outcomes, registry, checks, graph, plan)
    return EXIT_OK


def _check_quality(outcomes: list[VariantOutcome], registry, checks, graph: Graph, plan: list[str]) -> None:
    """Check every variant's videos (against its own prompt where one output node wrote them) and say so."""
    from .quality import check_paths

    writers = [n for n in plan if getattr(registry.get(graph.nodes[n].type), "is_output", False)]
    warnings, checked = [], 0
    for outcome in outcomes:
        written = {writers[0]: outcome.files} if len(writers) == 1 else {}
        lines = check_paths(registry, outcome.variant.apply(graph), outcome.files, written, checks)
        warnings += [f"{outcome.variant.name}: {line}" if outcome.variant.name else line for line in lines]
        checked += len(outcome.files)
    for line in warnings:
        print(f"warning: {line}", file=sys.stderr)
    if not warnings:
        print(f"quality check passed for {checked} file(s)", file=sys.stderr)


def print_summary(outcomes: list[VariantOutcome]) -> None:
    """One row a variant: its values, how it ended, its time, where it ran, its files (to stderr)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"sweep: {len(outcomes)} variants", show_lines=False)
    for column in ("#", "values", "status", "seconds", "worker", "files"):
        table.add_column(column)
    for o in outcomes:
        status = o.status if o.attempts <= 1 else f"{o.status} (attempt {o.attempts})"
        detail = ", ".join(p.name for p in o.files) or o.error
        table.add_row(str(o.variant.index), o.variant.label, status, f"{o.seconds:.2f}", o.worker,
                      f"{o.variant.name}/: {detail}" if o.files else detail)
    Console(file=sys.stderr, width=max(100, Console(file=sys.stderr).width)).print(table)
