"""Synthetic test clips with known ground truth: moving textures, bouncing shapes, flicker.

Everything is generated analytically, so a test can render the exact frame that should exist at any
(sub-pixel) position or time and measure how close a node's output comes to it.
"""

from __future__ import annotations

import numpy as np


def _waves(seed: int, count: int = 6, periods: tuple[float, float] = (6, 40)
           ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Random smooth sinusoid parameters per channel: (fx, fy, phase, amplitude) arrays."""
    rng = np.random.default_rng(seed)
    waves = []
    for _ in range(3):
        # Periods between ~6 and ~40 px by default: detailed enough to measure motion.
        freq = rng.uniform(1 / periods[1], 1 / periods[0], count) * rng.choice([-1.0, 1.0], count)
        angle = rng.uniform(0, np.pi, count)
        phase = rng.uniform(0, 2 * np.pi, count)
        amp = rng.uniform(0.5, 1.0, count)
        waves.append((freq * np.cos(angle), freq * np.sin(angle), phase, amp / amp.sum()))
    return waves


def _sum_waves(waves, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    planes = []
    for fx, fy, phase, amp in waves:
        acc = np.zeros(x.shape)
        for k in range(len(fx)):
            acc += amp[k] * np.sin(2 * np.pi * (fx[k] * x + fy[k] * y) + phase[k])
        planes.append(acc)
    return planes


def texture_frame(height: int, width: int, offset: tuple[float, float] = (0.0, 0.0), seed: int = 0,
                  natural: bool = False) -> np.ndarray:
    """One frame of the texture, shifted by `offset` = (dx, dy) pixels (any real value). uint8 (H, W, 3).

    By default each channel has its own fine detail. `natural=True` puts the detail in brightness and
    keeps colour smooth, like camera footage: what 4:2:0 video codecs are built for.
    """
    dx, dy = offset
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    x -= dx
    y -= dy
    if natural:
        luma = _sum_waves(_waves(seed), x, y)[0]
        tint = _sum_waves(_waves(seed + 7919, count=3, periods=(60, 200)), x, y)
        out = np.stack([0.8 * luma + 0.3 * t for t in tint], axis=-1)
    else:
        out = np.stack(_sum_waves(_waves(seed), x, y), axis=-1)
    return np.clip(np.rint(127.5 + 110.0 * out), 0, 255).astype(np.uint8)


def moving_texture(frames: int = 24, height: int = 64, width: int = 96, shift: tuple[float, float] = (0.75, 0.25),
                   seed: int = 0, natural: bool = False) -> np.ndarray:
    """A texture translating by `shift` = (dx, dy) pixels per frame: frame t is offset by t * shift.

    Returns uint8 (T, H, W, 3). The frame "between" t and t+1 is `texture_frame(h, w, (t + 0.5) * shift)`.
    `natural` as in `texture_frame`.
    """
    dx, dy = shift
    return np.stack([texture_frame(height, width, (t * dx, t * dy), seed, natural) for t in range(frames)])


def bouncing_shape(frames: int = 24, height: int = 64, width: int = 96, radius: float = 8.0,
                   velocity: tuple[float, float] = (3.3, 2.1), seed: int = 0,
                   background: tuple[int, int, int] = (30, 40, 50),
                   colour: tuple[int, int, int] = (240, 200, 60)) -> tuple[np.ndarray, np.ndarray]:
    """An anti-aliased disc bouncing off the frame edges.

    Returns (frames uint8 (T, H, W, 3), centres float (T, 2) as (x, y) in pixels).
    """
    rng = np.random.default_rng(seed)
    pos = np.array([rng.uniform(radius, width - radius), rng.uniform(radius, height - radius)])
    vel = np.array(velocity, np.float64)
    lo = np.array([radius, radius])
    hi = np.array([width - radius, height - radius])
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    bg = np.array(background, np.float64)
    fg = np.array(colour, np.float64)
    clip = np.empty((frames, height, width, 3), np.uint8)
    centres = np.empty((frames, 2))
    for t in range(frames):
        centres[t] = pos
        dist = np.hypot(x - pos[0], y - pos[1])
        cover = np.clip(radius + 0.5 - dist, 0.0, 1.0)[..., None]
        clip[t] = np.rint(bg * (1 - cover) + fg * cover).astype(np.uint8)
        pos = pos + vel
        for axis in range(2):  # reflect off the walls
            if pos[axis] < lo[axis]:
                pos[axis] = 2 * lo[axis] - pos[axis]
                vel[axis] = -vel[axis]
            elif pos[axis] > hi[axis]:
                pos[axis] = 2 * hi[axis] - pos[axis]
                vel[axis] = -vel[axis]
    return clip, centres


def add_flicker(clip: np.ndarray, amplitude: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Multiply each frame's brightness by a random gain in [1 - amplitude, 1 + amplitude].

    Returns (flickering uint8 clip, gains float (T,)).
    """
    rng = np.random.default_rng(seed)
    gains = 1.0 + rng.uniform(-amplitude, amplitude, len(clip))
    out = np.clip(np.rint(clip.astype(np.float64) * gains[:, None, None, None]), 0, 255).astype(np.uint8)
    return out, gains


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB between two uint8 arrays (inf when identical)."""
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0**2 / mse)
