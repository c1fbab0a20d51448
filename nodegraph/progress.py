"""Terminal progress for headless runs: rich bars on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import threading

from . import events as ev
from .graph import Graph
from .registry import NodeRegistry


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
        if self._progress is None:
            self._plain(event)
            return
        if isinstance(event, ev.NodeStarted):
            self._task(event.node_id)
        elif isinstance(event, ev.NodeProgress):
            self._progress.update(self._task(event.node_id), completed=event.done, total=event.total or None)
        elif isinstance(event, ev.NodeFinished):
            task = self._task(event.node_id)
            note = "cached" if event.cached else f"{event.seconds:.2f}s"
            current = self._progress.tasks[task] if task < len(self._progress.tasks) else None
            total = current.total if current and current.total else 1
            completed = current.completed if current and current.total else 1
            self._progress.update(task, total=total, completed=completed, note=note)
        elif isinstance(event, ev.NodeFailed):
            self._progress.update(self._task(event.node_id), note="[red]failed")
        elif isinstance(event, ev.NodeMessage):
            colour = "cyan" if event.level == "info" else "yellow"
            self.console.print(f"[{colour}]{event.level}[/]: {self._prefix}{event.node_id}: {event.message}")
        elif isinstance(event, ev.NodeSkipped) and event.reason != "muted":
            self.console.print(f"[yellow]skipped[/]: {self._prefix}{event.node_id}: {event.reason}")

    def _plain(self, event: ev.Event) -> None:
        if isinstance(event, ev.NodeFinished):
            note = "cached" if event.cached else f"done in {event.seconds:.2f}s"
            print(f"{self._label(event.node_id)}: {note}", file=self.console.file, flush=True)
        elif isinstance(event, ev.NodeFailed):
            print(f"{self._label(event.node_id)}: failed", file=self.console.file, flush=True)
        elif isinstance(event, ev.NodeMessage):
            print(f"{event.level}: {self._prefix}{event.node_id}: {event.message}", file=self.console.file, flush=True)
        elif isinstance(event, ev.NodeSkipped) and event.reason != "muted":
            print(f"skipped: {self._prefix}{event.node_id}: {event.reason}", file=self.console.file, flush=True)
