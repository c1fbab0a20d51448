"""`kinograph serve --executor ray`: the job server's queue run on a Ray cluster, as many jobs at once as there
are workers, with the same per-node progress, previews on demand, cancel and webhooks as the local executor. A
job whose worker dies (kill -9, a lost node) is queued again and runs on another worker; its attempts count."""

from __future__ import annotations

import logging
import os
import shutil
import threading
from pathlib import Path

from nodegraph import events as ev
from nodegraph.errors import KinographError
from nodegraph.planning import plan as plan_of
from nodegraph.registry import NodeRegistry
from nodegraph.run_state import RunState
from nodegraph.workflow import loads_workflow
from server.store import JobStore
from server.worker import job_nodes, outputs_of

from .ray_pool import WorkerPool, connect, parse_address, require_ray
from .transfer import input_files, land, pack

log = logging.getLogger("kinograph.executors.ray_jobs")

MAX_ATTEMPTS = 3  # a job whose worker dies this many times fails instead of being queued again
POLL_S = 0.2


class RayJobExecutor:
    """The server's Executor on a Ray cluster: one job per worker at a time, claimed from the store's queue."""

    def __init__(self, store: JobStore, registry: NodeRegistry, output_root: Path, *, publish=None, job_ended=None,
                 device: str = "auto", watched=None, address: str | None = None,
                 cpus_per_worker: float | None = None, shared_dir: str | None = None, models_dirs=(),
                 workers: int | None = None):
        require_ray()
        self.store = store
        self.registry = registry
        self.output_root = Path(output_root)
        self._publish = publish or (lambda job_id, event: None)
        self._job_ended = job_ended or (lambda job_id: None)
        self._watched = watched or (lambda job_id: False)
        self.device, self.address, self.cpus_per_worker = device, address, cpus_per_worker
        self.shared_dir = Path(shared_dir).resolve() if shared_dir else None
        self.models_dirs, self.workers = tuple(models_dirs), workers
        self.pool: WorkerPool | None = None
        self._started_ray = False
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._running: dict = {}  # object ref -> (slot, job)
        self._nodes: dict[str, RunState] = {}  # job id -> its nodes' state, while it runs
        self._cancel_wanted: set[str] = set()
        self._previews: dict[int, bool] = {}  # slot index -> whether its worker makes previews now
        self._thread: threading.Thread | None = None

    # -- Executor -----------------------------------------------------------------------

    def start(self) -> None:
        for job_id in self.store.recover_interrupted():
            log.warning("job %s was running when the server stopped; it is queued to run again", job_id)
        self._started_ray = connect(self.address)
        self.pool = WorkerPool(cpus_per_worker=self.cpus_per_worker, device=self.device,
                               shared_dir=str(self.shared_dir) if self.shared_dir else None,
                               models_dirs=self.models_dirs, workers=self.workers)
        log.warning("running jobs on %d Ray worker(s)", len(self.pool.slots))
        self._thread = threading.Thread(target=self._loop, name="kinograph-ray-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._wake.set()
        with self._lock:
            for slot, _ in self._running.values():
                slot.actor.cancel.remote()
        if self._thread is not None:
            self._thread.join(timeout)
        if self.pool is not None:
            self.pool.shutdown()
        if self._started_ray:
            import ray

            ray.shutdown()

    def wake(self) -> None:
        self._wake.set()

    def cancel(self, job_id: str) -> None:
        with self._lock:
            self._cancel_wanted.add(job_id)
            for slot, job in self._running.values():
                if job["id"] == job_id:
                    slot.actor.cancel.remote()

    def live_nodes(self, job_id: str) -> dict[str, dict] | None:
        with self._lock:
            nodes = self._nodes.get(job_id)
            return job_nodes(nodes) if nodes is not None else None

    @property
    def capacity(self) -> int:
        return len(self.pool.slots) if self.pool else 0

    # -- the dispatcher thread ------------------------------------------------------------

    def _loop(self) -> None:
        import ray

        while not self._stopping.is_set():
            try:
                self._fill()
                with self._lock:
                    refs = list(self._running)
                if not refs:
                    self._wake.wait(1.0)
                    self._wake.clear()
                    continue
                ready, _ = ray.wait(refs, num_returns=len(refs), timeout=POLL_S)
                self._relay()
                for ref in ready:
                    self._collect(ref)
            except Exception:  # a bug here must not stop the queue
                log.exception("the Ray job dispatcher failed; going on")
        with self._lock:
            running = list(self._running.items())
        for ref, (_slot, job) in running:  # the server is stopping: what ran goes back in the queue
            try:
                ray.get(ref, timeout=5)
            except Exception:
                pass
            self.store.requeue(job["id"], "the server stopped while this job ran; queued to run again from the start")

    def _fill(self) -> None:
        """Give every idle worker the next queued job."""
        while not self._stopping.is_set():
            with self._lock:
                busy = {id(slot) for slot, _ in self._running.values()}
            idle = [slot for slot in self.pool.slots if id(slot) not in busy]
            if not idle:
                return
            job = self.store.claim_next()
            if job is None:
                return
            self._send(idle[0], job)

    def _send(self, slot, job: dict) -> None:
        import ray

        job_id = job["id"]
        try:
            graph = loads_workflow(job["workflow"], self.registry, source=f"job {job_id}")
            plan = plan_of(graph, self.registry, job["targets"] or None)
            files = input_files(graph, self.registry, plan)
            packages = pack(list(files.values()), self.shared_dir, ray.put)
        except (KinographError, KeyError) as exc:
            self._end(job_id, "failed", {}, [], str(exc))
            return
        inputs = {f"{n}.{p}": (f.key, f.name) for (n, p), f in files.items()}
        ref = slot.actor.run.remote(job_id, job["workflow"], None, inputs, packages, job["targets"] or None, job_id)
        with self._lock:
            self._running[ref] = (slot, job)
            self._nodes[job_id] = RunState()
            if job["cancel_requested"]:
                self._cancel_wanted.add(job_id)
            if job_id in self._cancel_wanted:
                slot.actor.cancel.remote()
        self._publish(job_id, {"kind": "job_started", "job_id": job_id, "attempt": job["attempts"],
                               "worker": slot.name})

    def _relay(self) -> None:
        """Events from the busy workers to the job's view and its streams; previews only while watched."""
        import ray
        from ray.exceptions import RayError

        with self._lock:
            busy = list(self._running.values())
        for slot, job in busy:
            watched = bool(self._watched(job["id"]))
            if self._previews.get(slot.index) != watched:
                self._previews[slot.index] = watched
                slot.actor.want_previews.remote(watched)
        polls = [(slot.actor.poll.remote(), job) for slot, job in busy]
        for poll, _job in polls:
            try:
                events = ray.get(poll, timeout=10)
            except RayError:
                continue  # a dead worker: its job is handled when its run reports
            self._pass_on(events)

    def _pass_on(self, events: list[tuple[str, ev.Event]]) -> None:
        for job_id, event in events:
            with self._lock:
                nodes = self._nodes.get(job_id)
                if nodes is not None:
                    nodes.apply(event)
            self._publish(job_id, event)

    def _collect(self, ref) -> None:
        import ray
        from ray.exceptions import RayActorError

        with self._lock:
            slot, job = self._running.pop(ref)
        job_id = job["id"]
        try:
            answer = ray.get(ref)
        except RayActorError as exc:
            self._previews.pop(slot.index, None)
            dead = slot.name
            self.pool.replace(slot)
            why = f"its Ray worker {dead} died ({type(exc).__name__})"
            log.warning("job %s: %s", job_id, why)
            with self._lock:
                self._nodes.pop(job_id, None)
                cancelled = job_id in self._cancel_wanted
            if cancelled:
                self._end(job_id, "cancelled", {}, [], "cancelled")
            elif job["attempts"] >= MAX_ATTEMPTS:
                self._end(job_id, "failed", {}, [], f"{why}, on each of {job['attempts']} attempts")
            else:
                self.store.requeue(job_id, f"{why}; queued to run again on another worker")
                self._wake.set()
            return
        self._pass_on(answer["events"])
        with self._lock:
            nodes = job_nodes(self._nodes.pop(job_id, RunState()))
            user_cancelled = job_id in self._cancel_wanted
        if answer["status"] == "cancelled" and self._stopping.is_set() and not user_cancelled:
            return  # queued again by the loop's end
        folder = self.output_root / job_id
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)  # partial files of an interrupted attempt
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(folder, 0o700)
        landed = land(answer["files"], folder)
        self._end(job_id, answer["status"], nodes, outputs_of(folder, landed), answer["error"] or None)

    def _end(self, job_id: str, status: str, nodes: dict, outputs: list, error: str | None) -> None:
        self.store.finish(job_id, status, nodes=nodes, outputs=outputs, error=error)
        with self._lock:
            self._cancel_wanted.discard(job_id)
        self._publish(job_id, {"kind": "job_finished", "job_id": job_id, "status": status, "error": error})
        self._job_ended(job_id)


def factory(options):
    """The `kinograph.job_executors` entry point `ray`: a maker of the server's executor from serve's options."""
    require_ray()
    address = parse_address(options.executor.strip(), options.ray_address)

    def make(store, registry, output_root, **kwargs):
        return RayJobExecutor(store, registry, output_root, address=address, cpus_per_worker=options.cpus_per_worker,
                              shared_dir=options.shared_dir, models_dirs=tuple(options.models_dir or ()), **kwargs)

    return make
