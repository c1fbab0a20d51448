"""Server-Sent Events: the scheduler's events for one job, fanned out to the clients that listen."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import threading
from typing import Any

from nodegraph import events as ev

QUEUE_SIZE = 512
PREVIEW_MAX_SIDE = 160
PREVIEW_QUALITY = 75


def preview_jpeg(frames: Any, max_side: int = PREVIEW_MAX_SIDE) -> bytes | None:
    """The last frame of a preview (H, W, 3 or T, H, W, 3, uint8) as a small JPEG."""
    import cv2
    import numpy as np

    array = np.asarray(frames)
    if array.ndim == 4:
        array = array[-1]
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8 or not array.size:
        return None
    h, w = array.shape[:2]
    scale = max_side / max(h, w)
    if scale < 1:
        array = cv2.resize(array, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    bgr = np.ascontiguousarray(array[:, :, ::-1])
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, PREVIEW_QUALITY])
    return data.tobytes() if ok else None


def event_to_dict(event: ev.Event | dict) -> dict[str, Any] | None:
    """Plain JSON-able data for an event; previews become base64 JPEGs."""
    if isinstance(event, dict):
        return event
    if isinstance(event, ev.NodePreview):
        jpeg = preview_jpeg(event.frames)
        if jpeg is None:
            return None
        return {"kind": event.kind, "node_id": event.node_id, "fps": event.fps, "mime": "image/jpeg",
                "jpeg": base64.b64encode(jpeg).decode("ascii")}
    data = dataclasses.asdict(event)
    data.pop("run_id", None)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}


def format_sse(kind: str, data: dict[str, Any], event_id: int | None = None) -> bytes:
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append(f"event: {kind}")
    lines.append("data: " + json.dumps(data, separators=(",", ":"), default=str))
    return ("\n".join(lines) + "\n\n").encode()


class Subscription:
    def __init__(self, job_id: str, loop: asyncio.AbstractEventLoop):
        self.job_id = job_id
        self.loop = loop
        self.queue: asyncio.Queue[dict | ev.NodePreview] = asyncio.Queue(QUEUE_SIZE)

    def _offer(self, data: dict | ev.NodePreview) -> None:
        if self.queue.full():
            if isinstance(data, ev.NodePreview):
                return  # latest frame wins; a slow client misses some previews
            try:
                self.queue.get_nowait()
            except asyncio.QueueEmpty:
                pass
        self.queue.put_nowait(data)


class EventHub:
    """Thread-safe fan-out from the worker thread to asyncio subscribers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[str, list[Subscription]] = {}

    def subscribe(self, job_id: str) -> Subscription:
        sub = Subscription(job_id, asyncio.get_running_loop())
        with self._lock:
            self._subs.setdefault(job_id, []).append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            subs = self._subs.get(sub.job_id, [])
            if sub in subs:
                subs.remove(sub)
            if not subs:
                self._subs.pop(sub.job_id, None)

    def watched(self, job_id: str) -> bool:
        """Whether any stream is open on `job_id`."""
        return bool(self._subs.get(job_id))

    def publish(self, job_id: str, event: ev.Event | dict) -> None:
        with self._lock:
            subs = list(self._subs.get(job_id, ()))
        if not subs:
            return
        if isinstance(event, ev.NodePreview):
            data = event  # rendered and encoded by each stream as it sends it: not on the worker's thread, and a
            # preview a full queue drops costs nothing
        else:
            data = event_to_dict(event)
            if data is None:
                return
        for sub in subs:
            try:
                sub.loop.call_soon_threadsafe(sub._offer, data)
            except RuntimeError:  # its loop has closed
                pass
