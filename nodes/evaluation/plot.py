"""Draw METRICS curves as a PNG with OpenCV: one panel per curve, stacked."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

BACKGROUND = (24, 26, 30)
GRID = (60, 64, 72)
TEXT = (220, 220, 220)
COLOURS = ((100, 181, 246), (255, 183, 77), (129, 199, 132), (240, 98, 146), (186, 104, 200), (77, 208, 225))


def _finite(values: list[float]) -> np.ndarray:
    arr = np.asarray(values, np.float64)
    return arr[np.isfinite(arr)]


def _label(value: float) -> str:
    if value == 0 or 0.01 <= abs(value) < 10000:
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.1f}"
    return f"{value:.2e}"


def render_curves(curves: dict[str, list[float]], *, width: int = 900, panel_height: int = 150,
                  title: str = "") -> np.ndarray:
    """An RGB uint8 image with each curve drawn against its frame index."""
    import cv2

    font = cv2.FONT_HERSHEY_SIMPLEX
    header = 34 if title else 8
    names = [n for n, v in curves.items() if len(_finite(v))]
    height = header + max(1, len(names)) * panel_height
    img = np.empty((height, width, 3), np.uint8)
    img[:] = BACKGROUND
    if title:
        cv2.putText(img, title, (12, 24), font, 0.6, TEXT, 1, cv2.LINE_AA)
    if not names:
        cv2.putText(img, "no curves", (12, header + 24), font, 0.5, TEXT, 1, cv2.LINE_AA)
        return img
    left, right, top_pad, bottom_pad = 70, 16, 22, 22
    for i, name in enumerate(names):
        values = np.asarray(curves[name], np.float64)
        finite = _finite(values)
        lo, hi = float(finite.min()), float(finite.max())
        if math.isclose(lo, hi):
            lo, hi = lo - 0.5, hi + 0.5
        y0 = header + i * panel_height + top_pad
        y1 = header + (i + 1) * panel_height - bottom_pad
        x0, x1 = left, width - right
        cv2.rectangle(img, (x0, y0), (x1, y1), GRID, 1)
        cv2.line(img, (x0, (y0 + y1) // 2), (x1, (y0 + y1) // 2), GRID, 1)
        colour = COLOURS[i % len(COLOURS)]
        cv2.putText(img, f"{name}  (mean {_label(float(finite.mean()))})", (x0, y0 - 6), font, 0.45, colour, 1,
                    cv2.LINE_AA)
        cv2.putText(img, _label(hi), (6, y0 + 10), font, 0.38, TEXT, 1, cv2.LINE_AA)
        cv2.putText(img, _label(lo), (6, y1), font, 0.38, TEXT, 1, cv2.LINE_AA)
        n = len(values)
        cv2.putText(img, "0", (x0, y1 + 15), font, 0.38, TEXT, 1, cv2.LINE_AA)
        cv2.putText(img, str(n - 1), (x1 - 8 * len(str(n - 1)), y1 + 15), font, 0.38, TEXT, 1, cv2.LINE_AA)
        xs = x0 + (x1 - x0) * (np.arange(n) / max(1, n - 1))
        clipped = np.clip(np.nan_to_num(values, nan=lo, posinf=hi, neginf=lo), lo, hi)
        ys = y1 - (y1 - y0) * (clipped - lo) / (hi - lo)
        points = np.round(np.stack([xs, ys], axis=1) * 4).astype(np.int32)  # 2 bits of sub-pixel precision
        if n == 1:
            cv2.circle(img, tuple(int(v) for v in points[0]), 12, colour, -1, cv2.LINE_AA, 2)
        else:
            cv2.polylines(img, [points], False, colour, 2, cv2.LINE_AA, 2)
    return img


def save_plot(curves: dict[str, list[float]], path: str | Path, *, title: str = "") -> Path:
    """Write the curves plot as an image file (PNG by its extension); raise OSError on failure."""
    import cv2

    path = Path(path)
    img = render_curves(curves, title=title)
    try:
        ok = cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    except cv2.error:
        ok = False
    if not ok:
        raise OSError(f"could not write the plot to {path}; use a writable path ending in .png")
    return path
