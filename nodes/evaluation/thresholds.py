"""The thresholds of `kinograph run --check-quality`: names, defaults, aliases (light to import: no numpy)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nodegraph.api import ValidationError

# name: (default, "min" or "max", what crossing it means). Names are eval.temporal summary keys.
THRESHOLDS: dict[str, tuple[float, str, str]] = {
    "warp_psnr": (25.0, "min", "frames do not follow from each other (noise, blotches or flicker)"),
    "flicker_index": (1.0, "max", "brightness jumps between frames"),
    "mean_motion": (0.05, "min", "the clip barely moves (frozen?)"),
    "frozen_ratio": (0.05, "max", "repeated frames (stalls)"),
    "motion_spike": (1.8, "max", "motion jumps (dropped frames)"),
    "alignment": (0.2, "min", "the frames do not show what the prompt asked for"),
}
# Checked only when asked for by name: scoring needs the prompt and a CLIP-family model (a download at first use).
OPT_IN = frozenset({"alignment"})
DEFAULT_THRESHOLDS: dict[str, float] = {name: spec[0] for name, spec in THRESHOLDS.items() if name not in OPT_IN}
ALIASES = {"prompt": "alignment", "clip": "alignment",
           "psnr": "warp_psnr", "warp": "warp_psnr", "flicker": "flicker_index", "motion": "mean_motion",
           "frozen": "frozen_ratio", "freeze": "frozen_ratio", "spike": "motion_spike", "drops": "motion_spike"}


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


def describe_thresholds() -> str:
    """The thresholds as help text, one line each."""
    lines = ["--check-quality warns when a clip crosses one of these (change one with "
             "kinograph run --quality-threshold NAME=VALUE):"]
    for name, (default, direction, meaning) in THRESHOLDS.items():
        aliases = [a for a, target in ALIASES.items() if target == name]
        side = "below" if direction == "min" else "above"
        how = f" (also: {', '.join(aliases)})" if aliases else ""
        if name in OPT_IN:
            how += (f"; checked only when set, e.g. --quality-threshold {name}={default:g}, against the prompt of "
                    "the node upstream of each video, scored by KINOGRAPH_ALIGNMENT_MODEL")
        lines.append(f"  {name} {side} {default:g}: {meaning}{how}")
    return "\n".join(lines)
