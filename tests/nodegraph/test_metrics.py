"""Metrics, the METRICS value: read by name, unchanged once made, and the same JSON as the plain dicts it replaced."""

from __future__ import annotations

import dataclasses
import json

import pytest

from nodegraph.metrics import Metrics


def make() -> tuple[Metrics, dict, dict]:
    summary, curves = {"warp_psnr": 31.5, "frames": 3, "note": "n/a"}, {"flicker": [0.1, 0.2, 0.3]}
    return Metrics(summary, curves, units={"warp_psnr": "dB"}, details={"prompt": "a cat"}), summary, curves


def test_metrics_are_read_by_name_with_their_units():
    metrics, _, _ = make()
    assert metrics.summary["warp_psnr"] == 31.5 and metrics.curves["flicker"] == (0.1, 0.2, 0.3)
    assert metrics.unit("warp_psnr") == "dB" and metrics.unit("frames") == ""
    assert metrics.numbers() == {"warp_psnr": 31.5, "frames": 3}  # what a node shows: numbers only


def test_a_measurement_does_not_change_under_its_readers():
    metrics, summary, curves = make()
    summary["warp_psnr"] = 0.0
    curves["flicker"].append(9.0)
    assert metrics.summary["warp_psnr"] == 31.5 and len(metrics.curves["flicker"]) == 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        metrics.summary = {}


def test_the_json_form_is_summary_then_curves_then_details():
    metrics, _, _ = make()
    assert json.dumps(metrics.to_json()) == json.dumps(
        {"summary": {"warp_psnr": 31.5, "frames": 3, "note": "n/a"}, "curves": {"flicker": [0.1, 0.2, 0.3]},
         "prompt": "a cat"})
