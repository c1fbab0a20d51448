"""Nodes that reshape a mask frame by frame: grow or shrink, soften, invert."""

from __future__ import annotations

import numpy as np

from nodegraph.api import MARKED, MASK, Mask, Node, NodeContext, Param, Port, UsageError

MAX_RADIUS = 512


def _need(mask: Mask | None, node: str) -> Mask:
    if mask is None:
        raise UsageError(f"{node} needs a mask on its 'mask' input; connect one")
    return mask


def grow_frames(block: np.ndarray, pixels: int) -> np.ndarray:
    """Masks (k, H, W) grown by `pixels` in every direction (a disc), or shrunk when `pixels` is negative. The
    frame's edge is no edge of the mask: shrinking never eats in from it."""
    out = np.empty_like(block)
    for i, frame in enumerate(block):
        hard = np.isin(frame, (0, MARKED)).all()
        out[i] = _grow_hard(frame, pixels) if hard else _grow_soft(frame, pixels)
    return out


def _grow_hard(frame: np.ndarray, pixels: int) -> np.ndarray:
    """A 0/255 mask grown or shrunk by exact Euclidean distance: the same time for any number of pixels."""
    import cv2

    # distanceTransform measures each non-zero pixel's distance to the nearest zero one (none beyond the frame).
    if pixels > 0:
        far = cv2.distanceTransform(MARKED - frame, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        return np.where(far <= pixels, MARKED, 0).astype(np.uint8)
    inside = cv2.distanceTransform(frame, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return np.where(inside > -pixels, MARKED, 0).astype(np.uint8)


def _grow_soft(frame: np.ndarray, pixels: int) -> np.ndarray:
    """A mask with soft levels grown (each pixel takes the largest level within the disc) or shrunk."""
    import cv2

    radius = abs(pixels)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    op, border = (cv2.dilate, 0) if pixels > 0 else (cv2.erode, MARKED)
    return op(frame, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=border)


def blur_frames(block: np.ndarray, radius: int) -> np.ndarray:
    """Masks (k, H, W) with edges softened over `radius` pixels each side (OpenCV's stack blur, a close match
    to a Gaussian that takes the same time for any radius)."""
    import cv2

    size = 2 * radius + 1
    out = np.empty_like(block)
    for i, frame in enumerate(block):
        out[i] = cv2.stackBlur(frame, (size, size))
    return out


class GrowMask(Node):
    """Grow the marked area by a number of pixels in every direction (negative: shrink it)."""

    type_id = "mask.grow"
    category = "Utility"
    title = "Grow Mask"
    widgets = ("pixels",)
    inputs = (Port("mask", MASK),)
    outputs = (Port("mask", MASK),)
    params = (Param("pixels", int, default=8, min=-MAX_RADIUS, max=MAX_RADIUS,
                    tooltip="How far the marked area's edge moves outwards, in pixels; negative moves it inwards."),)

    def run(self, ctx: NodeContext, *, mask: Mask, pixels: int) -> dict:
        mask = _need(mask, "mask.grow")
        if pixels == 0:
            return {"mask": mask}
        return {"mask": mask.map_chunks(lambda block: grow_frames(block, pixels))}


class BlurMask(Node):
    """Soften a mask's edges (a Gaussian blur), so what fills the marked area blends into the rest."""

    type_id = "mask.blur"
    category = "Utility"
    title = "Blur Mask"
    widgets = ("radius",)
    inputs = (Port("mask", MASK),)
    outputs = (Port("mask", MASK),)
    params = (Param("radius", int, default=8, min=0, max=MAX_RADIUS,
                    tooltip="How many pixels either side of an edge fade, about; 0 leaves the mask as it is."),)

    def run(self, ctx: NodeContext, *, mask: Mask, radius: int) -> dict:
        mask = _need(mask, "mask.blur")
        if radius == 0:
            return {"mask": mask}
        return {"mask": mask.map_chunks(lambda block: blur_frames(block, radius))}


class InvertMask(Node):
    """Swap marked and unmarked: what was kept is filled, and what was filled is kept."""

    type_id = "mask.invert"
    category = "Utility"
    title = "Invert Mask"
    inputs = (Port("mask", MASK),)
    outputs = (Port("mask", MASK),)

    def run(self, ctx: NodeContext, *, mask: Mask) -> dict:
        mask = _need(mask, "mask.invert")
        return {"mask": mask.map_chunks(lambda block: MARKED - block)}
