"""Scene-cut detection for frame interpolation: a hard cut is not morphed across, its frame is held instead.

A pair of frames is scored by how much of their content motion cannot explain: optical flow (OpenCV DIS) warps
a small grey thumbnail of the second frame onto the first, and what differs after that, relative to the
thumbnails' own contrast, is the score. Motion leaves little (0.1-0.4 for pans of up to 5% of the width per
frame); a cut to another shot leaves about as much as the contrast itself (1.2-1.4).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from nodegraph.api import DEFAULT_CHUNK, Video

DEFAULT_THRESHOLD = 0.6
THUMBNAIL_SIDE = 128
MARGIN = 4  # thumbnail pixels left out at the border, where content enters and leaves


def thumbnail(frame: np.ndarray) -> np.ndarray:
    """A grey thumbnail of an RGB frame, at most THUMBNAIL_SIDE a side."""
    import cv2

    h, w = frame.shape[:2]
    step = max(1.0, max(h, w) / THUMBNAIL_SIDE)
    small = cv2.resize(frame, (max(1, round(w / step)), max(1, round(h / step))), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)


class CutScorer:
    """Scores pairs of thumbnails: what is left after motion compensation, relative to their contrast."""

    def __init__(self):
        import cv2

        self.cv2 = cv2
        self.dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)

    def score(self, a: np.ndarray, b: np.ndarray) -> float:
        cv2 = self.cv2
        flow = self.dis.calc(a, b, None)
        h, w = a.shape
        gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
        warped = cv2.remap(b, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        inner = (slice(MARGIN, max(MARGIN + 1, h - MARGIN)), slice(MARGIN, max(MARGIN + 1, w - MARGIN)))
        left = np.abs(warped.astype(np.float32) - a)[inner].mean()
        contrast = (np.abs(a - a.mean(dtype=np.float32)).mean() + np.abs(b - b.mean(dtype=np.float32)).mean()) / 2
        return float(left / (contrast + 1.0))


class SceneCuts:
    """Tells, frame after frame, whether a frame starts a new shot (threshold 0 = never)."""

    def __init__(self, threshold: float):
        self.threshold = threshold
        self.scorer = CutScorer() if threshold else None
        self.previous: np.ndarray | None = None

    def is_cut(self, frame: np.ndarray) -> bool:
        """Whether `frame` cuts from the frame given before it."""
        if self.scorer is None:
            return False
        current = thumbnail(frame)
        cut = self.previous is not None and self.scorer.score(self.previous, current) >= self.threshold
        self.previous = current
        return cut


Between = Callable[[np.ndarray, np.ndarray, int], np.ndarray]


def pairwise_stream(video: Video, factor: int, make_between: Callable[[], Between], threshold: float
                    ) -> Iterator[np.ndarray]:
    """The clip with factor - 1 frames made between each pair by `between(a, b, factor)` (made on first use),
    or the first frame of the pair held where the pair is a scene cut. One frame is carried across chunks."""
    between = None
    cuts = SceneCuts(threshold)
    prev = None
    for block in video.chunks(DEFAULT_CHUNK):
        for frame in block:
            cut = cuts.is_cut(frame)
            if prev is None:
                yield frame[None]
            elif cut:
                yield np.concatenate([np.repeat(prev[None], factor - 1, axis=0), frame[None]])
            else:
                if between is None:
                    between = make_between()
                yield np.concatenate([between(prev, frame, factor), frame[None]])
            prev = frame
