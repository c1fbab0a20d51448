"""Input/Output nodes: load and save images and videos, save frames, preview clips.

Saved videos and PNGs carry their workflow; `read_embedded_workflow` gets it back.
"""

from __future__ import annotations

from .frames import PreviewVideo, SaveFrames
from .images import LoadImage, SaveImage
from .metadata import read_embedded_workflow
from .video_read import LoadVideo
from .video_write import SaveVideo

NODES = (LoadImage, SaveImage, LoadVideo, SaveVideo, SaveFrames, PreviewVideo)

__all__ = ["NODES", "read_embedded_workflow", "register"]


def register(registry) -> None:
    registry.register_all(NODES)
    registry.add_workflow_reader(read_embedded_workflow)
