"""Streaming deflicker: match each frame's per-channel brightness and contrast to its temporal window."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator

import numpy as np

STATS_SIDE = 256  # statistics are measured on a copy at most this size
FITS = 5  # line fits per frame: a plain one, then reweighted ones
HUBER = 2.0  # residuals within this many spreads keep their full weight
OUTLIER = 3.0  # the last fit leaves out frames further than this many spreads off the line
MIN_SPREAD = 0.5  # levels: the spread of a window of near-identical frames is taken as at least this


def frame_stats(frame: np.ndarray) -> np.ndarray:
    """Per-channel mean and standard deviation, shaped (2, 3), of an RGB frame."""
    step = max(1, int(np.ceil(max(frame.shape[:2]) / STATS_SIDE)))
    small = frame[::step, ::step].reshape(-1, 3).astype(np.float32)
    return np.stack([small.mean(axis=0), small.std(axis=0)])


def correct(frame: np.ndarray, own: np.ndarray, target: np.ndarray, strength: float) -> np.ndarray:
    """Apply the per-channel gain/offset that maps `own` (mean, std) onto `target`, blended by `strength`."""
    mean, std = own
    t_mean, t_std = target
    gain = np.where(std > 1e-3, t_std / np.maximum(std, 1e-3), 1.0)
    gain = 1.0 + strength * (gain - 1.0)
    offset = mean + strength * (t_mean - mean) - gain * mean
    lut = np.arange(256, dtype=np.float32)[:, None] * gain[None, :] + offset[None, :]
    lut = np.clip(lut + 0.5, 0, 255).astype(np.uint8)  # (256, 3): one table per channel
    out = np.empty_like(frame)
    for c in range(3):
        out[..., c] = lut[frame[..., c], c]
    return out


def window_target(stats: np.ndarray, index: int) -> np.ndarray:
    """A robust straight line through per-frame `stats` (k, ...), evaluated at position `index`.

    A least-squares line, refitted with Huber weights from the spread of its residuals, the last time without the
    frames that stay far off it (beyond OUTLIER spreads). Flicker that goes both ways averages out as in a mean
    (a median lands on one side of it), a steady fade is followed, and one flash frame cannot pull the line.
    """
    k = len(stats)
    if k < 3:
        return np.median(stats, axis=0)
    values = stats.reshape(k, -1).astype(np.float64)
    x = (np.arange(k) - index).astype(np.float64)[:, None]
    weights = np.ones_like(values)
    for fit in range(FITS):
        sw, sx, sxx = weights.sum(0), (weights * x).sum(0), (weights * x * x).sum(0)
        sy, sxy = (weights * values).sum(0), (weights * x * values).sum(0)
        det = sw * sxx - sx * sx
        slope = np.where(det > 1e-9, (sw * sxy - sx * sy) / np.where(det > 1e-9, det, 1.0), 0.0)
        level = (sy - slope * sx) / sw  # the line at x = 0, the frame's own position
        if fit == FITS - 1:
            break
        residual = np.abs(values - level - slope * x)
        spread = np.maximum(1.4826 * np.median(residual, axis=0), MIN_SPREAD)
        weights = np.minimum(1.0, HUBER * spread / np.maximum(residual, 1e-12))
        if fit == FITS - 2:
            weights[residual > OUTLIER * spread] = 0.0
    return level.reshape(stats.shape[1:]).astype(np.float32)


def deflicker_frames(frames: Iterable[np.ndarray], *, window: int, strength: float) -> Iterator[np.ndarray]:
    """Yield deflickered frames from single (H, W, 3) frames, looking ahead `window // 2` frames.

    Each frame's target statistics come from a robust line fit (`window_target`) through the
    statistics of the frames within `window // 2` before and after it (fewer at the ends of
    the clip), so steady fades survive while frame-to-frame jumps are averaged out. Memory: `window // 2 + 1`
    frames and `window` small statistics.
    """
    half = window // 2
    pending: deque[np.ndarray] = deque()  # frames not yet emitted (the current one and its look-ahead)
    stats: deque[np.ndarray] = deque()  # stats of up to `half` emitted frames, then the pending ones
    emitted_in_stats = 0

    def emit() -> np.ndarray:
        nonlocal emitted_in_stats
        frame = pending.popleft()
        own = stats[emitted_in_stats]
        target = window_target(np.stack(stats), emitted_in_stats)
        out = correct(frame, own, target, strength)
        emitted_in_stats += 1
        if emitted_in_stats > half:
            stats.popleft()
            emitted_in_stats -= 1
        return out

    for frame in frames:
        pending.append(frame)
        stats.append(frame_stats(frame))
        if len(pending) > half:
            yield emit()
    while pending:
        yield emit()


def deflicker_chunks(chunks: Iterable[np.ndarray], *, window: int, strength: float,
                     chunk: int = 16) -> Iterator[np.ndarray]:
    """Chunked wrapper of `deflicker_frames`: (k, H, W, 3) in, (<= chunk, H, W, 3) out."""

    def singles() -> Iterator[np.ndarray]:
        for block in chunks:
            yield from block

    out: list[np.ndarray] = []
    for frame in deflicker_frames(singles(), window=window, strength=strength):
        out.append(frame)
        if len(out) == chunk:
            yield np.stack(out)
            out = []
    if out:
        yield np.stack(out)
