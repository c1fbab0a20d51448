"""Load a video file as a lazy stream: PyAV decodes frames only while the clip is pulled."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nodegraph.api import (
    AUDIO,
    VIDEO,
    Audio,
    Node,
    NodeContext,
    Param,
    Port,
    UsageError,
    Video,
    file_fingerprint,
    frame_problem,
)

from ..audio.reading import load_audio, probe_audio

log = logging.getLogger("kinograph.nodes.io")

VIDEO_FILTER = "Videos (*.mp4 *.mov *.mkv *.webm *.avi *.m4v *.gif)"
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


def _open(path: str):
    import av

    file = Path(path)
    if not path:
        raise UsageError("no video file chosen; set 'path' to a video file (mp4, mov, mkv, webm...)")
    if not file.is_file():
        what = "is a folder, not a video file" if file.is_dir() else "does not exist"
        raise UsageError(f"video file {path!r} {what}; check the path (relative paths are resolved against the "
                         "workflow's folder)")
    try:
        container = av.open(path)
    except Exception as exc:
        raise UsageError(f"{path!r} is not a video PyAV can open ({exc}); convert it to mp4 (h264)") from None
    if not container.streams.video:
        container.close()
        raise UsageError(f"{path!r} has no video stream (audio only?); choose a file with video in it")
    return container


def probe_video(path: str) -> VideoInfo:
    """Size, rate and frame count (as its header says) of a video file (demuxes without decoding when needed).
    Frames too large to hold are refused from the header, before any is decoded."""
    with _open(path) as container:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        if not rate or rate <= 0:
            raise UsageError(f"{path!r} does not say its frame rate; re-encode it with a fixed frame rate")
        width, height = stream.codec_context.width, stream.codec_context.height
        problem = frame_problem(width, height, repr(path))
        if problem:
            raise UsageError(problem)
        count = int(stream.frames or 0)
        if count <= 0:  # Matroska/WebM do not store it: count packets without decoding them
            count = sum(1 for packet in container.demux(stream) if packet.size)
        time_base = float(stream.time_base) if stream.time_base else 0.0
    if width <= 0 or height <= 0 or count <= 0:
        raise UsageError(f"{path!r} has no decodable video frames ({width}x{height}, {count} frames); "
                         "the file may be damaged")
    return VideoInfo(path, float(rate), width, height, count, time_base)


def decode_frames(info: VideoInfo, start: int, count: int,
                  warn: Callable[[str], None] | None = None) -> Iterator[np.ndarray]:
    """Yield up to `count` frames (1, H, W, 3) from frame index `start`, decoding lazily. Only decoded frames are
    trusted: a file that ends before its header says yields what it holds (never a padded frame) and `warn`s
    with the real count."""
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
                broken = f" (the decoder stopped: {exc.strerror or exc})"
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


def _rgb(frame, info: VideoInfo) -> np.ndarray:
    return frame.to_ndarray(format="rgb24", width=info.width, height=info.height)


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
        first_pts = next(iter(container.decode(stream))).pts  # frame 0's time
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


class LoadVideo(Node):
    """Load a video file as a stream of frames (decoded as they are needed)."""

    type_id = "video.load"
    widgets = ("path",)
    category = "Input/Output"
    title = "Load Video"
    outputs = (
        Port("video", VIDEO),
        Port("audio", AUDIO, tooltip="The sound of the frames used, timed with them and as long as they are "
                                     "(silence where the sound track ends early); empty when the file has no "
                                     "sound, which video.save, video.trim and video.concat take as silence."),
    )
    params = (
        Param("path", str, default="", kind="path", file_filter=VIDEO_FILTER, tooltip="The video file."),
        Param("start_frame", int, default=0, min=0, tooltip="First frame to use (0 is the first frame of the file)."),
        Param("max_frames", int, default=0, min=0, tooltip="Most frames to use from start_frame; 0 uses all."),
    )

    @classmethod
    def check(cls, params: dict) -> list[str]:
        if "path" in params and not params["path"]:
            return ["no video file chosen; set 'path' to a video file"]
        return []

    @classmethod
    def fingerprint(cls, params: dict):
        return file_fingerprint(params.get("path") or "")

    @classmethod
    def frame_size(cls, params: dict, inputs: dict) -> tuple[int, int] | None:
        try:
            info = probe_video(params["path"])
        except UsageError as exc:
            if "memory limit" in str(exc):
                raise ValueError(str(exc)) from None
            return None  # a missing or unreadable file: the run says so
        return info.width, info.height

    def run(self, ctx: NodeContext, *, path: str, start_frame: int, max_frames: int) -> dict:
        info = probe_video(path)
        if start_frame >= info.frame_count:
            raise UsageError(f"start_frame {start_frame} is past the end of {Path(path).name!r}, which has "
                             f"{info.frame_count} frames; use a start_frame from 0 to {info.frame_count - 1}")
        count = info.frame_count - start_frame
        if max_frames:
            count = min(count, max_frames)
        video = Video(lambda: decode_frames(info, start_frame, count, ctx.warn), fps=info.fps, width=info.width,
                      height=info.height, frame_count=count)
        audio = sound_of_frames(path, info.fps, start_frame, count)
        ctx.log.info("%s: %s", ctx.node_id, f"{info.frame_count} frames, {info.width}x{info.height} @ {info.fps:g}, "
                                            f"{'no sound' if audio is None else audio}")
        return {"video": video, "audio": audio}


def sound_of_frames(path: str, fps: float, start_frame: int, count: int) -> Audio | None:
    """The sound that plays with frames [start_frame, start_frame + count) of a video, or None without sound."""
    sound = probe_audio(path, measure=False)
    if sound is None:
        return None
    start = round(start_frame / fps * sound.sample_rate)
    stop = round((start_frame + count) / fps * sound.sample_rate)
    return load_audio(sound, start, stop - start)
