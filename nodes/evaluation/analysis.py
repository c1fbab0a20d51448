"""Streaming analysers: feed frames one at a time, get a METRICS value (`Metrics`) at the end."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from nodegraph.api import Metrics

from . import metrics as m

FLOW_SIDE = 384  # optical flow runs at most this size (longer side); vectors are scaled back
EVAL_SIDE = 1024  # warp error and luma are measured at most this size
UNITS = {"warp_psnr": "dB", "psnr": "dB", "psnr_min": "dB", "flicker_index": "luma levels", "mean_motion": "px/frame",
         "alignment": "cosine", "alignment_min": "cosine"}  # of the summary entries that have one


def measured(summary: dict, curves: dict, **details) -> Metrics:
    """The METRICS value of a summary and its curves, with the units of the entries that have one."""
    return Metrics(summary, curves, units={name: UNITS[name] for name in summary if name in UNITS}, details=details)


class TemporalAnalyzer:
    """Warp error, flicker and motion of a clip, frame by frame, keeping only the previous frame."""

    def __init__(self, width: int, height: int, *, flow_side: int = FLOW_SIDE, eval_side: int = EVAL_SIDE):
        self.eval_size = m.fit_size(width, height, eval_side)
        self.flow_size = m.fit_size(*self.eval_size, flow_side)
        # Motion is reported in pixels of the original frame.
        self._to_source = width / self.eval_size[0]
        self._prev: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.means: list[float] = []
        self.warp_mse: list[float] = []
        self.valid: list[float] = []
        self.motion: list[float] = []
        self.changes: list[float] = []  # mean absolute luma change of each pair

    def add(self, frame: np.ndarray) -> None:
        small = m.resize(frame, self.eval_size)
        y = m.luma(small)
        self.means.append(float(y.mean()))
        gray = m.resize(np.clip(y + 0.5, 0, 255).astype(np.uint8), self.flow_size)
        if self._prev is not None:
            prev_small, prev_gray, prev_y = self._prev
            self._add_pair(prev_small, prev_gray, small, gray)
            self.changes.append(float(np.mean(np.abs(prev_y - y))))
        self._prev = (small, gray, y)

    def _add_pair(self, a: np.ndarray, a_gray: np.ndarray, b: np.ndarray, b_gray: np.ndarray) -> None:
        forward = m.upscale_flow(m.optical_flow(a_gray, b_gray), self.eval_size)
        backward = m.upscale_flow(m.optical_flow(b_gray, a_gray), self.eval_size)
        mask = m.consistency_mask(forward, backward)
        warped = m.warp(b, forward)
        diff = a.astype(np.float32) - warped.astype(np.float32)
        sq = m.squared_norm(diff) / 3.0
        count = int(mask.sum())
        self.warp_mse.append(float(sq[mask].mean()) if count else float(sq.mean()))
        self.valid.append(count / mask.size)
        magnitude = np.sqrt(m.squared_norm(forward))
        self.motion.append(float(magnitude.mean()) * self._to_source)

    @property
    def frames(self) -> int:
        return len(self.means)

    def result(self) -> Metrics:
        """The METRICS value: summary numbers and per-frame curves."""
        if self.frames < 2:
            raise ValueError(f"temporal metrics need at least 2 frames, the clip has {self.frames}")
        weights = np.maximum(np.asarray(self.valid), 1e-6)
        pooled = float(np.average(self.warp_mse, weights=weights))
        flicker = m.flicker_curve(self.means)
        spikes = m.motion_spikes(self.motion)
        summary = {
            "warp_psnr": m.psnr_from_mse(pooled),
            "flicker_index": float(flicker.mean()),
            "mean_motion": float(np.mean(self.motion)),
            "frozen_ratio": float(np.mean(m.frozen_pairs(self.changes))),
            "motion_spike": float(spikes.max()),
            "occluded_ratio": float(1.0 - np.mean(self.valid)),
            "frames": float(self.frames),
        }
        curves = {
            "warp_psnr": [m.psnr_from_mse(e) for e in self.warp_mse],
            "flicker": [float(v) for v in flicker],
            "motion": [float(v) for v in self.motion],
            "mean_luma": [float(v) for v in self.means],
        }
        return measured(summary, curves)


class CompareAnalyzer:
    """PSNR and SSIM of each frame against a reference frame."""

    def __init__(self) -> None:
        self.psnr: list[float] = []
        self.ssim: list[float] = []
        self._mse: list[float] = []

    def add(self, frame: np.ndarray, reference: np.ndarray) -> None:
        if frame.shape != reference.shape:
            raise ValueError(f"frame {len(self.psnr)} is {frame.shape[1]}x{frame.shape[0]} but the reference is "
                             f"{reference.shape[1]}x{reference.shape[0]}")
        err = m.mse(frame, reference)
        self._mse.append(err)
        self.psnr.append(m.psnr_from_mse(err))
        self.ssim.append(m.ssim(frame, reference))

    def result(self) -> Metrics:
        if not self.psnr:
            raise ValueError("no frames to compare")
        summary = {
            "psnr": m.psnr_from_mse(float(np.mean(self._mse))),
            "psnr_min": float(min(self.psnr)),
            "ssim": float(np.mean(self.ssim)),
            "ssim_min": float(min(self.ssim)),
            "frames": float(len(self.psnr)),
        }
        return measured(summary, {"psnr": self.psnr, "ssim": self.ssim})


Progress = Callable[[int], None] | None


def temporal_metrics(frames: Iterable[np.ndarray], width: int, height: int, progress: Progress = None) -> Metrics:
    """METRICS of a stream of (k, H, W, 3) chunks."""
    analyzer = TemporalAnalyzer(width, height)
    for chunk in frames:
        for frame in chunk:
            analyzer.add(frame)
        if progress:
            progress(analyzer.frames)
    return analyzer.result()


def compare_metrics(frames: Iterable[np.ndarray], references: Iterable[np.ndarray],
                    progress: Progress = None) -> Metrics:
    """METRICS of two streams of single frames compared pairwise; both must have the same length."""
    analyzer = CompareAnalyzer()
    ours, theirs = iter(frames), iter(references)
    sentinel = object()
    while True:
        a, b = next(ours, sentinel), next(theirs, sentinel)
        if a is sentinel or b is sentinel:
            if a is not b:
                n = len(analyzer.psnr)
                longer, shorter = ("video", "reference") if b is sentinel else ("reference", "video")
                raise ValueError(f"the {shorter} ends after {n} frames but the {longer} goes on; "
                                 "compare clips with the same number of frames")
            break
        analyzer.add(a, b)
        if progress and len(analyzer.psnr) % 8 == 0:
            progress(len(analyzer.psnr))
    return analyzer.result()
