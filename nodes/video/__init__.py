"""Frame-by-frame video processing: resize, frame interpolation, trim and concat, crop, pad and colour.

Every node here streams: it pulls its input in chunks and returns a lazy `Video`,
so a long clip passes through in bounded memory.
"""

from __future__ import annotations

from .color import ColorVideo
from .crop_pad import CropImage, CropVideo, PadVideo
from .edit import ConcatVideo, TrimVideo
from .interpolate import InterpolateVideo
from .resize import ResizeImage, ResizeVideo

NODES = (ResizeVideo, InterpolateVideo, TrimVideo, ConcatVideo)
PICTURE_NODES = (CropVideo, PadVideo, ColorVideo, ResizeImage, CropImage)


def register(registry) -> None:
    registry.register_all(NODES)
    registry.register_all(PICTURE_NODES)
