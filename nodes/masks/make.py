"""Nodes that make masks: from a picture's levels, alpha or a colour key; a box; and a mask as a grey clip."""

from __future__ import annotations

import numpy as np

from nodegraph.api import IMAGE, MARKED, MASK, VIDEO, Image, Mask, Node, NodeContext, Param, Port, UsageError, Video
from nodes.video.picture_params import MAX_SIDE, STILL_FPS, colour_problems, image_or_video, parse_colour, rect_problem

SOURCES = ("luminance", "red", "green", "blue", "alpha", "transparency", "colour key")
_LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)  # Rec. 709


def levels(block: np.ndarray, source: str, key: tuple[int, int, int], tolerance: int) -> np.ndarray:
    """The mask (k, H, W) uint8 of RGB frames (k, H, W, 3) by `source` (not alpha: frames carry none)."""
    if source == "luminance":
        return np.rint(block.astype(np.float32) @ _LUMA).astype(np.uint8)
    if source in ("red", "green", "blue"):
        return np.ascontiguousarray(block[..., ("red", "green", "blue").index(source)])
    diff = block.astype(np.int32) - np.array(key, np.int32)
    near = np.einsum("...c,...c->...", diff, diff) <= tolerance * tolerance
    return near.astype(np.uint8) * np.uint8(MARKED)


class MaskFromImage(Node):
    """A mask from a picture: its brightness, one colour channel, its alpha (or transparency), or the pixels
    near a key colour. Works on an image (one-frame mask) or a video (frame by frame)."""

    type_id = "mask.from_image"
    category = "Utility"
    title = "Mask from Image"
    widgets = ("source", "threshold")
    inputs = (Port("image", IMAGE, optional=True), Port("video", VIDEO, optional=True))
    outputs = (Port("mask", MASK),)
    params = (
        Param("source", str, default="luminance", choices=SOURCES,
              tooltip="What marks a pixel: its brightness (white = marked), a colour channel, its alpha (opaque "
                      "= marked), its transparency (transparent = marked: the area erased for inpainting), or "
                      "nearness to the key colour."),
        Param("key_colour", str, default="#00ff00",
              tooltip="For 'colour key': the colour that marks a pixel, as #rrggbb or r, g, b."),
        Param("tolerance", int, default=40, min=0, max=442,
              tooltip="For 'colour key': how far (RGB distance, 0..442) a pixel may be from the key colour."),
        Param("threshold", int, default=0, min=0, max=255,
              tooltip="0 keeps soft levels; 1..255 makes a hard mask: marked where the level is at least this."),
    )

    @classmethod
    def check(cls, params: dict) -> list[str]:
        return colour_problems(params, "key_colour") if params.get("source") == "colour key" else []

    def run(self, ctx: NodeContext, *, image: Image | None, video: Video | None, source: str, key_colour: str,
            tolerance: int, threshold: int) -> dict:
        if source in ("alpha", "transparency"):
            mask = self._from_alpha(image, video, source)
        else:
            key = parse_colour(key_colour) if source == "colour key" else (0, 0, 0)
            clip, _ = image_or_video("mask.from_image", image, video)
            mask = Mask.from_video(clip, lambda block: levels(block, source, key, tolerance))
        if threshold:
            mask = mask.map_chunks(lambda block: (block >= threshold).astype(np.uint8) * np.uint8(MARKED))
        return {"mask": mask}

    @staticmethod
    def _from_alpha(image: Image | None, video: Video | None, source: str) -> Mask:
        if video is not None or image is None:
            raise UsageError(f"source '{source}' reads an image's alpha channel and videos carry none; connect an "
                             "IMAGE loaded from a PNG or WebP with transparency, or pick another source")
        if image.alpha is None:
            raise UsageError(f"source '{source}': the image has no alpha channel (it is opaque); load a PNG or WebP "
                             "with transparency, or pick another source such as 'luminance'")
        alpha = image.alpha if source == "alpha" else MARKED - image.alpha
        return Mask.from_array(alpha[None], STILL_FPS)


class MaskBox(Node):
    """A rectangle marked on a mask the size (and length) of the connected image or video."""

    type_id = "mask.box"
    category = "Utility"
    title = "Mask Box"
    widgets = ("x", "y", "width", "height")
    inputs = (Port("image", IMAGE, optional=True), Port("video", VIDEO, optional=True))
    outputs = (Port("mask", MASK),)
    params = (
        Param("x", int, default=0, min=0, max=MAX_SIDE, tooltip="Left edge of the box, in pixels from the left."),
        Param("y", int, default=0, min=0, max=MAX_SIDE, tooltip="Top edge of the box, in pixels from the top."),
        Param("width", int, default=64, min=1, max=MAX_SIDE, tooltip="Width of the box in pixels."),
        Param("height", int, default=64, min=1, max=MAX_SIDE, tooltip="Height of the box in pixels."),
    )

    @classmethod
    def frame_size(cls, params: dict, inputs: dict) -> tuple[int, int] | None:
        size = next(iter(inputs.values()), None)
        if size is not None:
            problem = rect_problem(params["x"], params["y"], params["width"], params["height"], *size, "box")
            if problem:
                raise ValueError(problem)
        return size

    def run(self, ctx: NodeContext, *, image: Image | None, video: Video | None, x: int, y: int, width: int,
            height: int) -> dict:
        if image is not None and video is not None:
            raise UsageError("mask.box takes its size from an image or a video, and both are connected; "
                             "disconnect one")
        like = video if video is not None else image
        if like is None:
            raise UsageError("mask.box needs an image or a video to take its size from; connect one")
        problem = rect_problem(x, y, width, height, like.width, like.height, "box")
        if problem:
            raise UsageError(problem)
        count, fps = (video.frame_count, video.fps) if video is not None else (1, STILL_FPS)
        empty = Mask.filled(0, width=like.width, height=like.height, frame_count=count, fps=fps)

        def draw(block: np.ndarray) -> np.ndarray:
            block[:, y:y + height, x:x + width] = MARKED
            return block

        return {"mask": empty.map_chunks(draw)}


class MaskToVideo(Node):
    """A mask as a grey video (white where marked), to watch, save, or feed a VIDEO input."""

    type_id = "mask.to_video"
    category = "Utility"
    title = "Mask to Video"
    inputs = (Port("mask", MASK),)
    outputs = (Port("video", VIDEO),)

    def run(self, ctx: NodeContext, *, mask: Mask) -> dict:
        if mask is None:
            raise UsageError("mask.to_video needs a mask on its 'mask' input; connect one")
        return {"video": mask.to_video()}
