"""Scheduler events: plain values delivered to subscribers (thread-safe)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
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
    """A small copy of a frame (H, W, 3) or of a whole clip (T, H, W, 3), uint8."""

    kind: str = "node_preview"
    node_id: str = ""
    frames: Any = None
    fps: float = 0.0


@dataclass(frozen=True)
class NodeMessage(Event):
    kind: str = "node_message"
    node_id: str = ""
    level: str = "info"
    message: str = ""


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
    """Delivers events to subscribers on the thread that emits them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: tuple[Subscriber, ...] = ()

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        with self._lock:
            self._subscribers = self._subscribers + (callback,)

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = tuple(s for s in self._subscribers if s is not callback)

        return unsubscribe

    @property
    def active(self) -> bool:
        return bool(self._subscribers)

    def emit(self, event: Event) -> None:
        for callback in self._subscribers:  # the tuple is replaced, never mutated
            callback(event)
