"""Runs graphs on a worker thread through one Scheduler per window (so re-runs are partial), one after another
from a queue: Run while a run is going queues a snapshot of the graph as it is then."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from nodegraph import Scheduler
from nodegraph.errors import KinographError
from nodegraph.graph import Graph
from nodegraph.registry import NodeRegistry

from .bridge import EventBridge

# The native libraries a first run's nodes import (OpenCV, PyAV, the C2PA signer). Importing one holds Python's
# lock for tens of milliseconds at a time, which froze the editor at the start of its first run; they are imported
# once, on a background thread, when the first window opens instead.
WARM_MODULES = ("cv2", "av", "c2pa")
_warming: list[threading.Thread] = []


def warm_media_libraries() -> threading.Thread:
    """Start importing WARM_MODULES in the background (once per process); the thread doing it."""
    if not _warming:
        def work() -> None:
            import importlib

            for name in WARM_MODULES:
                try:
                    importlib.import_module(name)
                except ImportError:  # a pack without it: its nodes say so when they run
                    pass

        _warming.append(threading.Thread(target=work, name="import media libraries", daemon=True))
        _warming[0].start()
    return _warming[0]


@dataclass
class QueuedRun:
    """A snapshot of the graph waiting for its turn, with what to run of it."""

    graph: Graph
    targets: list[str] | None = None
    force: list[str] | None = None
    label: str = ""
    document: Any = None  # the editor tab it came from (its results go to `document.outputs`), or None
    output_dir: Path | None = None  # where this run writes, when not the window's output folder (a sweep's variant)


class RunController(QObject):
    """Starts runs on a worker thread; `run_done` brings back a RunResult or the error that stopped it, and
    `run_recorded` the snapshot that ran with it (for the history). Queued runs start one after another."""

    run_done = Signal(object)
    run_started = Signal(object)  # the QueuedRun that started
    run_recorded = Signal(object, object)  # QueuedRun, result
    queue_changed = Signal()
    _worker_done = Signal(int, object, object)  # generation, QueuedRun, result: a forgotten run reports nothing

    def __init__(self, registry: NodeRegistry, device: str = "auto", output_dir: str | Path = "outputs", parent=None):
        super().__init__(parent)
        self.scheduler = Scheduler(registry, device=device, output_dir=output_dir)
        self.bridge = EventBridge(self)
        self.bridge.attach(self.scheduler)
        self.outputs: dict[str, dict] = {}
        self.last_result = None
        self._thread: threading.Thread | None = None
        self._generation = 0
        self.pending: list[QueuedRun] = []
        self.current: QueuedRun | None = None
        self._worker_done.connect(self._on_worker_done)
        warm_media_libraries()

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def idle(self) -> bool:
        """No run going, none waiting, and the last one's result delivered (`busy` turns False a moment before
        `run_done` is delivered on the GUI thread)."""
        return not self.busy and self.current is None and not self.pending

    def start(self, graph: Graph, targets: list[str] | None = None, force: list[str] | None = None) -> bool:
        """Run a snapshot of `graph` now (edits made during the run do not race it); `force` as Scheduler.run.
        False when a run is going (see `submit`)."""
        if self.busy:
            return False
        self._launch(QueuedRun(graph.copy(), targets, force))
        return True

    def submit(self, graph: Graph, targets: list[str] | None = None, force: list[str] | None = None,
               label: str = "", document: Any = None, output_dir: Path | None = None) -> str:
        """Run a snapshot of `graph` now, or after the runs before it: "started" or "queued". A run from a
        `document` (an editor tab) gives its results to that document's `outputs`."""
        job = QueuedRun(graph.copy(), targets, force, label, document, output_dir)
        if self.busy:
            self.pending.append(job)
            self.queue_changed.emit()
            return "queued"
        self._launch(job)
        return "started"

    def remove_pending(self, index: int) -> None:
        if 0 <= index < len(self.pending):
            del self.pending[index]
            self.queue_changed.emit()

    def _launch(self, job: QueuedRun) -> None:
        self.current = job
        self._thread = threading.Thread(target=self._work, args=(job, self._generation), name="kinograph-run",
                                        daemon=True)
        self._thread.start()
        self.run_started.emit(job)
        self.queue_changed.emit()

    def _work(self, job: QueuedRun, generation: int) -> None:
        usual = self.scheduler.output_dir
        if job.output_dir is not None:
            self.scheduler.output_dir = job.output_dir
        try:
            result = self.scheduler.run(job.graph, job.targets, force=job.force)
        except (KinographError, KeyError) as exc:
            result = exc
        except Exception as exc:  # an engine bug must not kill the window
            result = exc
        finally:
            self.scheduler.output_dir = usual
        self._worker_done.emit(generation, job, result)

    def _on_worker_done(self, generation: int, job: QueuedRun, result) -> None:
        if generation != self._generation:  # its document was dropped since it started: its results go nowhere
            if self.current is None and self.pending and not self.busy:
                self._launch(self.pending.pop(0))  # another tab's runs still wait their turn
            return
        self.current = None
        if not isinstance(result, BaseException):
            (job.document.outputs if job.document is not None else self.outputs).update(result.outputs)
            self.last_result = result
        self.run_done.emit(result)
        self.run_recorded.emit(job, result)
        if self.pending and not self.busy:
            self._launch(self.pending.pop(0))
        else:
            self.queue_changed.emit()

    def forget(self, document: Any = None) -> None:
        """Drop the runs (running and queued) and results of `document`, or of every document when None: a new
        document starts with none. Stop a running one first (cancel, wait): it reports nothing after this."""
        if document is None:
            self.pending.clear()
            self.outputs.clear()
        else:
            self.pending = [job for job in self.pending if job.document not in (document, None)]
        if self.current is not None and (document is None or self.current.document in (document, None)):
            self._generation += 1
            self.current = None
            self.bridge.discard()
        self.queue_changed.emit()
        self.last_result = None

    def cancel(self) -> None:
        self.scheduler.cancel()

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
