"""Metrics move the right way, monotonically, with the strength of injected defects."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from nodes.evaluation import metrics, synthetic
from nodes.evaluation.analysis import TemporalAnalyzer, compare_metrics

from .clips import clean_clip, summary

# defect -> (inject(frames, strength), strengths (clean first), [(metric, +1 rises / -1 falls)])
DEFECTS = {
    "gain flicker": (synthetic.gain_flicker, (0.0, 0.02, 0.05, 0.1), [("flicker_index", 1), ("warp_psnr", -1)]),
    "blotches": (synthetic.blotches, (0.0, 20.0, 40.0, 80.0), [("warp_psnr", -1)]),
    "noise": (synthetic.noise, (0.0, 3.0, 6.0, 12.0), [("warp_psnr", -1)]),
    "frozen frames": (lambda f, k: synthetic.freeze(f, int(k), every=6), (0, 1, 3, 5),
                      [("frozen_ratio", 1), ("mean_motion", -1)]),
    "dropped frames": (lambda f, k: synthetic.drop(f, int(k)), (0, 1, 2, 3), [("motion_spike", 1)]),
}


@pytest.mark.parametrize("defect", list(DEFECTS))
def test_metric_moves_monotonically_with_defect_strength(defect):
    inject, strengths, expectations = DEFECTS[defect]
    clean = clean_clip()
    results = [summary(clean if not s else inject(clean, s)) for s in strengths]
    for metric, direction in expectations:
        values = [r[metric] for r in results]
        steps = np.diff(values) * direction
        assert np.all(steps > 0), f"{defect}: {metric} over strengths {strengths} is {values}"


def test_clean_clip_scores_well_and_motion_matches_ground_truth():
    s = summary(clean_clip())
    assert s["warp_psnr"] > 30
    assert s["flicker_index"] < 0.3
    assert s["frozen_ratio"] == 0
    assert s["motion_spike"] < 1.3
    pan = math.hypot(*synthetic.Scene().velocity)  # most pixels belong to the panning background
    assert s["mean_motion"] == pytest.approx(pan, rel=0.1)


def test_frozen_clip_cannot_score_perfectly():
    still = np.repeat(clean_clip()[:1], 12, axis=0)
    s = summary(still)
    assert s["mean_motion"] < 0.01
    assert s["frozen_ratio"] == 1.0


def test_a_slow_eased_camera_move_is_not_a_stall_but_a_repeated_frame_in_it_is():
    import cv2

    from nodegraph import Image, NodeContext
    from nodes.motion import CameraMotion

    sample = Path(__file__).resolve().parents[3] / "resources" / "images" / "sample.png"
    picture = cv2.cvtColor(cv2.resize(cv2.imread(str(sample)), (192, 108), interpolation=cv2.INTER_AREA),
                           cv2.COLOR_BGR2RGB)  # a smooth dusk scene: little texture to change per frame
    params = {**CameraMotion.defaults(), "frames": 72, "zoom_to": 1.12, "pan_x": 0.04, "easing": "ease_in_out"}
    clip = CameraMotion().run(NodeContext("cam", "motion.camera"), image=Image(picture), **params)["video"]
    frames = np.concatenate(list(clip.chunks(16)))
    slow = summary(frames)
    assert slow["frozen_ratio"] < 0.05  # the default --check-quality limit
    assert slow["mean_motion"] > 0.05

    stalled = summary(synthetic.freeze(frames, 6, every=10))
    assert stalled["frozen_ratio"] >= slow["frozen_ratio"] + 5 / 71


def test_curves_have_one_value_per_frame_or_pair():
    frames = clean_clip()[:10]
    result = TemporalAnalyzer(frames.shape[2], frames.shape[1])
    for frame in frames:
        result.add(frame)
    curves = result.result().curves
    assert len(curves["warp_psnr"]) == len(curves["motion"]) == 9
    assert len(curves["flicker"]) == len(curves["mean_luma"]) == 10


def test_temporal_metrics_need_two_frames():
    analyzer = TemporalAnalyzer(16, 16)
    analyzer.add(np.zeros((16, 16, 3), np.uint8))
    with pytest.raises(ValueError, match="at least 2 frames"):
        analyzer.result()


def test_flicker_curve_measures_departure_from_neighbours():
    assert np.allclose(metrics.flicker_curve([10, 20, 30, 40, 50]), 0)  # a steady fade is not flicker
    curve = metrics.flicker_curve([100, 100, 110, 100, 100])
    assert curve[2] == pytest.approx(10)
    assert curve[1] == pytest.approx(5) and curve[3] == pytest.approx(5)


def test_motion_spikes_find_a_doubled_step():
    spikes = metrics.motion_spikes([2, 2, 2, 4, 2, 2, 2])
    assert spikes[3] == pytest.approx(2)
    assert np.allclose(np.delete(spikes, 3), 1)


def test_psnr_of_known_noise():
    rng = np.random.default_rng(0)
    a = rng.integers(40, 200, (64, 64, 3)).astype(np.uint8)
    b = np.clip(a + rng.normal(0, 5, a.shape), 0, 255).round().astype(np.uint8)
    assert metrics.psnr(a, b) == pytest.approx(20 * math.log10(255 / 5), abs=0.3)
    assert metrics.psnr(a, a) == metrics.PSNR_CAP
    assert metrics.ssim(a, a) == pytest.approx(1.0)


def test_compare_psnr_and_ssim_fall_with_noise():
    clean = clean_clip()[:8]
    results = [compare_metrics(iter(synthetic.noise(clean, s) if s else clean), iter(clean)).summary
               for s in (0, 4, 8, 16)]
    psnr = [r["psnr"] for r in results]
    ssim = [r["ssim"] for r in results]
    assert psnr[0] == metrics.PSNR_CAP and ssim[0] == pytest.approx(1.0)
    assert np.all(np.diff(psnr) < 0) and np.all(np.diff(ssim) < 0), (psnr, ssim)
    assert results[-1]["psnr_min"] <= results[-1]["psnr"]


def test_compare_rejects_clips_of_different_length():
    clean = clean_clip()[:6]
    with pytest.raises(ValueError, match="reference ends after 4 frames"):
        compare_metrics(iter(clean), iter(clean[:4]))
