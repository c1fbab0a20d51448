"""Control preprocessors: the edge and depth videos that steer a control model (Wan VACE), frame by frame.

Pose is not here: see README.md, "Control preprocessors".
"""

from __future__ import annotations

from .depth import DepthVideo
from .edges import EdgesVideo

NODES = (EdgesVideo, DepthVideo)


def register(registry) -> None:
    registry.register_all(NODES)
