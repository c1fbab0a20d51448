"""Pure metric functions on uint8 RGB frames (numpy and OpenCV; cv2 is imported inside functions)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

PSNR_CAP = 100.0  # dB reported for identical images (keeps JSON finite)
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # BT.601


def luma(frame: np.ndarray) -> np.ndarray:
    """Luma (0-255, float32) of an RGB frame or stack of frames."""
    return frame.astype(np.float32) @ _LUMA


def psnr_from_mse(mse: float, peak: float = 255.0) -> float:
    """PSNR in dB for a mean squared error, capped at PSNR_CAP."""
    if mse <= peak * peak * 10 ** (-PSNR_CAP / 10):
        return PSNR_CAP
    return float(10.0 * np.log10(peak * peak / mse))


def mse(a: np.ndarray, b: np.ndarray) -> float:
    diff = a.astype(np.float32) - b.astype(np.float32)
    return float(np.mean(diff * diff))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB between two uint8 images of the same shape."""
    return psnr_from_mse(mse(a, b))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Structural similarity of the luma of two RGB frames (Gaussian window 11, sigma 1.5)."""
    import cv2

    x, y = luma(a), luma(b)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(img: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(img, (11, 11), 1.5)

    mx, my = blur(x), blur(y)
    sxx = blur(x * x) - mx * mx
    syy = blur(y * y) - my * my
    sxy = blur(x * y) - mx * my
    num = (2 * mx * my + c1) * (2 * sxy + c2)
    den = (mx * mx + my * my + c1) * (sxx + syy + c2)
    return float(np.mean(num / den))


def fit_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """(width, height) scaled down so the longer side is at most `max_side` (never up)."""
    scale = min(1.0, max_side / max(width, height))
    return max(8, round(width * scale)), max(8, round(height * scale))


def resize(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import cv2

    if (frame.shape[1], frame.shape[0]) == size:
        return frame
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


def optical_flow(a_gray: np.ndarray, b_gray: np.ndarray) -> np.ndarray:
    """Dense flow (H, W, 2) from uint8 gray image `a` to `b` (Farneback)."""
    import cv2

    return cv2.calcOpticalFlowFarneback(a_gray, b_gray, None, 0.5, 4, 15, 3, 5, 1.2, 0)


def upscale_flow(flow: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Flow computed on a small image, resized to `size` (w, h) with vectors scaled to match."""
    import cv2

    h, w = flow.shape[:2]
    if (w, h) == size:
        return flow
    big = cv2.resize(flow, size, interpolation=cv2.INTER_LINEAR)
    big[..., 0] *= size[0] / w
    big[..., 1] *= size[1] / h
    return big


@lru_cache(maxsize=4)
def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    xs.setflags(write=False)
    ys.setflags(write=False)
    return xs, ys


def squared_norm(v: np.ndarray) -> np.ndarray:
    """Sum of squares over the last axis (faster than np.sum for a short last axis)."""
    out = v[..., 0] * v[..., 0]
    for i in range(1, v.shape[-1]):
        out += v[..., i] * v[..., i]
    return out


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Sample `image` at x + flow(x) (bilinear; the border is replicated)."""
    import cv2

    h, w = flow.shape[:2]
    xs, ys = _grid(h, w)
    return cv2.remap(image, xs + flow[..., 0], ys + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def consistency_mask(forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """True where forward and backward flow agree and the target lies inside the frame.

    Uses the usual test |F + B(x+F)|^2 < 0.01 (|F|^2 + |B(x+F)|^2) + 0.5.
    """
    h, w = forward.shape[:2]
    xs, ys = _grid(h, w)
    tx, ty = xs + forward[..., 0], ys + forward[..., 1]
    inside = (tx >= 0) & (tx <= w - 1) & (ty >= 0) & (ty <= h - 1)
    back = warp(backward, forward)
    err = squared_norm(forward + back)
    bound = 0.01 * (squared_norm(forward) + squared_norm(back)) + 0.5
    return inside & (err < bound)


def flicker_curve(means: list[float] | np.ndarray) -> np.ndarray:
    """How far each frame's mean luma departs from the average of its two neighbours.

    End frames compare with the line through their two nearest neighbours, halved (a
    steady fade scores 0 everywhere; a lone spike at an end scores half its height).
    """
    m = np.asarray(means, np.float64)
    n = len(m)
    out = np.zeros(n)
    if n == 2:
        out[:] = 0.5 * abs(m[0] - m[1])
    elif n >= 3:
        out[1:-1] = np.abs(m[1:-1] - 0.5 * (m[:-2] + m[2:]))
        out[0] = 0.5 * abs(m[0] - (2 * m[1] - m[2]))
        out[-1] = 0.5 * abs(m[-1] - (2 * m[-2] - m[-3]))
    return out


def neighbour_medians(values: list[float] | np.ndarray, radius: int = 3) -> np.ndarray:
    """For each entry, the median of the entries within `radius` of it, itself left out (NaN when alone)."""
    v = np.asarray(values, np.float64)
    out = np.full(len(v), np.nan)
    for i in range(len(v)):
        lo, hi = max(0, i - radius), min(len(v), i + radius + 1)
        neighbours = np.concatenate([v[lo:i], v[i + 1:hi]])
        if len(neighbours):
            out[i] = float(np.median(neighbours))
    return out


def motion_spikes(motion: list[float] | np.ndarray, radius: int = 3, floor: float = 0.25) -> np.ndarray:
    """Each pair's motion over the median of its neighbours' (within `radius` pairs).

    A dropped frame doubles one pair's motion, so its spike is about 2. The median is
    floored at `floor` pixels so a nearly static clip does not divide by zero.
    """
    m = np.asarray(motion, np.float64)
    medians = neighbour_medians(m, radius)
    return np.where(np.isnan(medians), 1.0, m / np.maximum(np.nan_to_num(medians), floor))


def frozen_pairs(diffs: list[float] | np.ndarray, *, still: float = 0.5, identical: float = 0.02,
                 drop: float = 0.25, radius: int = 3) -> np.ndarray:
    """Which frame pairs are stalls, from each pair's mean absolute luma change (levels).

    A pair is frozen when its change is below `still` and either below `identical` (the frames are the same
    but for rounding) or below `drop` times the median change of its neighbours (the clip stops for a frame).
    A slow ease-in or ease-out, where change shrinks gradually, is not a stall.
    """
    d = np.asarray(diffs, np.float64)
    medians = np.nan_to_num(neighbour_medians(d, radius), nan=0.0)
    return (d < still) & ((d < identical) | (d < drop * medians))
