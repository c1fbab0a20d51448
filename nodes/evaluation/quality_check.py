"""The `check_quality` service behind `kinograph run --check-quality`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from nodegraph.errors import KinographError, ValidationError

from .analysis import TemporalAnalyzer
from .reader import VIDEO_SUFFIXES, open_video

# name: (default, "min" or "max", what crossing it means). Names are eval.temporal summary keys.
THRESHOLDS: dict[str, tuple[float, str, str]] = {
    "warp_psnr": (25.0, "min", "frames do not follow from each other (noise, blotches or flicker)"),
    "flicker_index": (1.0, "max", "brightness jumps between frames"),
    "mean_motion": (0.05, "min", "the clip barely moves (frozen?)"),
    "frozen_ratio": (0.05, "max", "repeated frames (stalls)"),
    "motion_spike": (1.8, "max", "motion jumps (dropped frames)"),
}
DEFAULT_THRESHOLDS: dict[str, float] = {name: spec[0] for name, spec in THRESHOLDS.items()}
ALIASES = {"psnr": "warp_psnr", "warp": "warp_psnr", "flicker": "flicker_index", "motion": "mean_motion",
           "frozen": "frozen_ratio", "freeze": "frozen_ratio", "spike": "motion_spike", "drops": "motion_spike"}
MAX_FRAMES = 600  # the check reads at most this many frames of each clip


def threshold_problems(overrides: Mapping[str, Any] | None) -> list[str]:
    """Problems with threshold overrides (unknown names, values that are not numbers); empty if fine."""
    problems = []
    for name, value in (overrides or {}).items():
        key = ALIASES.get(name, name)
        if key not in THRESHOLDS:
            known = ", ".join(list(THRESHOLDS) + list(ALIASES))
            problems.append(f"unknown quality threshold {name!r}; use one of {known}")
            continue
        try:
            float(value)
        except (TypeError, ValueError):
            problems.append(f"quality threshold {name}={value!r} is not a number; give e.g. {name}="
                            f"{THRESHOLDS[key][0]:g}")
    return problems


def resolve_thresholds(overrides: Mapping[str, Any] | None) -> dict[str, float]:
    """The defaults with `overrides` applied (aliases allowed); ValidationError on a bad override."""
    problems = threshold_problems(overrides)
    if problems:
        raise ValidationError(problems)
    merged = dict(DEFAULT_THRESHOLDS)
    for name, value in (overrides or {}).items():
        merged[ALIASES.get(name, name)] = float(value)
    return merged


def clip_warnings(name: str, summary: Mapping[str, float], thresholds: Mapping[str, float]) -> list[str]:
    """One warning per metric of `summary` that crosses its threshold."""
    out = []
    for metric, limit in thresholds.items():
        value = summary.get(metric)
        if value is None:
            continue
        _, direction, meaning = THRESHOLDS[metric]
        if direction == "min" and value < limit:
            out.append(f"{name}: {metric} {value:.3g} is below the threshold {limit:g}: {meaning}")
        elif direction == "max" and value > limit:
            out.append(f"{name}: {metric} {value:.3g} is above the threshold {limit:g}: {meaning}")
    return out


def measure_file(path: Path, max_frames: int = MAX_FRAMES) -> dict[str, float]:
    """eval.temporal's summary for the first `max_frames` frames of a video file."""
    video = open_video(path)
    analyzer = TemporalAnalyzer(video.width, video.height)
    for frame in video.frames(16):
        analyzer.add(frame)
        if analyzer.frames >= max_frames:
            break
    if analyzer.frames < 2:
        return {}
    return analyzer.result()["summary"]


def check_quality(paths: Iterable[str | Path], thresholds: Mapping[str, Any] | None = None) -> list[str]:
    """Warnings, one per clip and metric that crosses its threshold; non-video paths are skipped.

    Default thresholds (override by name, e.g. ``{"flicker_index": 2.0}``; short aliases
    such as ``flicker``, ``frozen``, ``spike`` also work):
      warp_psnr >= 25 dB, flicker_index <= 1.0 luma levels, mean_motion >= 0.05 px/frame,
      frozen_ratio <= 0.05, motion_spike <= 1.8.
    Clips with fewer than 2 frames have no temporal metrics and are skipped; a video that
    cannot be read gives one warning saying so.
    """
    limits = resolve_thresholds(thresholds)
    warnings: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.suffix.lower() not in VIDEO_SUFFIXES:
            continue
        try:
            summary = measure_file(path)
        except KinographError as exc:  # its message names the file
            warnings.append(f"quality check skipped: {exc}")
            continue
        except ValueError as exc:
            warnings.append(f"quality check skipped: {path}: {exc}")
            continue
        warnings.extend(clip_warnings(str(path), summary, limits))
    return warnings
