"""Scheduler events: plain values delivered to subscribers (thread-safe)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any


@dataclass(frozen=True)
class Event:
    kind: str = ""
    run_id: int = 0


@dataclass(frozen=True)
class RunStarted(Event):
    kind: str = "run_started"
    nodes: tuple[str, ...] = ()


@dataclass(frozen=True)
class NodeStarted(Event):
    kind: str = "node_started"
    node_id: str = ""
    type_id: str = ""


@dataclass(frozen=True)
class NodeProgress(Event):
    kind: str = "node_progress"
    node_id: str = ""
    done: int = 0
    total: int = 0


@dataclass(frozen=True)
class NodePreview(Event):
    """A small copy of a frame (H, W, 3) or of a whole clip (T, H, W, 3), uint8, in `frames`.

    A node may hand over a renderer instead of pixels (a no-argument callable over its own snapshot): `frames`
    then renders on first access, on the reader's thread, once. A preview nobody looks at (a headless run, one
    the editor's bridge replaced by a newer one) costs the producer nothing but the snapshot.
    """

    kind: str = "node_preview"
    node_id: str = ""
    source: Any = field(default=None, repr=False)  # the pixels, or a callable that renders them
    fps: float = 0.0

    @cached_property
    def frames(self) -> Any:
        return self.source() if callable(self.source) else self.source


@dataclass(frozen=True)
class NodeMessage(Event):
    kind: str = "node_message"
    node_id: str = ""
    level: str = "info"
    message: str = ""


@dataclass(frozen=True)
class NodeSkipped(Event):
    """A node of the run that did not run: muted, or fed by a node that did not run. `reason` says which."""

    kind: str = "node_skipped"
    node_id: str = ""
    reason: str = ""


@dataclass(frozen=True)
class NodeFinished(Event):
    kind: str = "node_finished"
    node_id: str = ""
    cached: bool = False
    seconds: float = 0.0
    summary: str = ""


@dataclass(frozen=True)
class NodeFailed(Event):
    kind: str = "node_failed"
    node_id: str = ""
    error: str = ""
    type_id: str = ""


@dataclass(frozen=True)
class RunFinished(Event):
    """status is 'succeeded', 'failed' or 'cancelled'."""

    kind: str = "run_finished"
    status: str = ""
    seconds: float = 0.0
    outputs: tuple[str, ...] = ()
    error: str = ""
    executed: tuple[str, ...] = field(default_factory=tuple)


Subscriber = Callable[[Event], None]


class EventBus:
    """Delivers events to subscribers on the thread that emits them.

    A subscriber may decline previews (`kinograph run` does: a terminal shows no pictures), or take them only
    while a condition holds (the job server: while someone watches the job). When no subscriber takes them,
    nodes are told so through `NodeContext.wants_previews` and skip making them at all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: tuple[Subscriber, ...] = ()
        # the subscribers that take previews, each with True or a no-argument test of whether it does now
        self._watchers: tuple[tuple[Subscriber, bool | Callable[[], bool]], ...] = ()

    def subscribe(self, callback: Subscriber, *, previews: bool | Callable[[], bool] = True) -> Callable[[], None]:
        with self._lock:
            self._subscribers = self._subscribers + (callback,)
            if previews is not False:
                self._watchers = self._watchers + ((callback, previews),)

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = tuple(s for s in self._subscribers if s is not callback)
                self._watchers = tuple(w for w in self._watchers if w[0] is not callback)

        return unsubscribe

    @property
    def active(self) -> bool:
        return bool(self._subscribers)

    @property
    def wants_previews(self) -> bool:
        return any(wants is True or wants() for _, wants in self._watchers)

    def emit(self, event: Event) -> None:
        # the tuples are replaced, never mutated
        if isinstance(event, NodePreview):
            for callback, wants in self._watchers:
                if wants is True or wants():
                    callback(event)
            return
        for callback in self._subscribers:
            callback(event)
