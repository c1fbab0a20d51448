"""Quality evaluation: temporal metrics, comparison with a reference, deflicker, the quality check."""

from __future__ import annotations

from nodegraph.api import Metrics


def register(registry) -> None:
    from .gate import QualityGate
    from .nodes import NODES
    from .quality_check import check_quality
    from .thresholds import threshold_problems

    registry.register_all(NODES + (QualityGate,))
    registry.services.check_quality = check_quality
    registry.services.check_quality_thresholds = threshold_problems
    registry.services.render_metrics = render_metrics


def render_metrics(metrics: Metrics):
    """A METRICS value's per-frame curves as a small RGB picture (for a node's thumbnail), or None."""
    from .plot import render_curves

    curves = metrics.curves if isinstance(metrics, Metrics) else None
    return render_curves(curves, width=512, panel_height=96) if curves else None
