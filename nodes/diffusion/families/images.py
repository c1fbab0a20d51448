"""Conversions from Kinograph's IMAGE and VIDEO values to what diffusers pipelines take."""

from __future__ import annotations


def to_pil(image):
    """An Image value (or a uint8 (H, W, 3) array) as a PIL image."""
    from PIL import Image as PILImage

    array = getattr(image, "array", image)
    return PILImage.fromarray(array)


def to_pil_list(video) -> list:
    """Every frame of a Video value as PIL images (video-to-video needs the whole clip)."""
    from PIL import Image as PILImage

    return [PILImage.fromarray(frame) for frame in video.frames()]
