"""Frame-by-frame video processing: resize, frame interpolation, trim and concat.

Every node here streams: it pulls its input in chunks and returns a lazy `Video`,
so a long clip passes through in bounded memory.
"""

from __future__ import annotations

from .edit import ConcatVideo, TrimVideo
from .interpolate import InterpolateVideo
from .resize import ResizeVideo

NODES = (ResizeVideo, InterpolateVideo, TrimVideo, ConcatVideo)


def register(registry) -> None:
    registry.register_all(NODES)
