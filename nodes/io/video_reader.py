"""The one PyAV video reader: probe a file from its header, decode frames lazily (seeking to far starts), and say in
one line what is wrong with a file that cannot be read. `video.load`, `kinograph eval`, the quality check, the
contact sheet and the editor's preview of saved files all read through it."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nodegraph.api import UsageError, Video, existing_file, frame_problem

log = logging.getLogger("kinograph.nodes.io")

VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".mpg", ".mpeg", ".ts", ".gif",
                            ".ogv", ".wmv", ".flv"})
SEEK_AFTER = 48  # start frames beyond this are reached by seeking to a keyframe instead of decoding from 0


@dataclass(frozen=True)
class VideoInfo:
    """What a video file holds, read without decoding the whole clip."""

    path: str
    fps: float
    width: int
    height: int
    frame_count: int
    time_base: float
    turns: int = 0  # quarter turns counterclockwise that show a frame upright (its display matrix; width, height
    #                 are as shown, so a phone's portrait clip is taller than wide)


def open_video(path: str | Path, default_fps: float = 24.0) -> Video:
    """A lazy `Video` of a whole file (frames are decoded as it is pulled); a file that does not say its frame rate
    plays at `default_fps`. Raises UsageError (one line) when it is not a readable video."""
    info = probe_video(str(path), default_fps=default_fps)
    return Video(lambda: decode_frames(info, 0, info.frame_count), fps=info.fps, width=info.width,
                 height=info.height, frame_count=info.frame_count)


def probe_video(path: str, default_fps: float | None = None) -> VideoInfo:
    """Size, rate, frame count (as its header says) and turn of a video file (demuxes without decoding when the
    header has no count). Frames too large to hold are refused from the header, before any is decoded. A file that
    does not say its frame rate is refused unless a `default_fps` is given. What a file holds is read once for
    each version of it (the editor's checks ask again and again)."""
    file = Path(path)
    try:
        stat = file.stat()
        version = (stat.st_size, stat.st_mtime_ns) if file.is_file() else None
    except OSError:
        version = None
    rate, width, height, count, time_base, turns = _probe(path, version) if version else _probe.__wrapped__(path, None)
    fps = rate or default_fps
    if not fps:
        raise UsageError(f"{path!r} does not say its frame rate; re-encode it with a fixed frame rate")
    problem = frame_problem(width, height, repr(path))  # again: the limit may have changed since it was read
    if problem:
        raise UsageError(problem)
    if turns % 2:
        width, height = height, width
    return VideoInfo(path, fps, width, height, count, time_base, turns)


@functools.lru_cache(maxsize=64)
def _probe(path: str, version: tuple[int, int] | None) -> tuple[float, int, int, int, float, int]:
    """(frame rate or 0, stored width, height, frame count, time base, quarter turns) of one version of a file."""
    import av.error

    with _open(path) as container:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        width, height = stream.codec_context.width, stream.codec_context.height
        problem = frame_problem(width, height, repr(path))
        if problem:
            raise UsageError(problem)
        count = int(stream.frames or 0)
        time_base = float(stream.time_base) if stream.time_base else 0.0
        # a phone stores a portrait clip as landscape frames plus a display matrix: its first key frame says so
        stream.codec_context.skip_frame = "NONKEY"
        try:
            first = next(iter(container.decode(stream)), None)
        except av.error.FFmpegError:  # what does not decode is found when the clip is pulled
            first = None
        turns = round((getattr(first, "rotation", 0) or 0) / 90) % 4 if first is not None else 0
    if count <= 0 and width > 0 and height > 0:  # Matroska/WebM do not store it: count packets without decoding
        with _open(path) as container:
            count = sum(1 for packet in container.demux(container.streams.video[0]) if packet.size)
    if width <= 0 or height <= 0 or count <= 0:
        raise UsageError(f"{path!r} has no decodable video frames ({width}x{height}, {count} frames); "
                         "the file may be damaged")
    return float(rate) if rate and rate > 0 else 0.0, width, height, count, time_base, turns


def decode_frames(info: VideoInfo, start: int, count: int,
                  warn: Callable[[str], None] | None = None) -> Iterator[np.ndarray]:
    """Yield up to `count` frames (1, H, W, 3) from frame index `start`, decoding lazily. Only decoded frames are
    trusted: a file that ends before its header says (or whose decoder stops on damage) yields what it holds,
    never a padded frame, and `warn`s with the real count."""
    import av.error

    produced, broken = 0, ""
    if start > SEEK_AFTER and info.time_base > 0:
        frames = _decode_seeking(info, start)
    else:
        frames = _decode_from(info, start)
    try:
        while True:
            try:
                rgb = next(frames)
            except StopIteration:
                break
            except av.error.FFmpegError as exc:  # damaged or cut short: the frames before it are still good
                broken = f" (the decoder stopped: {_reason(exc)})"
                break
            yield rgb[None]
            produced += 1
            if produced == count:
                return
    finally:
        frames.close()
    if produced == 0:
        raise UsageError(f"{info.path!r}: decoded no frames from frame {start}{broken}; the file is damaged or "
                         "cut short; re-encode it or choose another file")
    message = (f"{info.path!r} holds {start + produced} decodable frame(s), not the {info.frame_count} its header "
               f"says{broken}; used the {produced} it has")
    (warn or log.warning)(message)


def _open(path: str):
    import av

    file = existing_file(path, "video file", "a video file (mp4, mov, mkv, webm...)")
    if file.stat().st_size == 0:
        raise UsageError(f"video file {path!r} is empty (0 bytes); choose a video file")
    try:
        container = av.open(path)
    except Exception as exc:  # hostile files raise more than FFmpegError
        raise UsageError(f"{path!r} is not a readable video ({_reason(exc)}); convert it to mp4 (h264)") from None
    if not container.streams.video:
        container.close()
        raise UsageError(f"{path!r} has no video stream (audio only?); choose a file with video in it")
    return container


def _reason(exc: Exception) -> str:
    """PyAV's message without the path it repeats."""
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(":")[0].strip() if ": '" in text else text.strip()


def _rgb(frame, info: VideoInfo) -> np.ndarray:
    """A frame as RGB at the size the header says (its own colour space and range), turned upright."""
    if not info.turns:
        return frame.to_ndarray(format="rgb24", width=info.width, height=info.height)
    width, height = (info.height, info.width) if info.turns % 2 else (info.width, info.height)
    return np.ascontiguousarray(np.rot90(frame.to_ndarray(format="rgb24", width=width, height=height), info.turns))


def _decode_from(info: VideoInfo, start: int) -> Iterator[np.ndarray]:
    with _open(info.path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for index, frame in enumerate(container.decode(stream)):
            if index >= start:
                yield _rgb(frame, info)


def _decode_seeking(info: VideoInfo, start: int) -> Iterator[np.ndarray]:
    """Seek to the keyframe before `start`, then decode forward. Falls back to decoding from the last frame
    known good when frame times do not line up with frame indices (variable rate, broken timestamps)."""
    ticks_per_frame = 1.0 / (info.fps * info.time_base)
    with _open(info.path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        first = next(iter(container.decode(stream)), None)
        first_pts = first.pts if first is not None else None  # frame 0's time
        if first_pts is not None:
            container.seek(int(first_pts + start * ticks_per_frame), stream=stream, backward=True)
            expected = None
            for frame in container.decode(stream):
                if frame.pts is None:
                    break
                index = round((frame.pts - first_pts) / ticks_per_frame)
                if expected is None and index > start:
                    break  # landed after the start: the seek cannot be trusted
                if expected is not None and index != expected:
                    break  # gaps or duplicates: timestamps are not frame indices
                expected = index + 1
                if index >= start:
                    yield _rgb(frame, info)
                    start = index + 1
            else:
                return
    yield from _decode_from(info, start)
