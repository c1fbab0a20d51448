"""The worker a Ray cluster runs: one per GPU (or per N CPUs), long-lived, with its own Scheduler, output cache
and resource cache, so a model loads once per worker and stays for every variant or job sent to it.

It runs one workflow at a time; the client polls its events (progress, node events, previews when asked) from
another thread of the actor while it runs, and may cancel it. Plain Python: `ray_pool` makes it a Ray actor."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

from nodegraph import events as ev
from nodegraph.errors import KinographError

from .transfer import unpack

MAX_BUFFERED_EVENTS = 5000  # events waiting for the client's next poll; older progress is dropped first


class VariantWorker:
    """Runs workflows sent by the client; keeps models and cached nodes between them."""

    def __init__(self, device: str = "auto", models_dirs: tuple[str, ...] = (), shared_dir: str | None = None):
        from nodegraph import models_dir
        from nodegraph.registry import default_registry
        from nodegraph.scheduler import Scheduler

        models_dir.configure(list(models_dirs))
        self.root = Path(tempfile.mkdtemp(prefix="kinograph-worker-"))
        self.shared_dir = Path(shared_dir) if shared_dir else None
        self.registry = default_registry()
        self.scheduler = Scheduler(self.registry, device=device, output_dir=self.root / "outputs")
        self._lock = threading.Lock()
        self._events: list[tuple[str, ev.Event]] = []
        self._current = ""
        self._previews_wanted = False
        self.scheduler.subscribe(self._on_event, previews=lambda: self._previews_wanted)

    def ready(self) -> dict:
        """Where this worker runs (its process id, host and device): also tells that it has started."""
        import socket

        return {"pid": os.getpid(), "host": socket.gethostname(), "device": self.scheduler.device}

    def run(self, tag: str, workflow: str, base_dir: str | None, inputs: dict, packages: dict,
            targets: list[str] | None, out_name: str) -> dict:
        """Run one workflow (JSON text): `inputs` maps "node.param" -> (key, name) of a file in `packages`.
        Returns its status, error, timings and output files (bytes, or paths in the shared folder)."""
        import ray

        from nodegraph.workflow import loads_workflow

        started = time.perf_counter()
        with self._lock:
            self._current = tag
        try:
            graph = loads_workflow(workflow, self.registry, base_dir=Path(base_dir) if base_dir else None,
                                   source=tag)
            for ref, (key, name) in inputs.items():
                node_id, param = ref.split(".", 1)
                local = unpack(packages[key], key, name, self.root / "inputs", ray.get)
                graph.nodes[node_id].params[param] = str(local)
            folder = (self.shared_dir / "outputs" if self.shared_dir else self.root / "outputs") / out_name
            if folder.exists():
                shutil.rmtree(folder)  # what an earlier attempt of this variant left on this worker
            folder.mkdir(parents=True)
            self.scheduler.output_dir = folder
            result = self.scheduler.run(graph, targets, embed=workflow)  # saved files name the client's inputs
            files = []
            for path in result.files:
                rel = Path(path).relative_to(folder).as_posix()
                files.append((rel, str(path) if self.shared_dir else Path(path).read_bytes()))
            if not self.shared_dir:
                shutil.rmtree(folder, ignore_errors=True)
            status, error = result.status, str(result.error or "")
            executed, cached = list(result.executed), list(result.cached)
        except KinographError as exc:
            status, error, files, executed, cached = "failed", str(exc), [], [], []
        finally:
            with self._lock:
                self._current = ""
        return {"status": status, "error": error, "files": files, "seconds": time.perf_counter() - started,
                "executed": executed, "cached": cached, "loads": self.scheduler.resources.loads,
                "events": self.poll()}

    def poll(self) -> list[tuple[str, ev.Event]]:
        """The events since the last poll, each with the tag of the run it belongs to."""
        with self._lock:
            events, self._events = self._events, []
        return events

    def cancel(self) -> None:
        self.scheduler.cancel()

    def want_previews(self, wanted: bool) -> None:
        """Make previews (sent with the events) while someone watches; none otherwise."""
        self._previews_wanted = bool(wanted)

    def _on_event(self, event: ev.Event) -> None:
        if isinstance(event, ev.NodePreview):  # pixels, not the node's renderer: they cross to another process
            event = ev.NodePreview(run_id=event.run_id, node_id=event.node_id, source=event.frames, fps=event.fps)
        with self._lock:
            if not self._current:
                return
            if len(self._events) >= MAX_BUFFERED_EVENTS:
                self._events = [e for e in self._events if not isinstance(e[1], (ev.NodeProgress, ev.NodePreview))]
            self._events.append((self._current, event))
