"""Terminal progress for headless runs: rich bars on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import threading

from . import events as ev
from .graph import Graph
from .registry import NodeRegistry
from .run_state import CACHED, FAILED, QUEUED, SKIPPED, STOPPED, NodeState, RunState


class ProgressReporter:
    """Renders scheduler events: one bar per node that does work."""

    def __init__(self, graph: Graph, registry: NodeRegistry, stream=None):
        from rich.console import Console

        self.graph = graph
        self.registry = registry
        self.console = Console(file=stream or sys.stderr)
        self.live = self.console.is_terminal
        self._lock = threading.RLock()
        self._tasks: dict[str, int] = {}
        self._runs: dict[str, RunState] = {}  # by variant prefix: each variant of a sweep is a run of its own
        self._shown: dict[str, str] = {}  # the state last shown of each node (prefixed)
        self._progress = None
        self._prefix = ""  # the variant whose event is being shown (see for_variant)

    def __enter__(self) -> ProgressReporter:
        if self.live:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                TextColumn("{task.fields[note]}"), console=self.console, transient=False)
            self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.stop()

    def _label(self, node_id: str) -> str:
        node = self.graph.nodes.get(node_id)
        return self._prefix + (f"{node_id} ({node.type})" if node else node_id)

    def _task(self, node_id: str) -> int:
        task = self._tasks.get(self._prefix + node_id)
        if task is None:
            task = self._progress.add_task(self._label(node_id), total=None, note="")
            self._tasks[self._prefix + node_id] = task
        return task

    def for_variant(self, name: str):
        """A subscriber for the events of one variant of a sweep: its bars and lines start with `name`."""

        def on_event(event: ev.Event) -> None:
            with self._lock:
                self._prefix = f"[{name}] "
                try:
                    self._on_event(event)
                finally:
                    self._prefix = ""

        return on_event

    def on_event(self, event: ev.Event) -> None:
        with self._lock:
            self._on_event(event)

    def _on_event(self, event: ev.Event) -> None:
        run = self._runs.setdefault(self._prefix, RunState())
        for node_id in run.apply(event):
            node, key = run.nodes[node_id], self._prefix + node_id
            news = self._shown.get(key) != node.state  # lines are printed once per state; bars move on
            self._shown[key] = node.state
            self._show(node_id, node, news)
        if isinstance(event, ev.NodeMessage):
            colour = "cyan" if event.level == "info" else "yellow"
            self._print(f"[{colour}]{event.level}[/]: " if self._progress is not None else f"{event.level}: ",
                        f"{self._prefix}{event.node_id}: {event.message}")

    def _show(self, node_id: str, node: NodeState, news: bool) -> None:
        """One node's bar (a terminal) or line (plain output), from its state; `news` when that state is new."""
        if node.state == SKIPPED:
            if news and node.reason != "muted":
                tag = "[yellow]skipped[/]: " if self._progress is not None else "skipped: "
                self._print(tag, f"{self._prefix}{node_id}: {node.reason}")
            return
        if node.state == QUEUED:
            return
        if self._progress is None:
            if news and node.ended:
                note = "failed" if node.state == FAILED else "cached" if node.state == CACHED else (
                    "stopped partway" if node.state == STOPPED else f"done in {node.seconds:.2f}s")
                print(f"{self._label(node_id)}: {note}", file=self.console.file, flush=True)
            return
        task = self._task(node_id)
        if node.state == FAILED:
            self._progress.update(task, note="[red]failed")
        elif node.state == STOPPED:  # its bar stays where the cancel left it
            self._progress.update(task, note="[yellow]stopped partway")
        elif node.ended:  # a bar without a count fills up when its node is done
            note = "cached" if node.state == CACHED else f"{node.seconds:.2f}s"
            self._progress.update(task, total=node.total or 1, completed=node.done if node.total else 1, note=note)
        elif node.done or node.total:
            self._progress.update(task, completed=node.done, total=node.total or None)

    def _print(self, tag: str, line: str) -> None:
        if self._progress is not None:
            self.console.print(tag + line)
        else:
            print(tag + line, file=self.console.file, flush=True)
