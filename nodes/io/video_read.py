"""Load a video file as a lazy stream: frames are decoded (nodes/io/video_reader.py) only while the clip is pulled."""

from __future__ import annotations

from pathlib import Path

from nodegraph.api import AUDIO, VIDEO, Audio, Node, NodeContext, Param, Port, UsageError, Video, file_fingerprint

from ..audio.reading import load_audio, probe_audio
from .video_reader import decode_frames, probe_video

VIDEO_FILTER = "Videos (*.mp4 *.mov *.mkv *.webm *.avi *.m4v *.gif)"


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
