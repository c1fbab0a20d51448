"""The scheduler: runs what the requested outputs need, serving the rest from the cache."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import events as ev
from . import planning
from .cache import OutputCache, ResourceCache
from .errors import CancelledError, KinographError, NodeExecutionError
from .flatten import flatten, inner_targets
from .graph import Graph, NodeInstance
from .mask import as_grey_rgb
from .media import Video, preview_thumbnail
from .node import Node, NodeContext
from .params import behind_forwards, resolve_params
from .registry import NodeRegistry
from .streams import Clock, StreamEnd, StreamHooks, StreamLedger, attribute_stream, describe_error
from .types import is_compatible
from .validate import node_label, validate
from .workflow import dumps_workflow

log = logging.getLogger("kinograph.scheduler")

@dataclass
class RunResult:
    """What a run did: status, each node's outputs, files written, timings."""

    status: str  # succeeded, failed, cancelled
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)  # written by this run
    kept: list[Path] = field(default_factory=list)  # written before by output nodes served from the cache, still there
    written: dict[str, list[Path]] = field(default_factory=dict)  # node id -> the files it wrote in this run
    executed: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    error: KinographError | None = None
    wall_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"

    def raise_for_status(self) -> RunResult:
        if self.error is not None:
            raise self.error
        return self


class Scheduler:
    """Runs graphs. Holds the output cache and the resource cache across runs."""

    def __init__(
        self,
        registry: NodeRegistry,
        *,
        cache: OutputCache | None = None,
        resources: ResourceCache | None = None,
        device: str = "auto",
        output_dir: str | Path = "outputs",
        bus: ev.EventBus | None = None,
    ):
        self.registry = registry
        self.cache = cache if cache is not None else OutputCache()
        self.resources = resources if resources is not None else ResourceCache()
        self.device = device
        self.output_dir = Path(output_dir)
        self.bus = bus if bus is not None else ev.EventBus()
        self._cancel = threading.Event()
        self._run_counter = 0
        self._lock = threading.Lock()

    # -- public -----------------------------------------------------------------------

    def subscribe(self, callback: ev.Subscriber, *, previews: bool | Callable[[], bool] = True):
        """Send every event to `callback`; with previews=False, all but NodePreview (nodes then make none
        unless another subscriber takes them); with a callable, previews only while it returns True."""
        return self.bus.subscribe(callback, previews=previews)

    def cancel(self) -> None:
        """Ask the current run to stop at the next `check_cancelled()`."""
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def plan(self, graph: Graph, targets: Iterable[str] | None = None) -> list[str]:
        """Node ids a run of `targets` would visit, in execution order (see `planning.plan`)."""
        return planning.plan(graph, self.registry, targets)

    def run(self, graph: Graph, targets: Iterable[str] | None = None, *, validate_first: bool = True,
            force: Iterable[str] | None = None, embed: str | None = None) -> RunResult:
        """Run the ancestors of `targets` (default: every output node). Never raises for node failures.

        `force`: nodes that run again whatever the cache holds, and with them everything downstream of them in
        this run (an empty list forces every node). `embed`: the workflow text saved files carry, when not this
        graph's (a Ray worker runs a copy whose inputs it moved; the files name the client's)."""
        with self._lock:
            self._run_counter += 1
            run_id = self._run_counter
        self._cancel.clear()
        graph = flatten(graph, self.registry)  # subgraph instances become their inner nodes, named by path
        run = _Run(self, graph, inner_targets(graph, targets), run_id, inner_targets(graph, force))
        if validate_first:
            validate(graph, self.registry, only=run.needed, output_dir=self.output_dir)
        run._workflow_json = embed  # None: this graph's own, made when a node first asks
        return run.execute()


class _Run:
    """One execution of a graph."""

    def __init__(self, scheduler: Scheduler, graph: Graph, targets: Iterable[str] | None, run_id: int = 0,
                 force: Iterable[str] | None = None):
        self.s = scheduler
        self.graph = graph
        self.run_id = run_id
        self.bus = scheduler.bus
        planned = planning.scope(graph, scheduler.registry, targets)
        self.targets, self.needed, self.order = planned.targets, planned.needed, planned.order
        needed = self.needed
        self.result = RunResult("succeeded")
        self.active = True  # streams pulled after the run (e.g. by a preview) send no events
        self._clock = Clock()
        self._sources: dict[str, set[str]] = {n: set() for n in needed}
        for link in graph.links:
            if link.dst in needed and link.src in needed:
                self._sources[link.dst].add(link.src)
        self._streams = StreamLedger(self._sources, self.order)
        self._hooks = StreamHooks(
            clock=self._clock, ledger=self._streams, live=lambda: self.active, cancelled=scheduler._cancel.is_set,
            reporting=lambda: self.bus.active, wants_previews=self._wants_previews, progress=self._on_progress,
            preview=lambda node_id, frame, fps: self._on_preview(node_id, _preview_frame(frame), fps))
        self._keys: dict[str, str] = {}
        self._workflow_json: str | None = None
        self._forced: set[str] = set()
        if force is not None:
            forced = set(force) or set(needed)
            for node_id in self.order:  # downstream of a forced node is forced too
                if node_id in forced or self._sources[node_id] & forced:
                    self._forced.add(node_id)
                    forced.add(node_id)

    # -- helpers ----------------------------------------------------------------------

    def _emit(self, event: ev.Event) -> None:
        if self.bus.active:
            self.bus.emit(event)

    def _workflow_text(self) -> str:
        if self._workflow_json is None:
            self._workflow_json = dumps_workflow(self.graph, self.s.registry, absolute_paths=True)
        return self._workflow_json

    def _key(self, node: NodeInstance, cls: type[Node], params: dict, linked: dict, inputs: dict) -> str:
        if not cls.deterministic:
            return "nondeterministic:" + uuid.uuid4().hex
        fingerprint = cls.fingerprint(params)
        upstream = sorted(self._upstream_key(cls, port, link, inputs) for port, link in linked.items())
        text = json.dumps([cls.type_id, cls.version, params, fingerprint, upstream, node.mode],
                          sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()

    def _upstream_key(self, cls: type[Node], port: str, link, inputs: dict) -> tuple:
        """What an input brings to the cache key: the feeding node's key, or for an input the node narrows
        (`Node.narrows`), the key of the node behind the forwarding ones with the part of their changes it sees."""
        if port in cls.narrows:
            src, src_port = behind_forwards(self.graph, self.s.registry, link.src, link.src_port)
            if src != link.src:
                return port, self._keys.get(src, "?"), src_port, cls.narrowed_key(port, inputs.get(port))
        return port, self._keys.get(link.src, "?"), link.src_port

    # -- execution --------------------------------------------------------------------

    def execute(self) -> RunResult:
        started = time.perf_counter()
        result = self.result
        self._emit(ev.RunStarted(run_id=self.run_id, nodes=tuple(self.order)))
        skipped: set[str] = set()
        values: dict[str, dict[str, Any]] = {}
        try:
            for node_id in self.order:
                node = self.graph.nodes[node_id]
                cls = self.s.registry.get(node.type)
                linked = self.graph.links_into(node_id)
                blocked = [link.src for port, link in linked.items()
                           if link.src in skipped and not _is_optional(cls, port)]
                if node.mode == "mute" or blocked:
                    skipped.add(node_id)
                    result.skipped.append(node_id)
                    self._emit(ev.NodeSkipped(run_id=self.run_id, node_id=node_id,
                                              reason=self._skip_reason(node, blocked)))
                    continue
                live = {port: link for port, link in linked.items() if link.src not in skipped}
                values[node_id] = self._run_node(node, cls, live, values)
        except CancelledError as exc:
            result.status, result.error = "cancelled", exc
        except NodeExecutionError as exc:
            result.status, result.error = "failed", exc
            self._emit(ev.NodeFailed(run_id=self.run_id, node_id=exc.node_id, error=exc.message,
                                     type_id=exc.type_id))
        self.active = False
        failed = result.error.node_id if isinstance(result.error, NodeExecutionError) else None
        self._report(self._streams.close(cancelled=result.status == "cancelled", failed=failed))
        result.outputs = values
        result.wall_seconds = time.perf_counter() - started
        self._emit(ev.RunFinished(
            run_id=self.run_id, status=result.status, seconds=result.wall_seconds,
            outputs=tuple(str(p) for p in result.files), error=str(result.error or ""),
            executed=tuple(result.executed)))
        return result

    def _run_node(self, node: NodeInstance, cls: type[Node], linked: dict, values: dict) -> dict[str, Any]:
        node_id = node.id
        if self.s._cancel.is_set():
            raise CancelledError()
        inputs: dict[str, Any] = {}
        for port, link in linked.items():
            inputs[port] = values[link.src].get(link.src_port)
        params = resolve_params(self.graph, node_id, cls).values
        key = self._key(node, cls, params, linked, inputs)
        self._keys[node_id] = key

        cached = None if node_id in self._forced else self.s.cache.get(key)
        if cached is not None and not self._files_still_there(node_id, key):
            cached = None
        if cached is not None:
            self.result.kept.extend(self.s.cache.files(key))
            self.result.cached.append(node_id)
            self._report(self._streams.finished(node_id))
            self._emit(ev.NodeFinished(run_id=self.run_id, node_id=node_id, cached=True))
            return cached

        self._emit(ev.NodeStarted(run_id=self.run_id, node_id=node_id, type_id=cls.type_id))
        started = self._clock.enter()
        try:
            if node.mode == "bypass":
                outputs = _bypass(cls, inputs)
            else:
                outputs = self._call(node, cls, inputs, params)
        finally:
            seconds = self._clock.leave(started)
        self.result.executed.append(node_id)
        self.result.seconds[node_id] = seconds
        if cls.deterministic:
            self.s.cache.put(key, outputs, files=self.result.written.get(node_id, ()))
        if node.mode != "bypass" and any(isinstance(v, Video) and not v.nbytes for v in outputs.values()):
            # A lazy stream does its work when it is pulled: it finishes when what it feeds has finished.
            self._report(self._streams.opened(node_id, _summary(outputs), seconds))
        else:
            self._report(self._streams.finished(node_id))
            self._emit(ev.NodeFinished(run_id=self.run_id, node_id=node_id, cached=False, seconds=seconds,
                                       summary=_summary(outputs)))
        return outputs

    def _skip_reason(self, node: NodeInstance, blocked: list[str]) -> str:
        if node.mode == "mute":
            return "muted"
        muted = [src for src in blocked if self.graph.nodes[src].mode == "mute"]
        first = (muted or blocked)[0]
        why = "which is muted: unmute it (M)" if muted else "which did not run"
        return f"not run: it needs {node_label(self.graph, self.s.registry, first)}, {why}"

    def _files_still_there(self, node_id: str, key: str) -> bool:
        """Whether the files a cached output node wrote are still where this run writes (a deleted file, or
        another output folder, means it must write them again)."""
        folder = self.s.output_dir.resolve()
        for path in self.s.cache.files(key):
            if not path.is_file() or not path.resolve().is_relative_to(folder):
                if path.resolve().is_relative_to(folder):
                    self._on_message(node_id, "info", f"{path.name} is gone since the last run: writing it again")
                return False
        return True

    def _report(self, ends: list[StreamEnd]) -> None:
        """Count the seconds of streams the run is done with, and report those that finished."""
        for end in ends:
            self.result.seconds[end.node_id] = end.seconds
            if end.finished:
                self._emit(ev.NodeFinished(run_id=self.run_id, node_id=end.node_id, cached=False,
                                           seconds=end.seconds, summary=end.summary))

    def _call(self, node: NodeInstance, cls: type[Node], inputs: dict, params: dict) -> dict[str, Any]:
        node_id = node.id
        for port in cls.inputs:
            inputs.setdefault(port.name, None)
        for p in cls.params:  # params fed by links arrive as inputs: check them now
            if p.name in inputs and p.name not in params:
                value = inputs[p.name]
                problem = p.check(value)
                if problem:
                    self._fail(node_id, cls.type_id, f"param {p.name!r} got {value!r} from its link: {problem}")
                inputs[p.name] = p.coerce(value)
        ctx = NodeContext(
            node_id=node_id, type_id=cls.type_id, device=self.s.device, output_dir=self.s.output_dir,
            resources=self.s.resources, _emit_progress=self._on_progress, _emit_preview=self._on_preview,
            _wants_previews=self._wants_previews, _emit_message=self._on_message, _is_cancelled=self.s._cancel.is_set,
            _record_output=self._on_output, workflow_json=self._workflow_text,
        )
        try:
            outputs = cls().run(ctx, **inputs, **params)
        except (CancelledError, NodeExecutionError):
            raise
        except KinographError as exc:
            self._fail(node_id, cls.type_id, str(exc), exc)
        except Exception as exc:
            self._fail(node_id, cls.type_id, describe_error(exc), exc)
        if not isinstance(outputs, dict):
            self._fail(node_id, cls.type_id, f"run() returned {type(outputs).__name__}, expected a dict of outputs")
        missing = [p.name for p in cls.outputs if p.name not in outputs]
        if missing:
            self._fail(node_id, cls.type_id, f"run() returned no value for output(s) {', '.join(missing)}")
        for name, value in list(outputs.items()):
            if isinstance(value, Video):
                outputs[name] = attribute_stream(value, node_id, cls.type_id, self._hooks)
        return outputs

    def _fail(self, node_id: str, type_id: str, message: str, cause: BaseException | None = None):
        error = NodeExecutionError(node_id, type_id, message, cause)
        raise error from cause

    # -- context callbacks ------------------------------------------------------------

    def _on_progress(self, node_id: str, done: int, total: int) -> None:
        self._emit(ev.NodeProgress(run_id=self.run_id, node_id=node_id, done=done, total=total))

    def _wants_previews(self) -> bool:
        return self.bus.wants_previews

    def _on_preview(self, node_id: str, frames: Any, fps: float) -> None:
        if not self.bus.wants_previews:
            return
        if callable(frames):  # rendered when first read, from the node's own snapshot
            def small():
                return _small_preview(frames())
        else:
            small = _small_preview(frames)
        self._emit(ev.NodePreview(run_id=self.run_id, node_id=node_id, source=small, fps=fps))

    def _on_message(self, node_id: str, level: str, message: str) -> None:
        self._emit(ev.NodeMessage(run_id=self.run_id, node_id=node_id, level=level, message=message))

    def _on_output(self, node_id: str, path: Path) -> None:
        self.result.files.append(Path(path))
        self.result.written.setdefault(node_id, []).append(Path(path))


def _preview_frame(frame: Any) -> Any:
    """A streamed frame as an RGB preview: a mask's one-channel frame shows as a small grey picture."""
    return as_grey_rgb(preview_thumbnail(frame)) if frame.ndim == 2 else frame


def _small_preview(frames: Any) -> Any:
    """A frame as a thumbnail, a clip as a copy: never a view of something the node goes on changing."""
    if getattr(frames, "ndim", 0) == 3:
        return preview_thumbnail(frames)
    return frames.copy() if hasattr(frames, "copy") else frames


def _is_optional(cls: type[Node], port: str) -> bool:
    spec = cls.input(port)
    return spec is not None and spec.optional


def _bypass(cls: type[Node], inputs: dict[str, Any]) -> dict[str, Any]:
    """Pass each output the first input of a compatible type."""
    outputs: dict[str, Any] = {}
    for out in cls.outputs:
        for port in cls.inputs:
            if is_compatible(port.type, out.type):
                outputs[out.name] = inputs.get(port.name)
                break
        else:
            outputs[out.name] = None
    return outputs


def _summary(outputs: dict[str, Any]) -> str:
    parts = []
    for name, value in outputs.items():
        if isinstance(value, (Video,)) or type(value).__name__ in ("Image",):
            parts.append(f"{name}: {value!r}")
        elif isinstance(value, (str, int, float, bool, Path)):
            parts.append(f"{name}: {value}")
    return ", ".join(parts)
