"""video.resize: scale every frame of a clip, streaming."""

from __future__ import annotations

import numpy as np

from nodegraph.api import IMAGE, VIDEO, Image, Node, NodeContext, Param, Port, UsageError, Video

METHODS = ("lanczos", "bicubic", "area", "nearest")
MAX_SIDE = 16384


def target_size(width: int, height: int, *, scale: float, out_width: int, out_height: int) -> tuple[int, int]:
    """The output (width, height): explicit sizes win over scale; one size alone keeps the aspect ratio."""
    if out_width and out_height:
        return out_width, out_height
    if out_width:
        return out_width, max(1, round(height * out_width / width))
    if out_height:
        return max(1, round(width * out_height / height)), out_height
    return max(1, round(width * scale)), max(1, round(height * scale))


def _interpolation(method: str):
    import cv2

    return {
        "lanczos": cv2.INTER_LANCZOS4,
        "bicubic": cv2.INTER_CUBIC,
        "area": cv2.INTER_AREA,
        "nearest": cv2.INTER_NEAREST,
    }[method]


def resize_frames(block: np.ndarray, size: tuple[int, int], method: str) -> np.ndarray:
    """Resize a chunk (k, H, W, 3) of uint8 frames to `size` = (width, height)."""
    import cv2

    flag = _interpolation(method)
    out = np.empty((len(block), size[1], size[0], 3), np.uint8)
    for i, frame in enumerate(block):
        out[i] = cv2.resize(frame, size, interpolation=flag)
    return out


def checked_size(width: int, height: int, params: dict, error: type[Exception] = ValueError) -> tuple[int, int]:
    """The output size for the scale/width/height params; `error` when a side would pass MAX_SIDE."""
    w, h = target_size(width, height, scale=params["scale"], out_width=params["width"],
                       out_height=params["height"])
    if max(w, h) > MAX_SIDE:
        raise error(f"resizing {width}x{height} gives {w}x{h}, larger than {MAX_SIDE} pixels a side; "
                         "lower the scale or set width/height explicitly")
    return w, h


class ResizeVideo(Node):
    """Resize every frame of a clip (by a scale, or to a width and/or height)."""

    type_id = "video.resize"
    widgets = ("scale",)
    category = "Upscaling"
    title = "Resize Video"
    inputs = (Port("video", VIDEO),)
    outputs = (Port("video", VIDEO),)
    params = (
        Param("scale", float, default=2.0, min=0.05, max=16.0, step=0.25,
              tooltip="Size factor for both sides. Ignored when width or height is set."),
        Param("width", int, default=0, min=0, max=MAX_SIDE,
              tooltip="Output width in pixels; 0 = from scale. Takes precedence over scale; "
                      "set alone, the height follows the aspect ratio."),
        Param("height", int, default=0, min=0, max=MAX_SIDE,
              tooltip="Output height in pixels; 0 = from scale. Takes precedence over scale; "
                      "set alone, the width follows the aspect ratio."),
        Param("method", str, default="lanczos", choices=METHODS,
              tooltip="Resampling filter: lanczos (sharp upscales), bicubic, area (best for shrinking), "
                      "nearest (pixel art)."),
    )

    @classmethod
    def frame_size(cls, params: dict, inputs: dict) -> tuple[int, int] | None:
        size = next(iter(inputs.values()), None)
        if size is None and not (params["width"] and params["height"]):
            return None
        return checked_size(*(size or (1, 1)), params)

    def run(self, ctx: NodeContext, *, video: Video, scale: float, width: int, height: int,
            method: str) -> dict:
        if video is None:
            raise UsageError("video.resize needs a video on its 'video' input; connect one")
        w, h = checked_size(video.width, video.height, dict(scale=scale, width=width, height=height), UsageError)
        if (w, h) == (video.width, video.height):
            return {"video": video}
        size = (w, h)
        return {"video": video.map_chunks(lambda block: resize_frames(block, size, method), width=w, height=h)}


class ResizeImage(Node):
    """Resize an image (by a scale, or to a width and/or height); its alpha is resized with it."""

    type_id = "image.resize"
    widgets = ("scale",)
    category = "Utility"
    title = "Resize Image"
    inputs = (Port("image", IMAGE),)
    outputs = (Port("image", IMAGE),)
    params = ResizeVideo.params

    @classmethod
    def frame_size(cls, params: dict, inputs: dict) -> tuple[int, int] | None:
        return ResizeVideo.frame_size(params, inputs)

    def run(self, ctx: NodeContext, *, image: Image, scale: float, width: int, height: int, method: str) -> dict:
        if image is None:
            raise UsageError("image.resize needs an image on its 'image' input; connect one")
        import cv2

        size = checked_size(image.width, image.height, dict(scale=scale, width=width, height=height), UsageError)
        if size == (image.width, image.height):
            return {"image": image}
        array = resize_frames(image.array[None], size, method)[0]
        alpha = None if image.alpha is None else cv2.resize(image.alpha, size, interpolation=_interpolation(method))
        resized = Image(array, alpha=alpha)
        ctx.preview(resized.array)
        return {"image": resized}
