"""video.interpolate: raise the frame rate by an integer factor, streaming."""

from __future__ import annotations

from typing import Any

import numpy as np

from nodegraph.api import VIDEO, Node, NodeContext, Param, Port, UsageError, Video, file_fingerprint

from .flow import flow_stream
from .mci import mci_stream
from .scene_cut import DEFAULT_THRESHOLD, pairwise_stream

METHODS = ("fast", "quality", "rife")
MIN_SIDE = 16  # both DIS flow and minterpolate need frames at least this big


def interpolated_count(frames: int, factor: int) -> int:
    """n frames become n * factor: the originals, factor - 1 between each pair, and the last held factor times,
    so the clip lasts as long as before (and its sound still fits it)."""
    return frames * factor


def held_last(make_frames, factor: int):
    """A source that yields `make_frames()`'s frames, then its last frame factor - 1 more times."""

    def source():
        last = None
        for block in make_frames():
            last = block[-1:].copy()  # before the consumer may write into the block
            yield block
        if last is not None and factor > 1:
            yield np.repeat(last, factor - 1, axis=0)

    return source


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
              tooltip="Frame-rate multiplier: n frames become n x factor at fps x factor (the last one held), so "
                      "the clip lasts as long and its sound still fits."),
        Param("method", str, default="fast", choices=METHODS,
              tooltip="fast: OpenCV DIS optical flow with occlusion-aware blending. "
                      "quality: FFmpeg minterpolate (block motion compensation); slower on large frames. "
                      "rife: the RIFE 4.x network named in model (best on large motion; a GPU helps)."),
        Param("model", str, default="", kind="path", file_filter="RIFE weights (*.pkl *.pth *.safetensors)",
              tooltip="For method rife: a RIFE 4.5-4.26 weights file (flownet.pkl, rife47.pth, rife49.pth...)."),
        Param("scene_cut", float, default=DEFAULT_THRESHOLD, min=0.0, max=2.0, step=0.1,
              tooltip="Scene-cut threshold: the share of a frame's contrast that motion cannot explain from which "
                      "two frames count as different shots (a cut scores about 1.3, motion 0.1-0.4). At a cut the "
                      "frame is held instead of morphing two shots. 0 turns detection off."),
    )

    @classmethod
    def check(cls, params: dict[str, Any]) -> list[str]:
        if params.get("method") == "rife" and not params.get("model"):
            return ["method rife needs a RIFE 4.x weights file in model (for instance rife47.pth); set model"]
        return []

    @classmethod
    def fingerprint(cls, params: dict[str, Any]) -> Any:
        return file_fingerprint(params["model"]) if params.get("method") == "rife" and params.get("model") else None

    def run(self, ctx: NodeContext, *, video: Video, factor: int, method: str, model: str = "",
            scene_cut: float = DEFAULT_THRESHOLD) -> dict:
        if video is None:
            raise UsageError("video.interpolate needs a video on its 'video' input; connect one")
        if min(video.width, video.height) < MIN_SIDE:
            raise UsageError(
                f"frames are {video.width}x{video.height}; video.interpolate needs at least {MIN_SIDE} pixels "
                "on each side to estimate motion; enlarge them with video.resize first"
            )
        if method == "fast":
            source = lambda: flow_stream(video, factor, scene_cut=scene_cut)
        elif method == "quality":
            source = lambda: mci_stream(video, factor, scene_cut)
        else:
            between = rife_between(ctx, model)
            source = lambda: pairwise_stream(video, factor, lambda: between, scene_cut)
        return {"video": video.with_source(held_last(source, factor), fps=video.fps * factor,
                                           frame_count=interpolated_count(video.frame_count, factor))}


def rife_between(ctx: NodeContext, path: str):
    """The RIFE in-between maker for the weights at `path` (loaded now, so a bad file fails the node at once; the
    network stays in the resource cache)."""
    import torch

    from .rife import RifeInterpolator, load_rife

    if not path:
        raise UsageError("method rife needs a RIFE 4.x weights file in model (for instance rife47.pth); set model")
    device = ctx.device if ctx.device not in ("", "auto") else ("cuda" if torch.cuda.is_available() else "cpu")
    key = f"rife:{path}:{file_fingerprint(path)}:{device}"
    load = lambda: load_rife(path, device)
    network = ctx.resources.get_or_load(key, load) if ctx.resources is not None else load()
    return RifeInterpolator(network, device).between
