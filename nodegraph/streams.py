"""Lazy streams in a run: when each counts as finished (the ledger), and the wrapper that pulls it for its node.

A node that returns a lazy `Video` does its work later, while something pulls the frames. The run still owes
the user a `NodeFinished` for it, with the time its frames took, and errors raised while it is pulled must name
it. `StreamLedger` holds the one rule for when such a stream counts as finished; `attribute_stream` wraps a
node's stream so that its errors, its progress, its previews and its seconds are that node's.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import CancelledError, KinographError, NodeExecutionError
from .media import DEFAULT_CHUNK, Video

PREVIEW_INTERVAL_S = 0.1
PROGRESS_INTERVAL_S = 0.05
# A stream makes frames ahead of the stage pulling it up to a chunk of them, or this many bytes (a block at least)
READ_AHEAD_FRAMES = DEFAULT_CHUNK
READ_AHEAD_BYTES = 32 * 1024 * 1024
CANCEL_POLL_S = 0.05  # a stage waiting on the one before it checks for a cancel this often


class Clock:
    """Exclusive wall time per thread: time spent inside nested timed sections is charged to them, not the
    caller. A section that only waits (for another thread's frames) is timed and charged to nobody."""

    def __init__(self) -> None:
        self._local = threading.local()

    def enter(self) -> float:
        stack = self._local.__dict__.setdefault("stack", [])
        stack.append(0.0)
        return time.perf_counter()

    def leave(self, started: float) -> float:
        elapsed = time.perf_counter() - started
        stack = self._local.stack
        nested = stack.pop()
        if stack:
            stack[-1] += elapsed
        return elapsed - nested


@dataclass(frozen=True)
class StreamEnd:
    """A stream the run is done with: its node, its outputs' summary and all the seconds it took. `finished` is
    False for one cut off (by a cancel, or because its own code failed): the run does not report it finished."""

    node_id: str
    summary: str
    seconds: float
    finished: bool = True


class StreamLedger:
    """When the lazy streams of a run count as finished.

    The rule: a node that returned a lazy stream finishes when every node it feeds in this run has finished
    (at once, when it feeds none); finishing it may in turn finish the streams that feed it, so they end
    upstream first. What is still open when the run ends ends with it. A node that returned values, or came
    from the cache, has finished when it returns. Seconds its frames take are added as they are pulled, from
    any thread, until its stream ends."""

    def __init__(self, sources: dict[str, set[str]], order: list[str]):
        self._sources = sources  # node id -> the nodes in this run that feed it
        self._position = {node_id: i for i, node_id in enumerate(order)}
        self._waiting = dict.fromkeys(sources, 0)  # node id -> nodes it feeds that have not finished
        for feeding in sources.values():
            for src in feeding:
                self._waiting[src] += 1
        self._open: dict[str, tuple[str, float]] = {}  # stream node id -> (summary, seconds so far)
        self._lock = threading.Lock()

    def is_open(self, node_id: str) -> bool:
        return node_id in self._open

    def add_seconds(self, node_id: str, seconds: float) -> None:
        """Time spent making frames of `node_id`'s stream (ignored once its stream has ended)."""
        with self._lock:
            if node_id in self._open:
                summary, total = self._open[node_id]
                self._open[node_id] = (summary, total + seconds)

    def opened(self, node_id: str, summary: str, seconds: float) -> list[StreamEnd]:
        """`node_id` returned a lazy stream after `seconds` of its own: the streams that end now (it and what
        feeds it, when it feeds nothing in this run)."""
        with self._lock:
            self._open[node_id] = (summary, seconds)
        if self._waiting[node_id]:
            return []
        return self._end(node_id)

    def finished(self, node_id: str) -> list[StreamEnd]:
        """`node_id` finished (it returned values, or came from the cache): the streams that end now, upstream
        first."""
        ends: list[StreamEnd] = []
        for src in sorted(self._sources[node_id], key=self._position.__getitem__):
            self._waiting[src] -= 1
            if not self._waiting[src] and src in self._open:
                ends += self._end(src)
        return ends

    def close(self, *, cancelled: bool, failed: str | None) -> list[StreamEnd]:
        """The run is over: the streams still open end with it. One cut off by a cancel did not finish; one
        that fed the failing node did its part; the failing node's own did not."""
        with self._lock:
            rest, self._open = self._open, {}
        return [StreamEnd(node_id, summary, seconds, finished=not cancelled and node_id != failed)
                for node_id, (summary, seconds) in rest.items()]

    def _end(self, node_id: str) -> list[StreamEnd]:
        ends = self.finished(node_id)
        with self._lock:
            summary, seconds = self._open.pop(node_id)
        return ends + [StreamEnd(node_id, summary, seconds)]


@dataclass(frozen=True)
class StreamHooks:
    """What a run gives the streams it wraps."""

    clock: Clock
    ledger: StreamLedger
    live: Callable[[], bool]  # False once the run is over: later pulls (a preview's) report nothing
    cancelled: Callable[[], bool]
    reporting: Callable[[], bool]  # whether anyone takes events
    wants_previews: Callable[[], bool]
    progress: Callable[[str, int, int], None]
    preview: Callable[[str, Any, float], None]


def describe_error(exc: BaseException) -> str:
    """An exception as one line for the user: its message, with its type unless it is a ValueError or ours."""
    text = str(exc).strip()
    name = type(exc).__name__
    if not text:
        return name
    if isinstance(exc, (ValueError, KinographError)):
        return text
    return f"{name}: {text}"


def attribute_stream(video: Video, node_id: str, type_id: str, hooks: StreamHooks) -> Video:
    """`video` pulled for `node_id`: its frames are made on a thread of their own, a little ahead of whoever
    pulls them, so that each stage of a chain works at the same time as the next (a `same_thread` stream's on
    the puller's thread). Errors raised while it is pulled name this node, its frames are checked against what
    it declared, and while the run lasts its progress, previews and seconds are reported."""
    inner = video._source
    shape = video.frame_shape
    total = video.frame_count
    clock = hooks.clock

    def blocks() -> Iterator[np.ndarray]:
        iterator = None
        try:
            while True:
                live = hooks.live()
                if live and hooks.cancelled():
                    raise CancelledError()
                started = clock.enter()
                try:
                    if iterator is None:
                        iterator = iter(inner())
                    block = next(iterator)
                    if block.ndim == len(shape):
                        block = block[None]
                    if block.shape[1:] != shape or block.dtype.name != "uint8":
                        raise ValueError(f"produced frames shaped {block.shape[1:]} {block.dtype}, "
                                         f"declared {shape} uint8")
                except StopIteration:
                    return
                except (NodeExecutionError, CancelledError):
                    raise
                except Exception as exc:
                    raise NodeExecutionError(node_id, type_id, describe_error(exc), exc) from exc
                finally:
                    own = clock.leave(started)
                    if live:
                        hooks.ledger.add_seconds(node_id, own)
                yield block
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:  # on this thread, now: the node's generator may hold files or locks
                close()

    def source() -> Iterator[np.ndarray]:
        done = 0
        last_progress = last_preview = 0.0
        made = blocks() if video.same_thread else read_ahead(blocks(), f"{node_id} frames", clock, hooks)
        for block in made:
            done += len(block)
            now = time.monotonic()
            if hooks.live() and hooks.reporting():
                if now - last_progress >= PROGRESS_INTERVAL_S or done >= total:
                    last_progress = now
                    hooks.progress(node_id, done, total)
                if now - last_preview >= PREVIEW_INTERVAL_S and hooks.wants_previews():
                    last_preview = now
                    hooks.preview(node_id, block[-1], video.fps)
            yield block

    wrapped = video.with_source(source)
    wrapped.kept_nbytes = video.kept_nbytes  # the same clip: what it will keep, the cache still counts
    return wrapped


def read_ahead(blocks: Iterator[np.ndarray], name: str, clock: Clock, hooks: StreamHooks) -> Iterator[np.ndarray]:
    """`blocks`, made on a thread of their own: the first when it is asked for, the rest while the caller works
    on what it got, up to READ_AHEAD_FRAMES or READ_AHEAD_BYTES ahead of it (a block at least). A caller that
    stops after one block (a thumbnail) gets nothing made ahead. The caller's waits are charged to nobody's
    seconds; an error raised making a block is raised to the caller; a cancel stops the wait."""
    ahead = _ReadAhead(blocks)
    thread = threading.Thread(target=ahead.produce, name=name, daemon=True)
    thread.start()
    try:
        while True:
            started = clock.enter()
            try:
                block = ahead.take(lambda: hooks.live() and hooks.cancelled())
            finally:
                clock.leave(started)  # waiting on another thread: that thread's seconds are counted there
            if block is None:
                return
            yield block
    finally:
        ahead.stop()
        thread.join()


class _ReadAhead:
    """A bounded hand-over of blocks from the thread that makes them to the one that pulls them."""

    def __init__(self, blocks: Iterator[np.ndarray]):
        self._blocks = blocks
        self._ready: deque[np.ndarray] = deque()
        self._ready_bytes = self._ready_frames = 0
        self._asked = 0  # blocks the caller has asked for
        self._made = 0
        self._end: BaseException | None = None  # StopIteration, or what making a block raised
        self._stopped = False
        self._cv = threading.Condition()

    def _may_make(self) -> bool:
        if self._made < self._asked:
            return True
        # ahead of the caller only once it has come back for more than the first block
        return self._asked >= 2 and self._ready_frames < READ_AHEAD_FRAMES and self._ready_bytes < READ_AHEAD_BYTES

    def produce(self) -> None:
        try:
            while True:
                with self._cv:
                    while not self._stopped and not self._may_make():
                        self._cv.wait()
                    if self._stopped:
                        return
                try:
                    block = next(self._blocks)
                except BaseException as exc:  # StopIteration included: the end, passed on as it is
                    with self._cv:
                        self._end = exc
                        self._cv.notify_all()
                    return
                with self._cv:
                    self._ready.append(block)
                    self._ready_bytes += block.nbytes
                    self._ready_frames += len(block)
                    self._made += 1
                    self._cv.notify_all()
        finally:
            self._blocks.close()

    def take(self, cancelled: Callable[[], bool]) -> np.ndarray | None:
        """The next block; None at the end."""
        with self._cv:
            self._asked += 1
            self._cv.notify_all()
            while not self._ready and self._end is None:
                if cancelled():
                    raise CancelledError()
                self._cv.wait(CANCEL_POLL_S)
            if self._ready:
                block = self._ready.popleft()
                self._ready_bytes -= block.nbytes
                self._ready_frames -= len(block)
                self._cv.notify_all()
                return block
            if isinstance(self._end, StopIteration):
                return None
            raise self._end

    def stop(self) -> None:
        with self._cv:
            self._stopped = True
            self._ready.clear()
            self._cv.notify_all()
