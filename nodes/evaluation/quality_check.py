"""The `check_quality` service behind `kinograph run --check-quality`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from nodegraph.api import KinographError

from ..io.video_reader import VIDEO_SUFFIXES, open_video
from .analysis import TemporalAnalyzer
from .thresholds import THRESHOLDS, resolve_thresholds

MAX_FRAMES = 600  # the check reads at most this many frames of each clip


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


def measure_file(path: Path, max_frames: int = MAX_FRAMES) -> tuple[dict[str, float], int]:
    """eval.temporal's summary for the first `max_frames` frames of a video file, and the clip's frame count."""
    video = open_video(path)
    analyzer = TemporalAnalyzer(video.width, video.height)
    for frame in video.frames(16):
        analyzer.add(frame)
        if analyzer.frames >= max_frames:
            break
    if analyzer.frames < 2:
        return {}, video.frame_count
    return dict(analyzer.result().summary), video.frame_count


def check_quality(paths: Iterable[str | Path], thresholds: Mapping[str, Any] | None = None, *,
                  prompts: Mapping[Path, str] | None = None) -> list[str]:
    """Warnings, one per clip and metric that crosses its threshold; non-video paths are skipped.

    `thresholds` overrides the defaults in thresholds.THRESHOLDS by name or alias. Clips with fewer than 2 frames
    have no temporal metrics and are skipped; a video that cannot be read gives one warning saying so, and one
    longer than MAX_FRAMES is measured on its first MAX_FRAMES frames, which a warning says. The opt-in
    `alignment` threshold scores each clip against its prompt in `prompts` (by path); a clip without one is
    named in a warning, not passed in silence.
    """
    limits = resolve_thresholds(thresholds)
    aligner = _Aligner(prompts or {}) if "alignment" in limits else None
    warnings: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.suffix.lower() not in VIDEO_SUFFIXES:
            continue
        try:
            summary, frame_count = measure_file(path)
        except KinographError as exc:  # its message names the file
            warnings.append(f"quality check skipped: {exc}")
            continue
        except ValueError as exc:
            warnings.append(f"quality check skipped: {path}: {exc}")
            continue
        if aligner is not None:
            aligned, problem = aligner.measure(path)
            summary = {**summary, **aligned}
            warnings.extend([problem] if problem else [])
        warnings.extend(clip_warnings(str(path), summary, limits))
        if frame_count > MAX_FRAMES:
            warnings.append(f"{path}: only its first {MAX_FRAMES} of {frame_count} frames were checked; run "
                            f"'kinograph eval {path}' to measure the whole clip")
    return warnings


class _Aligner:
    """Scores clips against their prompts, loading the alignment model once, at the first clip that has one."""

    def __init__(self, prompts: Mapping[Path, str]):
        self.prompts = {Path(p): text for p, text in prompts.items()}
        self.scorer = None

    def measure(self, path: Path) -> tuple[dict[str, float], str]:
        """({"alignment": mean, "alignment_min": min}, "") or ({}, why it was not measured)."""
        from .alignment import alignment_metrics, default_model, load_scorer

        prompt = self.prompts.get(Path(path), "")
        if not prompt:
            return {}, (f"{path}: alignment not checked: no node upstream of it has a prompt; give the prompt "
                        f"with: kinograph eval {path} --prompt \"...\"")
        if self.scorer is None:
            self.scorer = load_scorer(default_model())
        video = open_video(path)
        summary = alignment_metrics(self.scorer, prompt, video.frames(16), video.frame_count).summary
        return {"alignment": summary["alignment"], "alignment_min": summary["alignment_min"]}, ""
