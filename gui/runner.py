"""Runs graphs on a worker thread through one Scheduler per window (so re-runs are partial)."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from nodegraph import Scheduler
from nodegraph.errors import KinographError
from nodegraph.graph import Graph
from nodegraph.registry import NodeRegistry

from .bridge import EventBridge


class RunController(QObject):
    """Starts runs on a worker thread; `run_done` brings back a RunResult or the error that stopped it."""

    run_done = Signal(object)
    _worker_done = Signal(int, object)  # generation, result: a run forgotten meanwhile reports nothing

    def __init__(self, registry: NodeRegistry, device: str = "auto", output_dir: str | Path = "outputs", parent=None):
        super().__init__(parent)
        self.scheduler = Scheduler(registry, device=device, output_dir=output_dir)
        self.bridge = EventBridge(self)
        self.bridge.attach(self.scheduler)
        self.outputs: dict[str, dict] = {}
        self.last_result = None
        self._thread: threading.Thread | None = None
        self._generation = 0
        self._worker_done.connect(self._on_worker_done)

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, graph: Graph, targets: list[str] | None = None, force: list[str] | None = None) -> bool:
        """Run a snapshot of `graph` (edits made during the run do not race it); `force` as Scheduler.run."""
        if self.busy:
            return False
        snapshot = graph.copy()
        self._thread = threading.Thread(target=self._work, args=(snapshot, targets, force, self._generation),
                                        name="kinograph-run",
                                        daemon=True)
        self._thread.start()
        return True

    def _work(self, graph: Graph, targets, force, generation: int) -> None:
        try:
            result = self.scheduler.run(graph, targets, force=force)
        except (KinographError, KeyError) as exc:
            result = exc
        except Exception as exc:  # an engine bug must not kill the window
            result = exc
        self._worker_done.emit(generation, result)

    def _on_worker_done(self, generation: int, result) -> None:
        if generation != self._generation:
            return  # the document changed since this run started: its results belong to no node shown
        if not isinstance(result, BaseException):
            self.outputs.update(result.outputs)
            self.last_result = result
        self.run_done.emit(result)

    def forget(self) -> None:
        """Drop the results of earlier runs (a new document starts with none)."""
        self._generation += 1
        self.bridge.discard()
        self.outputs.clear()
        self.last_result = None

    def cancel(self) -> None:
        self.scheduler.cancel()

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
