"""Write a clip as numbered PNGs, and preview a clip in the editor."""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path

import numpy as np

from nodegraph.api import STRING, VIDEO, Node, NodeContext, Param, Port, UsageError, Video

from .images import claim, encode_png
from .video_write import chunk_frames

PROXY_SIDE = 320  # long side of the preview proxy
PROXY_BUDGET = 256 * 1024 * 1024  # a longer clip gets a smaller proxy, never fewer frames
PREVIEW_EVERY_S = 0.1
_PRINTF = re.compile(r"%(0?\d*)d")


def frame_pattern(filename: str) -> tuple[str, str] | str:
    """(folder name, file pattern using {}) for a save_frames filename, or a problem message.

    Accepts Python ('frame_{:05d}.png') and printf ('frame_%05d.png') counters.
    """
    text = filename.strip().replace("\\", "/")
    folder, _, pattern = text.rpartition("/")
    pattern = _PRINTF.sub(lambda m: "{:" + m.group(1) + "d}", pattern)
    if not pattern or not pattern.lower().endswith(".png"):
        return (f"'filename' {filename!r} must name PNG files with a frame counter, such as "
                "'frames/frame_{:05d}.png'")
    try:
        names = {pattern.format(0), pattern.format(1)}
    except (IndexError, KeyError, ValueError):
        names = set()
    if len(names) != 2 or any("/" in n for n in names):
        return (f"'filename' {filename!r} needs one frame counter in the file name, such as {{:05d}} or %05d "
                "(for example 'frames/frame_{:05d}.png')")
    return (folder or "frames", pattern)


class SaveFrames(Node):
    """Save every frame as a numbered PNG in a new folder under the output folder."""

    type_id = "video.save_frames"
    widgets = ("filename",)
    category = "Input/Output"
    title = "Save Frames"
    is_output = True
    inputs = (Port("video", VIDEO),)
    outputs = (Port("path", STRING, tooltip="The folder the frames were written to."),)
    params = (
        Param("filename", str, default="frames/frame_{:05d}.png", kind="save_path", file_filter="PNG (*.png)",
              tooltip="Folder and file pattern: 'frames/frame_{:05d}.png' writes frames/frame_00000.png, ... "
                      "A new folder is made each run (frames, frames_0001, ...). {:05d} or %05d marks the "
                      "frame number, counted from 0."),
    )

    @classmethod
    def check(cls, params: dict) -> list[str]:
        if "filename" not in params:
            return []
        found = frame_pattern(params["filename"])
        return [found] if isinstance(found, str) else []

    def run(self, ctx: NodeContext, *, video: Video, filename: str) -> dict:
        found = frame_pattern(filename)
        if isinstance(found, str):
            raise UsageError(found)
        if video is None:
            raise UsageError("no video arrived on the 'video' input; connect a VIDEO output to it")
        folder_name, pattern = found
        target = ctx.output_path(folder_name)
        # Frames go into a hidden folder that is renamed when complete: no half-written folder on failure.
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
        try:
            done, total = 0, video.frame_count
            for block in video.chunks(chunk_frames(video.width, video.height)):
                for frame in block:
                    (tmp / pattern.format(done)).write_bytes(encode_png(frame))
                    done += 1
                ctx.progress(done, total)
            if done == 0:
                raise UsageError("the video has no frames; nothing to save")
            path = claim(tmp, target)
        except BaseException:
            for child in tmp.iterdir():
                child.unlink()
            tmp.rmdir()
            raise
        ctx.record_output(path)
        return {"path": str(path)}


def proxy_size(width: int, height: int, frame_count: int) -> tuple[int, int]:
    """Preview size: long side at most PROXY_SIDE, smaller still if every frame would not fit the budget."""
    scale = min(1.0, PROXY_SIDE / max(width, height))
    held = frame_count * width * height * 3 * scale * scale
    if held > PROXY_BUDGET:
        scale *= (PROXY_BUDGET / held) ** 0.5
    return max(1, round(width * scale)), max(1, round(height * scale))


def describe(frame_count: int, width: int, height: int, fps: float) -> str:
    """'143 frames, 768x512 @ 48 fps'."""
    return f"{frame_count} frames, {width}x{height} @ {round(fps, 2):g} fps"


class PreviewVideo(Node):
    """Play a clip on the node: a small copy of every frame, and a one-line summary."""

    type_id = "video.preview"
    category = "Input/Output"
    title = "Preview Video"
    is_output = True
    inputs = (Port("video", VIDEO),)
    outputs = (
        Port("video", VIDEO, tooltip="A small in-memory copy of the clip (long side at most 320 px)."),
        Port("summary", STRING, tooltip="Frame count, size and frame rate, e.g. '143 frames, 768x512 @ 48 fps'."),
    )

    def run(self, ctx: NodeContext, *, video: Video) -> dict:
        import cv2

        if video is None:
            raise UsageError("no video arrived on the 'video' input; connect a VIDEO output to it")
        w, h = proxy_size(video.width, video.height, video.frame_count)
        same = (w, h) == (video.width, video.height)
        small: list[np.ndarray] = []
        total, last_sent = video.frame_count, 0.0
        for block in video.chunks(chunk_frames(video.width, video.height)):
            for frame in block:
                small.append(frame.copy() if same else cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA))
            ctx.progress(len(small), total)
            now = time.monotonic()
            if now - last_sent >= PREVIEW_EVERY_S:
                last_sent = now
                ctx.preview(small[-1])
        if not small:
            raise UsageError("the video has no frames to preview")
        proxy = Video.from_array(np.stack(small), video.fps)
        ctx.preview(proxy.to_array(), video.fps)  # the whole clip, so the editor can play it
        summary = describe(len(small), video.width, video.height, video.fps)
        ctx.log.info("%s: %s", ctx.node_id, summary)
        return {"video": proxy, "summary": summary}

