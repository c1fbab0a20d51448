"""Ray itself: connecting (a local Ray started on demand, or a cluster's address), and the pool of long-lived
workers (one per GPU, or per N CPUs on a cluster without GPUs), replaced when one dies."""

from __future__ import annotations

import importlib.util
import logging
import signal
import threading
from dataclasses import dataclass, field

from nodegraph.errors import ValidationError

from .ray_worker import VariantWorker

log = logging.getLogger("kinograph.executors.ray")

INSTALL_HINT = "pip install 'kinograph[ray]'"
WORKER_CONCURRENCY = 4  # a worker's run, and the client's polls and cancels beside it
START_TIMEOUT_S = 120.0


def require_ray() -> None:
    """ValidationError (exit 2) saying how to install Ray when it is not installed."""
    if importlib.util.find_spec("ray") is None:
        raise ValidationError(f"--executor ray needs Ray, which is not installed; install it with {INSTALL_HINT}")


def parse_address(executor: str, ray_address: str | None) -> str | None:
    """The address to connect to: None starts (or reuses) a Ray on this machine."""
    if ray_address:
        return ray_address
    if executor.startswith("ray://"):
        if not executor[len("ray://"):].strip():
            raise ValidationError(f"--executor {executor!r}: give the cluster as ray://HOST:PORT")
        return executor
    return None


def connect(address: str | None) -> bool:
    """Connect to Ray (start a local one when `address` is None and none is running). True when this call
    started or joined it (and so should shut it down)."""
    import ray

    if ray.is_initialized():
        return False
    # ray.init puts in a SIGTERM handler of its own; the command line's (cancel every variant) stays
    kept = signal.getsignal(signal.SIGTERM) if threading.current_thread() is threading.main_thread() else None
    try:
        if address is None:
            ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
        else:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = address or "a local Ray"
        raise ValidationError(f"cannot connect to {where}: {exc}; check the address (ray://HOST:10001 for a "
                              "cluster's client port) and that the head node is running") from None
    if kept is not None:
        signal.signal(signal.SIGTERM, kept)
    return True


@dataclass
class Slot:
    """One worker of the pool: its actor, what it has run (for affinity), and how it started."""

    index: int
    actor: object
    info: dict = field(default_factory=dict)
    held: set = field(default_factory=set)  # affinity keys of what it ran: the models it holds
    generation: int = 1

    @property
    def name(self) -> str:
        host = self.info.get("host", "?")
        return f"w{self.index}@{host}:{self.info.get('pid', '?')}" + (f" (#{self.generation})"
                                                                      if self.generation > 1 else "")


class WorkerPool:
    """The workers: one per GPU in the cluster (num_gpus=1), else one per `cpus_per_worker` CPUs."""

    def __init__(self, *, cpus_per_worker: float | None = None, device: str = "auto", shared_dir: str | None = None,
                 models_dirs: tuple[str, ...] = (), workers: int | None = None):
        import ray

        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        if gpus and device != "cpu":
            self.count, self.options, worker_device = gpus, {"num_gpus": 1, "num_cpus": 1}, "cuda"
        else:
            per = cpus_per_worker or 1.0
            cpus = resources.get("CPU", 1)
            if per > cpus:
                raise ValidationError(f"--cpus-per-worker {per:g}: the cluster has only {cpus:g} CPUs; give at "
                                      f"most {cpus:g}")
            self.count, self.options, worker_device = max(1, int(cpus // per)), {"num_cpus": per}, "cpu"
        if workers:
            self.count = min(self.count, workers)
        self.args = (worker_device, tuple(models_dirs), shared_dir)
        self._remote = ray.remote(max_concurrency=WORKER_CONCURRENCY, max_restarts=0)(VariantWorker)
        self.slots = [Slot(i, self._start()) for i in range(self.count)]
        infos = ray.get([slot.actor.ready.remote() for slot in self.slots], timeout=START_TIMEOUT_S)
        for slot, info in zip(self.slots, infos, strict=True):
            slot.info = info

    def _start(self):
        return self._remote.options(**self.options).remote(*self.args)

    def replace(self, slot: Slot) -> None:
        """A new worker in place of one that died (its models and caches are gone with it)."""
        import ray

        try:
            ray.kill(slot.actor)
        except Exception:  # already gone
            pass
        slot.actor = self._start()
        slot.held = set()
        slot.generation += 1
        slot.info = ray.get(slot.actor.ready.remote(), timeout=START_TIMEOUT_S)

    def pids(self) -> list[int]:
        return [slot.info.get("pid") for slot in self.slots]

    def shutdown(self) -> None:
        import ray

        for slot in self.slots:
            try:
                ray.kill(slot.actor)
            except Exception:
                pass


def models_dirs_of(args) -> tuple[str, ...]:
    """The models folders the workers search (the client's --models-dir; on a cluster, paths every node sees).
    Files the client finds in them travel to the workers anyway (transfer.py)."""
    return tuple(str(d) for d in getattr(args, "models_dir", None) or [])
