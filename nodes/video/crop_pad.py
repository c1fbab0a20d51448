"""video.crop, image.crop and video.pad (with a mask of the padding, for outpainting), streaming."""

from __future__ import annotations

import numpy as np

from nodegraph.api import IMAGE, MARKED, MASK, VIDEO, Image, Mask, Node, NodeContext, Param, Port, UsageError, Video

from .picture_params import MAX_SIDE, colour_problems, parse_colour, rect_problem

FILLS = ("colour", "edge", "mirror")


def _rect_params() -> tuple[Param, ...]:
    return (
        Param("x", int, default=0, min=0, max=MAX_SIDE, tooltip="Left edge of the kept area, in pixels."),
        Param("y", int, default=0, min=0, max=MAX_SIDE, tooltip="Top edge of the kept area, in pixels."),
        Param("width", int, default=512, min=1, max=MAX_SIDE, tooltip="Width of the kept area, in pixels."),
        Param("height", int, default=512, min=1, max=MAX_SIDE, tooltip="Height of the kept area, in pixels."),
    )


def _crop_size(params: dict, inputs: dict) -> tuple[int, int]:
    size = next(iter(inputs.values()), None)
    if size is not None:
        problem = rect_problem(params["x"], params["y"], params["width"], params["height"], *size, "crop")
        if problem:
            raise ValueError(problem)
    return params["width"], params["height"]


class CropVideo(Node):
    """Keep a rectangle of every frame (x, y from the top-left corner)."""

    type_id = "video.crop"
    category = "Utility"
    title = "Crop Video"
    widgets = ("x", "y", "width", "height")
    inputs = (Port("video", VIDEO),)
    outputs = (Port("video", VIDEO),)
    params = _rect_params()

    @classmethod
    def frame_size(cls, params: dict, inputs: dict) -> tuple[int, int] | None:
        return _crop_size(params, inputs)

    def run(self, ctx: NodeContext, *, video: Video, x: int, y: int, width: int, height: int) -> dict:
        if video is None:
            raise UsageError("video.crop needs a video on its 'video' input; connect one")
        problem = rect_problem(x, y, width, height, video.width, video.height, "crop")
        if problem:
            raise UsageError(problem)
        if (x, y, width, height) == (0, 0, video.width, video.height):
            return {"video": video}
        cropped = video.map_chunks(lambda block: np.ascontiguousarray(block[:, y:y + height, x:x + width]),
                                   width=width, height=height)
        return {"video": cropped}


class CropImage(Node):
    """Keep a rectangle of an image (x, y from the top-left corner); its alpha is cropped with it."""

    type_id = "image.crop"
    category = "Utility"
    title = "Crop Image"
    widgets = ("x", "y", "width", "height")
    inputs = (Port("image", IMAGE),)
    outputs = (Port("image", IMAGE),)
    params = _rect_params()

    @classmethod
    def frame_size(cls, params: dict, inputs: dict) -> tuple[int, int] | None:
        return _crop_size(params, inputs)

    def run(self, ctx: NodeContext, *, image: Image, x: int, y: int, width: int, height: int) -> dict:
        if image is None:
            raise UsageError("image.crop needs an image on its 'image' input; connect one")
        problem = rect_problem(x, y, width, height, image.width, image.height, "crop")
        if problem:
            raise UsageError(problem)
        area = (slice(y, y + height), slice(x, x + width))
        alpha = None if image.alpha is None else np.ascontiguousarray(image.alpha[area])
        cropped = Image(np.ascontiguousarray(image.array[area]), alpha=alpha)
        ctx.preview(cropped.array)
        return {"image": cropped}


def pad_problem(width: int, height: int, left: int, top: int, right: int, bottom: int, fill: str) -> str | None:
    """Why a width x height frame cannot be padded so, or None."""
    out_w, out_h = width + left + right, height + top + bottom
    if max(out_w, out_h) > MAX_SIDE:
        return (f"padding {width}x{height} gives {out_w}x{out_h}, larger than {MAX_SIDE} pixels a side; "
                "pad less")
    if fill == "mirror" and (max(left, right) >= width or max(top, bottom) >= height):
        return (f"'mirror' reflects the picture, so each pad must be smaller than the frame ({width}x{height}); "
                f"got left {left}, right {right}, top {top}, bottom {bottom}: pad less or use 'edge' or 'colour'")
    return None


def pad_frames(block: np.ndarray, pads: tuple[int, int, int, int], fill: str,
               colour: tuple[int, int, int]) -> np.ndarray:
    """Frames (k, H, W, 3) padded by (left, top, right, bottom) pixels with a colour, the edge pixels, or a
    mirror image of the picture."""
    left, top, right, bottom = pads
    if fill == "colour":
        k, h, w, _ = block.shape
        out = np.empty((k, h + top + bottom, w + left + right, 3), np.uint8)
        out[:] = colour
        out[:, top:top + h, left:left + w] = block
        return out
    mode = "edge" if fill == "edge" else "symmetric"
    return np.pad(block, ((0, 0), (top, bottom), (left, right), (0, 0)), mode=mode)


class PadVideo(Node):
    """Add borders around every frame, and a mask marking exactly the added borders (for outpainting)."""

    type_id = "video.pad"
    category = "Utility"
    title = "Pad Video"
    widgets = ("left", "top", "right", "bottom")
    inputs = (Port("video", VIDEO),)
    outputs = (Port("video", VIDEO), Port("mask", MASK, tooltip="255 on the added borders, 0 on the picture."))
    params = (
        Param("left", int, default=0, min=0, max=MAX_SIDE, tooltip="Pixels added on the left."),
        Param("top", int, default=0, min=0, max=MAX_SIDE, tooltip="Pixels added at the top."),
        Param("right", int, default=0, min=0, max=MAX_SIDE, tooltip="Pixels added on the right."),
        Param("bottom", int, default=0, min=0, max=MAX_SIDE, tooltip="Pixels added at the bottom."),
        Param("fill", str, default="colour", choices=FILLS,
              tooltip="What the borders hold: a flat colour, the edge pixels stretched out, or a mirror image."),
        Param("colour", str, default="#808080",
              tooltip="For 'colour': the border colour, as #rrggbb or r, g, b (mid grey is what outpainting "
                      "models expect)."),
    )

    @classmethod
    def check(cls, params: dict) -> list[str]:
        return colour_problems(params, "colour") if params.get("fill") == "colour" else []

    @classmethod
    def frame_size(cls, params: dict, inputs: dict) -> tuple[int, int] | None:
        size = next(iter(inputs.values()), None)
        if size is None:
            return None
        pads = params["left"], params["top"], params["right"], params["bottom"]
        problem = pad_problem(*size, *pads, params["fill"])
        if problem:
            raise ValueError(problem)
        return size[0] + pads[0] + pads[2], size[1] + pads[1] + pads[3]

    def run(self, ctx: NodeContext, *, video: Video, left: int, top: int, right: int, bottom: int, fill: str,
            colour: str) -> dict:
        if video is None:
            raise UsageError("video.pad needs a video on its 'video' input; connect one")
        problem = pad_problem(video.width, video.height, left, top, right, bottom, fill)
        if problem:
            raise UsageError(problem)
        rgb = parse_colour(colour) if fill == "colour" else (0, 0, 0)
        pads = (left, top, right, bottom)
        out_w, out_h = video.width + left + right, video.height + top + bottom
        padded = video.map_chunks(lambda block: pad_frames(block, pads, fill, rgb), width=out_w, height=out_h)
        borders = Mask.filled(MARKED, width=out_w, height=out_h, frame_count=video.frame_count, fps=video.fps)

        def clear_picture(block: np.ndarray) -> np.ndarray:
            block[:, top:top + video.height, left:left + video.width] = 0
            return block

        return {"video": padded, "mask": borders.map_chunks(clear_picture)}
