"""Synthetic clips with known ground truth, and the defects the metrics must catch.

Used by tests and by bench/quality.py. A `Scene` renders any (fractional) time, so true
in-between frames are known exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Scene:
    """A panning colour texture with a disc bouncing across it."""

    width: int = 160
    height: int = 120
    velocity: tuple[float, float] = (1.6, 0.9)  # background pan, pixels per frame
    disc_speed: tuple[float, float] = (3.1, 2.3)
    seed: int = 0

    def __post_init__(self) -> None:
        import cv2

        rng = np.random.default_rng(self.seed)
        margin = 256
        h, w = self.height + margin, self.width + margin
        texture = np.zeros((h, w, 3), np.float32)
        for sigma, weight in ((1.5, 0.4), (4.0, 0.8), (12.0, 1.0)):
            layer = rng.standard_normal((h, w, 3)).astype(np.float32)
            layer = cv2.GaussianBlur(layer, (0, 0), sigma)
            texture += weight * layer / (layer.std() + 1e-6)
        texture = 128 + 28 * texture
        self._texture = np.clip(texture, 8, 247).astype(np.float32)
        self._colour = rng.uniform(60, 240, 3).astype(np.float32)

    def frame(self, t: float) -> np.ndarray:
        """The frame at time `t` (in frames; fractions give true in-betweens)."""
        import cv2

        vx, vy = self.velocity
        shift = np.float32([[1, 0, -(20 + vx * t)], [0, 1, -(20 + vy * t)]])
        img = cv2.warpAffine(self._texture, shift, (self.width, self.height), flags=cv2.INTER_CUBIC,
                             borderMode=cv2.BORDER_REFLECT)
        radius = min(self.width, self.height) * 0.15
        cx = _bounce(self.width * 0.3 + self.disc_speed[0] * t, radius, self.width - radius)
        cy = _bounce(self.height * 0.4 + self.disc_speed[1] * t, radius, self.height - radius)
        ys, xs = np.mgrid[0:self.height, 0:self.width].astype(np.float32)
        dist = np.sqrt((xs - cx) ** 2 + (ys - cy) ** 2)
        alpha = np.clip(radius - dist + 0.5, 0, 1)[..., None]  # anti-aliased edge
        shade = self._colour * (0.85 + 0.15 * np.cos(xs / 5.0 + ys / 7.0))[..., None]
        img = img * (1 - alpha) + shade * alpha
        return np.clip(img + 0.5, 0, 255).astype(np.uint8)

    def clip(self, count: int, start: float = 0.0, step: float = 1.0) -> np.ndarray:
        """`count` frames shaped (T, H, W, 3) uint8."""
        return np.stack([self.frame(start + i * step) for i in range(count)])


def _bounce(x: float, lo: float, hi: float) -> float:
    span = hi - lo
    phase = (x - lo) % (2 * span)
    return lo + (phase if phase <= span else 2 * span - phase)


def _to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(x + 0.5, 0, 255).astype(np.uint8)


def gain_flicker(frames: np.ndarray, amplitude: float, seed: int = 1) -> np.ndarray:
    """Multiply each frame by 1 + amplitude * u, u uniform in [-1, 1] (same u for any amplitude)."""
    u = np.random.default_rng(seed).uniform(-1, 1, len(frames)).astype(np.float32)
    return _to_uint8(frames.astype(np.float32) * (1 + amplitude * u)[:, None, None, None])


def blotches(frames: np.ndarray, strength: float, seed: int = 2, radius: float = 10.0) -> np.ndarray:
    """Darken a soft spot at a random place in every frame; `strength` is its depth in levels."""
    rng = np.random.default_rng(seed)
    t, h, w, _ = frames.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    out = frames.astype(np.float32)
    for i in range(t):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        spot = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * radius**2))
        out[i] -= strength * spot[..., None]
    return _to_uint8(out)


def noise(frames: np.ndarray, sigma: float, seed: int = 3) -> np.ndarray:
    """Add Gaussian noise of standard deviation `sigma` levels (same pattern for any sigma)."""
    z = np.random.default_rng(seed).standard_normal(frames.shape).astype(np.float32)
    return _to_uint8(frames.astype(np.float32) + sigma * z)


def freeze(frames: np.ndarray, count: int, every: int = 8) -> np.ndarray:
    """Stall the clip: repeat `count` frames (one every `every` frames), keeping the length."""
    out: list[np.ndarray] = []
    held = 0
    for i, frame in enumerate(frames):
        out.append(frame)
        if held < count and i % every == every // 2:
            out.append(frame)
            held += 1
    return np.stack(out[:len(frames)])


def drop(frames: np.ndarray, count: int, positions: tuple[int, ...] = (10, 25)) -> np.ndarray:
    """Remove `count` consecutive frames after each of `positions`."""
    keep = np.ones(len(frames), bool)
    for p in positions:
        keep[p + 1:p + 1 + count] = False
    return frames[keep]
