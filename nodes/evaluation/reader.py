"""A small streaming video reader (PyAV) for the eval command and the quality check."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from nodegraph.api import UsageError, Video

VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".mpg", ".mpeg", ".ts", ".gif",
                            ".ogv", ".wmv", ".flv"})


def open_video(path: str | Path) -> Video:
    """A lazy `Video` of a file; raise UsageError (one clear line) when it is not a readable video."""
    import av

    path = Path(path)
    if not path.exists():
        raise UsageError(f"{path}: no such file; give the path of a video file")
    if path.is_dir():
        raise UsageError(f"{path}: is a folder, not a video file")
    if path.stat().st_size == 0:
        raise UsageError(f"{path}: the file is empty (0 bytes); give a video file")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise UsageError(f"{path}: has no video stream; give a video file")
            stream = container.streams.video[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
            fps = float(rate) if rate else 0.0
            count = int(stream.frames or 0)
            if not count and stream.duration and stream.time_base and fps:
                count = round(float(stream.duration * stream.time_base) * fps)
    except av.FFmpegError as exc:
        raise UsageError(f"{path}: not a readable video ({_reason(exc)})") from None
    if not width or not height:
        raise UsageError(f"{path}: the video stream has no frame size; the file may be damaged")
    return Video(lambda: _decode(path), fps=fps if fps > 0 else 24.0, width=width, height=height,
                 frame_count=max(count, 0))


def _decode(path: Path) -> Iterator[np.ndarray]:
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in container.decode(stream):
                yield frame.to_ndarray(format="rgb24")[None]
    except av.FFmpegError as exc:
        raise UsageError(f"{path}: could not decode the video ({_reason(exc)})") from None


def _reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(":")[0].strip() if ": '" in text else text.strip()
