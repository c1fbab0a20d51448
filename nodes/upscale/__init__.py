"""Learned upscaling: super-resolution models people already have (ESRGAN, Real-ESRGAN, SwinIR, DAT, OmniSR,
...) loaded with spandrel, run tiled and streamed.

torch and spandrel are imported inside functions, never at module import.
"""

from __future__ import annotations

from .loading import LoadUpscaleModel
from .nodes import UpscaleImage, UpscaleVideo

NODES = (LoadUpscaleModel, UpscaleVideo, UpscaleImage)


def register(registry) -> None:
    registry.register_all(NODES)
