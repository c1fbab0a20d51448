"""Camera motion: turn a still image into a clip with a smooth push-in, pan or roll."""

from __future__ import annotations

from .camera import CameraMotion

NODES = (CameraMotion,)


def register(registry) -> None:
    registry.register_all(NODES)
