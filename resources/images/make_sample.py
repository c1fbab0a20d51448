"""Regenerates sample.png, the picture the default workflow animates (made here, CC0).

Run: python resources/images/make_sample.py
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

W, H = 384, 216


def ridge(rng: np.random.Generator, base: float, amplitude: float, roughness: int) -> np.ndarray:
    """A mountain ridge line: summed sines with random phases, one height per column."""
    x = np.linspace(0, 1, W)
    y = np.full(W, base)
    for octave in range(1, roughness + 1):
        y += amplitude / octave * np.sin(2 * np.pi * (octave * 1.7 * x + rng.random()))
    return y


def main() -> None:
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    t = yy / H
    sky = np.stack([70 + 150 * t, 90 + 110 * t, 160 + 60 * t], axis=-1)  # dusk gradient (RGB)
    sun = np.exp(-(((xx - 0.68 * W) ** 2 + (yy - 0.42 * H) ** 2) / (2 * 18.0**2)))
    glow = np.exp(-(((xx - 0.68 * W) ** 2 + (yy - 0.42 * H) ** 2) / (2 * 70.0**2)))
    img = sky + sun[..., None] * np.array([255, 230, 170]) + glow[..., None] * np.array([90, 50, 10])

    layers = [(0.55, 18, 5, (92, 84, 120)), (0.68, 14, 6, (60, 58, 92)), (0.82, 10, 7, (34, 40, 60))]
    for base, amp, rough, colour in layers:
        line = ridge(rng, base * H, amp, rough)
        mask = yy > line[None, :]
        texture = rng.normal(0, 6, (H, W, 1)).astype(np.float32)
        img = np.where(mask[..., None], np.array(colour, np.float32) + texture, img)

    stars = (rng.random((H, W)) > 0.997) & (yy < 0.4 * H)
    img[stars] = 240
    img = cv2.GaussianBlur(np.clip(img, 0, 255).astype(np.uint8), (3, 3), 0.6)
    out = Path(__file__).with_name("sample.png")
    cv2.imwrite(str(out), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    print(out)


if __name__ == "__main__":
    main()
