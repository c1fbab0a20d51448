"""quality.gate: pass a clip on when its metrics are within the thresholds, else its fallback (or fail)."""

from __future__ import annotations

from typing import Any

from nodegraph.api import BOOL, METRICS, STRING, VIDEO, Metrics, Node, NodeContext, Param, Port, UsageError, Video

from .quality_check import clip_warnings
from .thresholds import THRESHOLDS


def _threshold_params() -> tuple[Param, ...]:
    params = []
    for name, (default, direction, meaning) in THRESHOLDS.items():
        side = "at least" if direction == "min" else "at most"
        params.append(Param(name, float, default=default, min=0.0, max=1000.0,
                            tooltip=f"Pass only when {name} is {side} this ({meaning} otherwise)."))
    return tuple(params)


class QualityGate(Node):
    """Pass the clip on when its metrics are within the thresholds; otherwise pass the fallback clip, or fail
    with the reasons when there is none."""

    type_id = "quality.gate"
    category = "Evaluation"
    title = "Quality Gate"
    inputs = (Port("video", VIDEO, tooltip="The clip to judge."),
              Port("metrics", METRICS, tooltip="Its metrics, from Temporal Metrics."),
              Port("fallback", VIDEO, optional=True, tooltip="What to pass on when the clip fails."))
    outputs = (Port("video", VIDEO, tooltip="The clip, or the fallback when the clip failed."),
               Port("passed", BOOL, tooltip="Whether the clip passed."),
               Port("report", STRING, tooltip="Why it failed, one line per metric; empty when it passed."))
    params = _threshold_params()
    widgets = ("warp_psnr", "flicker_index")

    def run(self, ctx: NodeContext, *, video: Video, metrics: Metrics, fallback: Video | None,
            **limits: float) -> dict[str, Any]:
        summary = metrics.summary if isinstance(metrics, Metrics) else {}
        if not summary:
            raise UsageError("the metrics input holds no summary; feed it from Temporal Metrics (eval.temporal)")
        reasons = clip_warnings("clip", summary, limits)
        if not reasons:
            return {"video": video, "passed": True, "report": ""}
        report = "\n".join(reasons)
        if fallback is None:
            raise UsageError(f"the clip failed the quality gate and there is no fallback: {'; '.join(reasons)}; "
                             "connect a fallback clip or loosen a threshold")
        ctx.warn(f"the clip failed the quality gate, passing the fallback on: {'; '.join(reasons)}")
        return {"video": fallback, "passed": False, "report": report}
