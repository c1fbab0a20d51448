"""control.edges: OpenCV's Canny edge detector on every frame, streaming."""

from __future__ import annotations

import numpy as np

from nodegraph.api import VIDEO, Node, NodeContext, Param, Port, UsageError, Video


def edge_frames(block: np.ndarray, low: int, high: int) -> np.ndarray:
    """White edges on black, (k, H, W, 3) uint8, of RGB frames (k, H, W, 3)."""
    import cv2

    out = np.empty_like(block)
    for i, frame in enumerate(block):
        edges = cv2.Canny(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), low, high, L2gradient=True)
        out[i] = edges[..., None]
    return out


class EdgesVideo(Node):
    """Edges of every frame (OpenCV Canny), white on black: a control video for an edge-guided model."""

    type_id = "control.edges"
    category = "Conditioning"
    title = "Edges (Canny)"
    widgets = ("low", "high")
    inputs = (Port("video", VIDEO),)
    outputs = (Port("video", VIDEO),)
    params = (
        Param("low", int, default=100, min=0, max=1000,
              tooltip="Edges weaker than this are dropped, unless they continue a strong edge."),
        Param("high", int, default=200, min=1, max=1000,
              tooltip="Edges stronger than this are always kept; lower it to keep more detail."),
    )

    @classmethod
    def check(cls, params: dict) -> list[str]:
        low, high = params.get("low", 0), params.get("high", 1)
        if isinstance(low, int) and isinstance(high, int) and low > high:
            return [f"low ({low}) is above high ({high}); set low at or below high (e.g. half of it)"]
        return []

    def run(self, ctx: NodeContext, *, video: Video, low: int, high: int) -> dict:
        if video is None:
            raise UsageError("control.edges needs a video on its 'video' input; connect one")
        problems = self.check({"low": low, "high": high})
        if problems:
            raise UsageError(problems[0])
        return {"video": video.map_chunks(lambda block: edge_frames(block, low, high))}
