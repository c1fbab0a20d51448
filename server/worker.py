"""Executors run queued jobs. The local one runs them one at a time through a single shared Scheduler."""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Protocol

from nodegraph import events as ev
from nodegraph.cache import OutputCache
from nodegraph.errors import KinographError
from nodegraph.quality import QualityOptions, run_checked
from nodegraph.registry import NodeRegistry
from nodegraph.run_state import CACHED, DONE, FAILED, QUEUED, RUNNING, SKIPPED, STOPPED, RunState
from nodegraph.scheduler import Scheduler
from nodegraph.workflow import loads_workflow

from .store import JobStore

log = logging.getLogger("kinograph.server.worker")

PERSIST_INTERVAL_S = 1.0


class Executor(Protocol):
    """What the API needs from whatever runs jobs (this process now; a cluster later)."""

    def start(self) -> None: ...

    def stop(self, timeout: float = 10.0) -> None: ...

    def wake(self) -> None:
        """A job was queued."""

    def cancel(self, job_id: str) -> None:
        """Stop a running job (the store already holds the request)."""

    def live_nodes(self, job_id: str) -> dict[str, dict] | None:
        """Per-node progress of a job running now, or None."""


class LocalExecutor:
    """One worker thread; jobs run in priority order through one Scheduler, so caches and models are shared."""

    def __init__(self, store: JobStore, registry: NodeRegistry, output_root: Path, *, publish=None,
                 job_ended=None, device: str = "auto", watched=None):
        self.store = store
        self.registry = registry
        self.output_root = Path(output_root)
        # A saver served from the cache writes its files again when they are not in this job's folder (the
        # scheduler's rule for output nodes), so every job gets its own files.
        self.cache = OutputCache()
        self.scheduler = Scheduler(registry, cache=self.cache, device=device, output_dir=self.output_root)
        self._publish = publish or (lambda job_id, event: None)
        self._watched = watched or (lambda job_id: True)  # whether anyone is watching the job's events
        self._job_ended = job_ended or (lambda job_id: None)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._current: str | None = None
        self._nodes = RunState()
        self._cancel_wanted: set[str] = set()
        self._persisted = 0.0
        self._thread: threading.Thread | None = None
        # previews only while someone watches the running job: a job nobody streams makes none
        self.scheduler.subscribe(self._on_scheduler_event, previews=self._current_watched)

    # -- Executor ---------------------------------------------------------------------

    def start(self) -> None:
        for job_id in self.store.recover_interrupted():
            log.warning("job %s was running when the server stopped; it is queued to run again", job_id)
        self._thread = threading.Thread(target=self._loop, name="kinograph-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._wake.set()
        with self._lock:
            if self._current is not None:
                self.scheduler.cancel()
        if self._thread is not None:
            self._thread.join(timeout)

    def wake(self) -> None:
        self._wake.set()

    def cancel(self, job_id: str) -> None:
        with self._lock:
            self._cancel_wanted.add(job_id)
            if self._current == job_id:
                self.scheduler.cancel()

    def live_nodes(self, job_id: str) -> dict[str, dict] | None:
        with self._lock:
            if self._current != job_id:
                return None
            return job_nodes(self._nodes)

    # -- the worker thread ------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stopping.is_set():
            job = self.store.claim_next()
            if job is None:
                self._wake.wait(1.0)
                self._wake.clear()
                continue
            try:
                self._run(job)
            except Exception as exc:  # a bug here must not kill the worker
                log.exception("job %s crashed the worker", job["id"])
                self._end(job["id"], "failed", {}, [], f"internal error: {type(exc).__name__}: {exc}")

    def _run(self, job: dict) -> None:
        job_id = job["id"]
        folder = self.output_root / job_id
        if job["attempts"] > 1 and folder.exists():
            shutil.rmtree(folder, ignore_errors=True)  # partial files of an interrupted attempt
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(folder, 0o700)  # the job's outputs are the server owner's, whatever the umask
        with self._lock:
            self._current, self._nodes, self._persisted = job_id, RunState(), time.monotonic()
            if job["cancel_requested"]:
                self._cancel_wanted.add(job_id)
        self._publish(job_id, {"kind": "job_started", "job_id": job_id, "attempt": job["attempts"]})
        files: list[Path] = []  # every attempt's, when the job retries on quality
        try:
            graph = loads_workflow(job["workflow"], self.registry, source=f"job {job_id}")
            self.scheduler.output_dir = folder
            result = self._run_job(job, graph, files)
        except (KinographError, KeyError) as exc:
            self._end(job_id, "failed", self._node_view(), [], str(exc))
            return
        nodes = self._node_view()
        for node_id, seconds in result.seconds.items():
            nodes.setdefault(node_id, {})["seconds"] = round(seconds, 6)
        outputs = outputs_of(folder, files)
        with self._lock:
            user_cancelled = job_id in self._cancel_wanted
        if result.status == "cancelled" and self._stopping.is_set() and not user_cancelled:
            self.store.requeue(job_id, "the server stopped while this job ran; queued to run again from the start")
            with self._lock:
                self._current = None
            return
        self._end(job_id, result.status, nodes, outputs, str(result.error) if result.error else None)

    def _run_job(self, job: dict, graph, files: list[Path]):
        """Run the job's graph once, or, with the job's `quality` option, check its videos and run again on the
        next seed while they fail; what happened goes into the job's notes."""
        job_id, targets = job["id"], job["targets"] or None

        def run_once():
            result = self.scheduler.run(graph, targets)
            files.extend(result.files)
            return result

        quality = job.get("quality")
        if not quality:
            return run_once()
        options = QualityOptions(dict(quality.get("thresholds") or {}), int(quality.get("retries") or 0))
        plan = self.scheduler.plan(graph, targets)

        def say(level: str, line: str) -> None:
            self.store.add_note(job_id, f"quality: {line}")

        checked = run_checked(run_once, graph, self.registry, plan, options, say)
        if checked.attempts == 1 and checked.result.status == "succeeded":
            for line in checked.warnings or [f"passed for {len(checked.result.files)} file(s)"]:
                say("warning" if checked.warnings else "info", line)
        return checked.result

    def _end(self, job_id: str, status: str, nodes: dict, outputs: list, error: str | None) -> None:
        self.store.finish(job_id, status, nodes=nodes, outputs=outputs, error=error)
        with self._lock:
            self._current = None
            self._cancel_wanted.discard(job_id)
        self._publish(job_id, {"kind": "job_finished", "job_id": job_id, "status": status, "error": error})
        self._job_ended(job_id)

    def _node_view(self) -> dict[str, dict]:
        with self._lock:
            return job_nodes(self._nodes)

    # -- scheduler events (any thread) --------------------------------------------------

    def _current_watched(self) -> bool:
        job_id = self._current
        return job_id is not None and self._watched(job_id)

    def _on_scheduler_event(self, event: ev.Event) -> None:
        with self._lock:
            job_id = self._current
            if job_id is None:
                return
            self._nodes.apply(event)
            if isinstance(event, ev.RunStarted) and job_id in self._cancel_wanted:
                self.scheduler.cancel()
            persist = None
            now = time.monotonic()
            if isinstance(event, (ev.NodeFinished, ev.NodeFailed)) and now - self._persisted > PERSIST_INTERVAL_S:
                self._persisted = now
                persist = job_nodes(self._nodes)
        if persist is not None:
            self.store.save_nodes(job_id, persist)
        self._publish(job_id, event)


def job_nodes(run: RunState) -> dict[str, dict]:
    """A job's per-node view (state, progress, type, seconds, error), as the job's JSON has always shown it: a node
    not run yet, or skipped, is "pending"; "type" once it started, "seconds" once it finished."""
    nodes = {}
    for node_id, node in run.nodes.items():
        view = {"state": _JOB_STATES.get(node.state, "pending"), "done": node.done, "total": node.total}
        if node.type_id:
            view["type"] = node.type_id
        if node.state in (DONE, CACHED):
            view["seconds"] = round(node.seconds or 0.0, 6)
        if node.state == FAILED:
            view["error"] = node.error
        if node.state in (SKIPPED, STOPPED) and node.reason:
            view["reason"] = node.reason  # which node held it back, or that the run ended under it
        nodes[node_id] = view
    return nodes


_JOB_STATES = {QUEUED: "pending", RUNNING: "running", DONE: "done", CACHED: "cached", FAILED: "failed",
               SKIPPED: "skipped", STOPPED: "stopped"}


def outputs_of(folder: Path, files: list[Path]) -> list[dict]:
    """Files the run wrote, as paths relative to the job's folder (anything elsewhere is left out)."""
    out = []
    root = folder.resolve()
    for path in files:
        try:
            rel = Path(path).resolve().relative_to(root)
            size = Path(path).stat().st_size
        except (ValueError, OSError):
            log.warning("output %s is outside the job folder %s; not served", path, folder)
            continue
        out.append({"path": rel.as_posix(), "bytes": size})
    return out
