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

from . import __version__, models_dir
from .commands import entry_point_commands
from .errors import KinographError, NodeExecutionError, ValidationError, WorkflowError
from .graph import Graph
from .registry import NodeRegistry, default_registry

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_CANCELLED = 0, 1, 2, 130
BUILTIN = ("run", "validate", "nodes")
NOTHING_TO_RUN = "nothing to run: the workflow has no output nodes (add video.save, say) "


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
    run.add_argument("--check-quality", action="store_true",
                     help="measure every video written and warn about flicker, warp error, stalls or dropped "
                          "frames (the thresholds and their defaults: kinograph eval --help)")
    run.add_argument("--retry-on-quality", type=int, default=0, metavar="N",
                     help="when the quality check warns, run again with every seed one higher, up to N more times "
                          "(implies --check-quality; every attempt's files are kept)")
    run.add_argument("--quality-threshold", action="append", default=[], metavar="NAME=VALUE",
                     help="change a --check-quality threshold, e.g. flicker=2.5 (repeatable; implies "
                          "--check-quality)")
    models_dir.add_argument(run)
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


# -- loading and overrides --------------------------------------------------------------


def load_with_overrides(path: str, overrides: list[str], registry: NodeRegistry) -> Graph:
    from .workflow import load_workflow

    graph = load_workflow(path, registry)
    apply_overrides(graph, overrides, registry)
    return graph


def apply_overrides(graph: Graph, overrides: list[str], registry: NodeRegistry) -> None:
    """Apply `NODE.PARAM=VALUE` settings, coerced to each param's type (ValidationError on bad ones).

    A graph with subgraph instances is flattened in place: `upscaler.scale` sets a promoted param of the
    instance first, then `upscaler/resize.method` sets that instance's own inner node."""
    from .flatten import flatten_in_place
    from .subgraphs import has_instances

    inner = [item for item in overrides if "/" in item.partition("=")[0].partition(".")[0]]
    _apply_overrides(graph, [item for item in overrides if item not in inner], registry)
    if has_instances(graph):
        flatten_in_place(graph, registry)
    _apply_overrides(graph, inner, registry)


def _apply_overrides(graph: Graph, overrides: list[str], registry: NodeRegistry) -> None:
    from .errors import Issue
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
        value = param.resolve(value, Path.cwd())  # paths typed on the command line are relative to the cwd
        problem = param.check(value)
        if problem:
            issues.append(Issue(f"--set {item!r}: {problem}", node_id, name))
            continue
        node.params[name] = value
    if issues:
        raise ValidationError(issues)


# -- commands ---------------------------------------------------------------------------


def cmd_validate(args) -> int:
    from .validate import find_notices, validate

    models_dir.configure(args.models_dir)
    registry = default_registry()
    from .scheduler import Scheduler

    graph = load_with_overrides(args.workflow, args.overrides, registry)
    validate(graph, registry, output_dir=Path(args.output_dir))  # every node, not only those a run needs
    if not Scheduler(registry).plan(graph):  # as `run` says it
        raise ValidationError(NOTHING_TO_RUN + "and no --only was given")
    print(f"{args.workflow}: valid ({len(graph.nodes)} nodes, {len(graph.links)} links)")
    for notice in find_notices(graph, registry):
        print(f"note: {notice}")
    return EXIT_OK


def cmd_run(args) -> int:
    from .progress import ProgressReporter
    from .scheduler import Scheduler
    from .validate import validate

    models_dir.configure(args.models_dir)
    registry = default_registry()
    graph = load_with_overrides(args.workflow, args.overrides, registry)
    if args.retry_on_quality < 0:
        raise ValidationError(f"--retry-on-quality {args.retry_on_quality}: give how many more attempts, 0 or more")
    check_quality = args.check_quality or bool(args.quality_threshold) or args.retry_on_quality > 0
    thresholds = _quality_thresholds(registry, args.quality_threshold) if check_quality else None
    scheduler = Scheduler(registry, device=args.device, output_dir=args.output_dir)
    for node_id in args.only:
        if node_id not in graph.nodes and node_id not in graph.instances:
            raise ValidationError(f"--only {node_id!r}: no such node; nodes are {', '.join(graph.nodes)}")
    targets = args.only or None
    plan = scheduler.plan(graph, targets)
    validate(graph, registry, only=plan or None, output_dir=Path(args.output_dir))
    if not plan:
        raise ValidationError(NOTHING_TO_RUN + "and no --only was given")
    _tell_embedded_inputs(args.workflow, graph, registry, plan)
    if args.retry_on_quality and not _seed_params(graph, registry, plan):
        raise ValidationError("--retry-on-quality needs a seed to change between attempts, and no node this run "
                              "uses has a seed param set on it; add a seeded node or drop the option")

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
    attempt, attempts = 1, 1 + args.retry_on_quality
    try:
        while True:
            reporter = ProgressReporter(graph, registry)
            unsubscribe = scheduler.subscribe(reporter.on_event, previews=False)  # a terminal shows no pictures
            try:
                with reporter:
                    result = scheduler.run(graph, targets, validate_first=False)
            finally:
                unsubscribe()
            if attempts == 1 or result.status != "succeeded":
                break
            warnings = registry.services["check_quality"](list(result.files), thresholds)
            if not warnings:
                print(f"attempt {attempt} of {attempts} passed the quality check; kept: "
                      f"{', '.join(str(p) for p in result.files) or 'no files'}", file=sys.stderr)
                return _finish(result, args, check_quality=False, thresholds=None, registry=registry)
            for line in warnings:
                print(f"warning: attempt {attempt}: {line}", file=sys.stderr)
            if attempt == attempts:
                print(f"no attempt of {attempts} passed the quality check; every attempt's files are kept, the "
                      "last ones listed below", file=sys.stderr)
                break
            seeds = _next_seeds(graph, registry, plan)
            attempt += 1
            print(f"attempt {attempt} of {attempts}: running again with {', '.join(seeds)}", file=sys.stderr)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return _finish(result, args, check_quality and attempts == 1, thresholds, registry)


def _seed_params(graph: Graph, registry: NodeRegistry, plan: list[str]) -> list[tuple[str, Any]]:
    """(node id, param) of every seed param set on a node of the plan (not fed by a link)."""
    found = []
    for node_id in plan:
        cls = registry.get(graph.nodes[node_id].type)
        linked = graph.links_into(node_id)
        found += [(node_id, p) for p in (cls.params if cls else ()) if p.kind == "seed" and p.name not in linked]
    return found


def _next_seeds(graph: Graph, registry: NodeRegistry, plan: list[str]) -> list[str]:
    """Every seed of the plan one higher (wrapping to its minimum past its maximum); "node.seed=N" for each."""
    changed = []
    for node_id, param in _seed_params(graph, registry, plan):
        params = graph.nodes[node_id].params
        value = int(params.get(param.name, param.default)) + 1
        if param.max is not None and value > param.max:
            value = int(param.min or 0)
        params[param.name] = value
        changed.append(f"{node_id}.{param.name}={value}")
    return changed


def _finish(result, args, check_quality: bool, thresholds, registry: NodeRegistry) -> int:
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
    if check_quality:
        return _check_quality(registry, result.files, thresholds)
    return EXIT_OK


def _tell_embedded_inputs(source: str, graph: Graph, registry: NodeRegistry, plan: list[str]) -> None:
    """A workflow taken from a video (perhaps someone else's): say which files it will read before it runs."""
    from .workflow import is_workflow_text

    if is_workflow_text(source):
        return
    reads = sorted({graph.resolve_path(value) for node_id in plan
                    for param, value in _path_values(graph, registry, node_id)})
    listed = "".join(f"\n  {path}" for path in reads) or " none"
    print(f"kinograph: running the workflow embedded in {source}; it reads these files:{listed}", file=sys.stderr)


def _path_values(graph: Graph, registry: NodeRegistry, node_id: str):
    """(param, value) of the file params a node has set (not model ids, not fed by links)."""
    node = graph.nodes[node_id]
    cls = registry.get(node.type)
    linked = graph.links_into(node_id)
    for param in cls.params if cls else ():
        value = node.params.get(param.name, param.default)
        if param.is_path and param.name not in linked and isinstance(value, str) and value \
                and not param.names_model_id(value, graph.base_dir):
            yield param, value


def _parse_thresholds(items: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        name, sep, text = item.partition("=")
        try:
            if not sep or not name:
                raise ValueError
            out[name.strip()] = float(text)
        except ValueError:
            raise ValidationError(f"--quality-threshold {item!r}: expected NAME=NUMBER, e.g. flicker=2.5") from None
    return out


def _quality_thresholds(registry: NodeRegistry, items: list[str]) -> dict[str, float]:
    """The --quality-threshold overrides, checked before anything runs (names and numbers)."""
    thresholds = _parse_thresholds(items)
    problems = registry.services.get("check_quality_thresholds")
    if problems is None or "check_quality" not in registry.services:
        raise ValidationError("--check-quality needs the evaluation node pack, which is not installed")
    found = problems(thresholds)
    if found:
        raise ValidationError(found)
    return thresholds


def _check_quality(registry: NodeRegistry, files: list[Path], thresholds: dict[str, float] | None) -> int:
    checker = registry.services["check_quality"]
    warnings = checker(list(files), thresholds)
    for line in warnings:
        print(f"warning: {line}", file=sys.stderr)
    if not warnings:
        print(f"quality check passed for {len(files)} file(s)", file=sys.stderr)
    return EXIT_OK


def node_catalogue(registry: NodeRegistry, extra: list[tuple[str, list]] = ()) -> list[dict[str, Any]]:
    """Every node type as plain data (for `kinograph nodes --json` and servers); `extra`: more (category,
    classes), e.g. a workflow's subgraphs."""
    out = []
    for category, classes in [*registry.by_category(), *extra]:
        for cls in classes:
            out.append({
                "type": cls.type_id,
                "version": cls.version,
                "title": cls.display_name(),
                "category": category,
                "description": cls.description(),
                "output_node": cls.is_output,
                "inputs": [{"name": p.name, "type": p.type, "optional": p.optional} for p in cls.inputs],
                "outputs": [{"name": p.name, "type": p.type} for p in cls.outputs],
                "params": [{
                    "name": p.name, "type": p.type.__name__, "default": p.default, "min": p.min, "max": p.max,
                    "choices": list(p.choices) if p.choices else None, "kind": p.kind, "tooltip": p.tooltip,
                    "models": list(p.models),  # the models-folder kinds it takes names from
                } for p in cls.params],
            })
    return out


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
