"""Fast frame interpolation: OpenCV DIS optical flow both ways, warp both frames, blend.

Occlusions are handled with a forward/backward consistency check: content whose
flow does not round-trip is visible in one frame only, so the sample from the
other frame gets little weight there.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from nodegraph.api import Video

from .scene_cut import pairwise_stream

FLOW_MAX_SIDE = 960  # flow is estimated at most at this size, then scaled up
CONSISTENCY_PX2 = 2.0  # squared round-trip error (pixels^2) at which a sample's weight falls to 1/e


class FlowInterpolator:
    """Makes the in-between frames of a pair of RGB frames with DIS optical flow."""

    def __init__(self, width: int, height: int, preset: str = "fast"):
        import cv2

        self.cv2 = cv2
        self.size = (width, height)
        presets = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
                   "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}
        self.dis = cv2.DISOpticalFlow_create(presets[preset])
        self.flow_scale = min(1.0, FLOW_MAX_SIDE / max(width, height))
        gy, gx = np.mgrid[0:height, 0:width].astype(np.float32)
        self.gx, self.gy = gx, gy

    def _gray(self, frame: np.ndarray) -> np.ndarray:
        cv2 = self.cv2
        gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        if self.flow_scale < 1.0:
            w, h = self.size
            small = (max(8, round(w * self.flow_scale)), max(8, round(h * self.flow_scale)))
            gray = cv2.resize(gray, small, interpolation=cv2.INTER_AREA)
        return gray

    def _flow(self, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        flow = self.dis.calc(src, dst, None)
        if self.flow_scale < 1.0:
            w, h = self.size
            fx, fy = w / flow.shape[1], h / flow.shape[0]
            flow = self.cv2.resize(flow, self.size, interpolation=self.cv2.INTER_LINEAR)
            flow[..., 0] *= fx
            flow[..., 1] *= fy
        return flow

    def _maps(self, flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Absolute sampling coordinates for a flow field, in OpenCV's fixed-point form (1/32 pixel): remapping
        with it takes a half (cubic) to a tenth (linear) of the time float coordinates take."""
        return self.cv2.convertMaps(self.gx + flow[..., 0], self.gy + flow[..., 1], self.cv2.CV_16SC2)

    def _remap(self, image: np.ndarray, maps: tuple[np.ndarray, np.ndarray], interpolation: int) -> np.ndarray:
        return self.cv2.remap(image, maps[0], maps[1], interpolation, borderMode=self.cv2.BORDER_REPLICATE)

    def between(self, a: np.ndarray, b: np.ndarray, factor: int) -> np.ndarray:
        """The factor - 1 frames strictly between `a` and `b`, shaped (factor - 1, H, W, 3)."""
        cv2 = self.cv2
        linear, cubic = cv2.INTER_LINEAR, cv2.INTER_CUBIC
        g0, g1 = self._gray(a), self._gray(b)
        f01, f10 = self._flow(g0, g1), self._flow(g1, g0)
        # Confidence of each pixel's flow from its round-trip error: low where it is hidden in the other frame.
        c0 = _confidence(f01 + self._remap(f10, self._maps(f01), linear))
        c1 = _confidence(f10 + self._remap(f01, self._maps(f10), linear))
        out = np.empty((factor - 1, *a.shape), np.uint8)
        for k in range(1, factor):
            t = k / factor
            # Flow from time t back to each frame, from the two frame-to-frame flows.
            maps0 = self._maps((-(1 - t) * t) * f01 + (t * t) * f10)
            maps1 = self._maps(((1 - t) ** 2) * f01 - (t * (1 - t)) * f10)
            # Trust a frame's sample as far as that content is visible in it: content that does not
            # round-trip in frame 1 is missing from frame 0 (revealed), and the other way round.
            w0 = self._remap(c1, maps1, linear)
            w1 = self._remap(c0, maps0, linear)
            w0 *= 1 - t
            w1 *= t
            total = w0 + w1
            w0 /= total
            s0 = self._remap(a, maps0, cubic).astype(np.float32)
            s1 = self._remap(b, maps1, cubic).astype(np.float32)
            s0 -= s1
            s0 *= w0[..., None]
            s0 += s1
            s0 += 0.5
            np.clip(s0, 0, 255, out=s0)
            out[k - 1] = s0
        return out


def _confidence(roundtrip: np.ndarray) -> np.ndarray:
    """exp(-|error|^2 / CONSISTENCY_PX2), floored so two unsure samples still blend by time."""
    err = roundtrip[..., 0] ** 2
    err += roundtrip[..., 1] ** 2
    err *= -1.0 / CONSISTENCY_PX2
    conf = np.exp(err)
    conf += 1e-3
    return conf


def flow_stream(video: Video, factor: int, preset: str = "fast", scene_cut: float = 0.0) -> Iterator[np.ndarray]:
    """Yield the interpolated clip chunk by chunk; pairs across a scene cut (score >= `scene_cut`) are held."""
    return pairwise_stream(video, factor, lambda: FlowInterpolator(video.width, video.height, preset).between,
                           scene_cut)
