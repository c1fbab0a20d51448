"""Masks: make them from pictures or boxes, grow, soften and invert them, frame by frame.

A MASK is a one-channel clip (nodegraph.mask.Mask): 255 marks the area to fill or regenerate.
"""

from __future__ import annotations

from .make import MaskBox, MaskFromImage, MaskToVideo
from .shape import BlurMask, GrowMask, InvertMask

NODES = (MaskFromImage, MaskBox, GrowMask, BlurMask, InvertMask, MaskToVideo)


def register(registry) -> None:
    registry.register_all(NODES)
