"""Moves scheduler events from the worker thread onto the Qt main thread; latest preview wins."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Qt, Signal

from nodegraph import events as ev

_COALESCED = (ev.NodePreview, ev.NodeProgress)


class EventBridge(QObject):
    """Subscribe with `attach(scheduler)`; `event_received` fires on the main thread, in order.

    Previews and progress for a node that have not been delivered yet are replaced by newer
    ones, so a fast producer never floods the event loop."""

    event_received = Signal(object)
    _wake = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._lock = threading.Lock()
        self._queue: list = []
        self._slots: dict[tuple[type, str], int] = {}
        self._pending = False
        self.dropped = 0
        self._wake.connect(self._drain, Qt.QueuedConnection)

    def attach(self, scheduler) -> None:
        self._unsubscribe = scheduler.subscribe(self.post)

    def post(self, event: ev.Event) -> None:
        """Called on any thread."""
        with self._lock:
            if isinstance(event, _COALESCED):
                key = (type(event), event.node_id)
                slot = self._slots.get(key)
                if slot is not None:
                    self._queue[slot] = event
                    self.dropped += 1
                    return
                self._slots[key] = len(self._queue)
            self._queue.append(event)
            wake = not self._pending
            self._pending = True
        if wake:
            self._wake.emit()

    def discard(self) -> None:
        """Drop the events not delivered yet (those of a run whose document was closed)."""
        with self._lock:
            self._queue, self._slots = [], {}

    def _drain(self) -> None:
        with self._lock:
            queue, self._queue, self._slots, self._pending = self._queue, [], {}, False
        for event in queue:
            self.event_received.emit(event)
