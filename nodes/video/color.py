"""video.color: brightness, contrast, saturation and gamma of every frame, streaming."""

from __future__ import annotations

import numpy as np

from nodegraph.api import VIDEO, Node, NodeContext, Param, Port, UsageError, Video

_LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)  # Rec. 709


def tone_curve(brightness: float, contrast: float, gamma: float) -> np.ndarray:
    """The 256-entry uint8 lookup table of contrast (around mid grey), then brightness, then gamma."""
    x = np.arange(256, dtype=np.float64) / 255
    x = (x - 0.5) * contrast + 0.5 + brightness
    x = np.clip(x, 0.0, 1.0) ** (1.0 / gamma)
    return np.rint(x * 255).astype(np.uint8)


def adjust_frames(block: np.ndarray, curve: np.ndarray | None, saturation: float) -> np.ndarray:
    """Frames (k, H, W, 3) through the tone curve, then with their colourfulness scaled by `saturation`."""
    if curve is not None:
        block = curve[block]
    if saturation == 1.0:
        return block
    rgb = block.astype(np.float32)
    grey = (rgb @ _LUMA)[..., None]
    return np.clip(np.rint(grey + (rgb - grey) * np.float32(saturation)), 0, 255).astype(np.uint8)


class ColorVideo(Node):
    """Adjust brightness, contrast, saturation and gamma of every frame."""

    type_id = "video.color"
    category = "Utility"
    title = "Colour Video"
    widgets = ("brightness", "contrast", "saturation", "gamma")
    inputs = (Port("video", VIDEO),)
    outputs = (Port("video", VIDEO),)
    params = (
        Param("brightness", float, default=0.0, min=-1.0, max=1.0, step=0.05,
              tooltip="Added to every level, as a fraction of full white: 0.1 lifts everything by a tenth."),
        Param("contrast", float, default=1.0, min=0.0, max=4.0, step=0.05,
              tooltip="Spread of levels around mid grey: 1 keeps it, 0 makes everything grey, 2 doubles it."),
        Param("saturation", float, default=1.0, min=0.0, max=4.0, step=0.05,
              tooltip="Colourfulness: 1 keeps it, 0 is black and white, 2 doubles it."),
        Param("gamma", float, default=1.0, min=0.1, max=10.0, step=0.05,
              tooltip="Above 1 brightens the mid-tones, below 1 darkens them; black and white stay."),
    )

    def run(self, ctx: NodeContext, *, video: Video, brightness: float, contrast: float, saturation: float,
            gamma: float) -> dict:
        if video is None:
            raise UsageError("video.color needs a video on its 'video' input; connect one")
        toned = (brightness, contrast, gamma) != (0.0, 1.0, 1.0)
        if not toned and saturation == 1.0:
            return {"video": video}
        curve = tone_curve(brightness, contrast, gamma) if toned else None
        return {"video": video.map_chunks(lambda block: adjust_frames(block, curve, saturation))}
