"""Quality evaluation: temporal metrics, comparison with a reference, deflicker, the quality check."""

from __future__ import annotations


def register(registry) -> None:
    from .nodes import NODES
    from .quality_check import check_quality
    from .thresholds import threshold_problems

    registry.register_all(NODES)
    registry.services["check_quality"] = check_quality
    registry.services["check_quality_thresholds"] = threshold_problems
