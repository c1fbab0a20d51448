"""video.interpolate: raise the frame rate by an integer factor, streaming."""

from __future__ import annotations

from nodegraph.errors import UsageError
from nodegraph.media import Video
from nodegraph.node import Node, NodeContext, Param, Port
from nodegraph.types import VIDEO

from .flow import flow_stream
from .mci import mci_stream

METHODS = ("fast", "quality")
MIN_SIDE = 16  # both DIS flow and minterpolate need frames at least this big


def interpolated_count(frames: int, factor: int) -> int:
    """n frames become (n - 1) * factor + 1: the originals plus factor - 1 between each pair."""
    return (frames - 1) * factor + 1 if frames else 0


class InterpolateVideo(Node):
    """Multiply the frame rate by synthesising in-between frames from motion."""

    type_id = "video.interpolate"
    widgets = ("factor",)
    category = "Upscaling"
    title = "Interpolate Frames"
    inputs = (Port("video", VIDEO),)
    outputs = (Port("video", VIDEO),)
    params = (
        Param("factor", int, default=2, min=2, max=8,
              tooltip="Frame-rate multiplier: n frames become (n - 1) x factor + 1 at fps x factor."),
        Param("method", str, default="fast", choices=METHODS,
              tooltip="fast: OpenCV DIS optical flow with occlusion-aware blending. "
                      "quality: FFmpeg minterpolate (block motion compensation); slower on large frames."),
    )

    def run(self, ctx: NodeContext, *, video: Video, factor: int, method: str) -> dict:
        if video is None:
            raise UsageError("video.interpolate needs a video on its 'video' input; connect one")
        if min(video.width, video.height) < MIN_SIDE:
            raise UsageError(
                f"frames are {video.width}x{video.height}; video.interpolate needs at least {MIN_SIDE} pixels "
                "on each side to estimate motion; enlarge them with video.resize first"
            )
        if method == "fast":
            source = lambda: flow_stream(video, factor)
        else:
            source = lambda: mci_stream(video, factor)
        return {"video": video.with_source(source, fps=video.fps * factor,
                                           frame_count=interpolated_count(video.frame_count, factor))}
