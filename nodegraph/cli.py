"""The `kinograph` command line: run, validate and list nodes; more commands come from entry points."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

from . import __version__, models_dir, quality, sweep_command
from .catalogue import node_catalogue
from .commands import entry_point_commands
from .errors import KinographError, NodeExecutionError, ValidationError, WorkflowError
from .overrides import apply_overrides, load_with_overrides
from .prepare import CLI_WORDING, NOTHING_TO_RUN, prepare_run, tell_embedded_inputs
from .registry import default_registry

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_CANCELLED = 0, 1, 2, 130
BUILTIN = ("run", "validate", "nodes")
__all__ = ["NOTHING_TO_RUN", "apply_overrides", "load_with_overrides", "main", "node_catalogue"]  # kept for callers


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one clear line, exit 2
        self.print_usage(sys.stderr)
        self.exit(EXIT_INVALID, f"kinograph: error: {message}\n")


def build_parser(extra: dict[str, Any] | None = None) -> argparse.ArgumentParser:
    parser = _Parser(prog="kinograph", description="Kinograph: a node-based video generation workbench.")
    parser.add_argument("--version", action="version", version=f"kinograph {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = sub.add_parser("run", help="run a workflow headless (a .json file or a video Kinograph saved)")
    run.add_argument("workflow", help="workflow file, or a video with an embedded workflow")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="NODE.PARAM=VALUE",
                     help="override a param (repeatable)")
    run.add_argument("--output-dir", default="outputs", help="where outputs go (default: ./outputs)")
    run.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    run.add_argument("--only", action="append", default=[], metavar="NODE",
                     help="run only what this node needs (repeatable); default: every output node")
    quality.add_arguments(run)
    models_dir.add_argument(run)
    sweep_command.add_arguments(run)
    run.add_argument("--verbose", "-v", action="store_true", help="add tracebacks to errors")

    val = sub.add_parser("validate", help="check a workflow without running it")
    val.add_argument("workflow")
    val.add_argument("--set", dest="overrides", action="append", default=[], metavar="NODE.PARAM=VALUE")
    models_dir.add_argument(val)
    val.add_argument("--output-dir", default="outputs", help="the output folder a run would use (default: ./outputs)")
    val.add_argument("--verbose", "-v", action="store_true")

    nodes = sub.add_parser("nodes", help="list the node catalogue")
    nodes.add_argument("workflow", nargs="?", help="also list this workflow's subgraphs, as the node types they are")
    nodes.add_argument("--json", action="store_true", help="machine-readable output")

    for name, command in (extra or {}).items():
        p = sub.add_parser(name, help=getattr(command, "help", ""))
        command.add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        argv = ["gui"]
    commands = entry_point_commands()
    extra: dict[str, Any] = {}
    wanted = argv[0]
    names = [wanted] if wanted in commands else (list(commands) if wanted in ("-h", "--help") else [])
    for name in names:
        try:
            extra[name] = commands[name].load()
        except Exception as exc:
            if name == wanted:
                print(f"kinograph: the '{name}' command could not be loaded: {exc}", file=sys.stderr)
                return EXIT_INVALID
    args = build_parser(extra).parse_args(argv)
    if args.command in extra:
        return _guard(lambda: extra[args.command].run(args), getattr(args, "verbose", False))
    handler = {"run": cmd_run, "validate": cmd_validate, "nodes": cmd_nodes}.get(args.command)
    if handler is None:
        build_parser(extra).print_help(sys.stderr)
        return EXIT_INVALID
    configure_logging()
    return _guard(lambda: handler(args), getattr(args, "verbose", False))


class PrintedOnce(logging.Filter):
    """Drops a record that a library's own handler has already printed: huggingface_hub, for one, keeps a
    handler of its own and still passes its records up, so each of its retry warnings showed twice."""

    def filter(self, record: logging.LogRecord) -> bool:
        logger: logging.Logger | None = logging.getLogger(record.name)
        while logger is not None and logger is not logging.root:
            if logger.handlers:
                return False
            if not logger.propagate:
                break
            logger = logger.parent
        return True


def configure_logging() -> None:
    """Warnings and errors from anywhere, one line each on stderr, each printed once."""
    if logging.root.handlers:  # configured already (by the caller, or a test harness)
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(PrintedOnce())
    logging.root.addHandler(handler)
    logging.root.setLevel(logging.WARNING)


def _guard(fn, verbose: bool) -> int:
    try:
        return int(fn() or 0)
    except (WorkflowError, ValidationError) as exc:
        _error(str(exc))
        return EXIT_INVALID
    except KinographError as exc:
        _error(str(exc))
        if verbose:
            traceback.print_exc()
        return EXIT_FAILED
    except KeyboardInterrupt:
        _error("cancelled")
        return EXIT_CANCELLED


def _error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


# -- commands ---------------------------------------------------------------------------


def cmd_validate(args) -> int:
    from .planning import plan
    from .validate import find_notices, validate

    models_dir.configure(args.models_dir)
    registry = default_registry()
    graph = load_with_overrides(args.workflow, args.overrides, registry)
    validate(graph, registry, output_dir=Path(args.output_dir))  # every node, not only those a run needs
    if not plan(graph, registry):  # as `run` says it
        raise ValidationError(NOTHING_TO_RUN + "and " + CLI_WORDING.no_targets)
    print(f"{args.workflow}: valid ({len(graph.nodes)} nodes, {len(graph.links)} links)")
    for notice in find_notices(graph, registry):
        print(f"note: {notice}")
    return EXIT_OK


def cmd_run(args) -> int:
    models_dir.configure(args.models_dir)
    registry = default_registry()
    if sweep_command.wanted(args):
        return sweep_command.cmd_sweep(args, registry)
    from .progress import ProgressReporter
    from .scheduler import Scheduler

    graph = load_with_overrides(args.workflow, args.overrides, registry)
    prepared = prepare_run(graph, registry, args.only, Path(args.output_dir), quality=quality.requested(args))
    targets, plan, checks = prepared.targets, prepared.plan, prepared.quality
    tell_embedded_inputs(args.workflow, graph, registry, plan)
    scheduler = Scheduler(registry, device=args.device, output_dir=args.output_dir)

    # Ctrl+C and SIGTERM (a service manager, `kill`) both cancel: nodes stop at their next check and remove
    # their half-written files. A second signal stops at once (the writers still clean up as it unwinds).
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def on_interrupt(signum, frame):
        if scheduler.cancel_requested:
            raise KeyboardInterrupt
        again = "press Ctrl+C again" if signum == signal.SIGINT else "send the signal again"
        print(f"\ncancelling... ({again} to stop at once)", file=sys.stderr)
        scheduler.cancel()

    for sig in previous:
        signal.signal(sig, on_interrupt)

    def run_once():
        reporter = ProgressReporter(graph, registry)
        unsubscribe = scheduler.subscribe(reporter.on_event, previews=False)  # a terminal shows no pictures
        try:
            with reporter:
                return scheduler.run(graph, targets, validate_first=False)
        finally:
            unsubscribe()

    def say(level: str, line: str) -> None:
        print(f"warning: {line}" if level == "warning" else line, file=sys.stderr)

    try:
        if checks is None:
            return _finish(run_once(), args)
        checked = quality.run_checked(run_once, graph, registry, plan, checks, say)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    code = _finish(checked.result, args)
    if code == EXIT_OK and checked.attempts == 1:
        for line in checked.warnings:
            say("warning", line)
        if not checked.warnings:
            print(f"quality check passed for {len(checked.result.files)} file(s)", file=sys.stderr)
    return code


def _finish(result, args) -> int:
    """Print a run's outcome (files, errors) and its exit code."""
    for node_id, outputs in result.outputs.items():
        summary = outputs.get("summary") if isinstance(outputs, dict) else None
        if isinstance(summary, str) and summary:
            print(f"{node_id}: {summary}", file=sys.stderr)
    for path in result.files:
        print(path)
    if result.status == "cancelled":
        _error("cancelled; results computed so far stay cached")
        return EXIT_CANCELLED
    if result.status == "failed":
        error = result.error
        _error(str(error))
        if args.verbose and isinstance(error, NodeExecutionError) and error.cause is not None:
            traceback.print_exception(error.cause, file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def cmd_nodes(args) -> int:
    registry = default_registry()
    extra = []
    if args.workflow:
        from .flatten import instance_class
        from .workflow import load_workflow

        graph = load_workflow(args.workflow, registry)
        scopes = (graph.subgraphs,)
        extra = [("Subgraphs", [instance_class(d, registry, scopes) for d in graph.subgraphs.values()])]
    catalogue = node_catalogue(registry, extra)
    if args.json:
        print(json.dumps(catalogue, indent=2, default=str))
        return EXIT_OK
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(catalogue)} node types", show_lines=False)
    for column in ("category", "type", "inputs", "outputs", "params"):
        table.add_column(column)
    for entry in catalogue:
        table.add_row(
            entry["category"], entry["type"],
            ", ".join(f"{p['name']}:{p['type']}" + ("?" if p["optional"] else "") for p in entry["inputs"]),
            ", ".join(f"{p['name']}:{p['type']}" for p in entry["outputs"]),
            ", ".join(p["name"] for p in entry["params"]),
        )
    Console().print(table)
    for problem in registry.pack_errors:
        print(f"warning: {problem}", file=sys.stderr)
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
