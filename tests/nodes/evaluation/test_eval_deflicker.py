"""video.deflicker removes flicker, keeps motion and fades, and streams; the nodes run in the engine."""

from __future__ import annotations

import numpy as np
import pytest

import nodes.evaluation as evaluation
from nodegraph import Graph, Link, Node, NodeInstance, NodeRegistry, Port, Scheduler, Video
from nodegraph.errors import ValidationError
from nodegraph.metrics import Metrics
from nodegraph.node import Param
from nodegraph.types import VIDEO
from nodes.evaluation import synthetic
from nodes.evaluation.deflicker import deflicker_chunks, deflicker_frames
from nodes.evaluation.nodes import Deflicker

from .clips import clean_clip, summary


def deflicker(frames: np.ndarray, window: int = 9, strength: float = 1.0, chunk: int = 7) -> np.ndarray:
    blocks = [frames[i:i + chunk] for i in range(0, len(frames), chunk)]
    return np.concatenate(list(deflicker_chunks(blocks, window=window, strength=strength)))


@pytest.mark.parametrize("amplitude", [0.04, 0.1])
def test_deflicker_cuts_the_flicker_index_by_80_percent(amplitude):
    flickering = synthetic.gain_flicker(clean_clip(), amplitude)
    before = summary(flickering)["flicker_index"]
    after = summary(deflicker(flickering))["flicker_index"]
    assert after <= 0.2 * before, (before, after)


def test_deflicker_keeps_warp_psnr_of_a_clean_moving_clip():
    clean = clean_clip()
    before = summary(clean)["warp_psnr"]
    after = summary(deflicker(clean))["warp_psnr"]
    assert after >= before - 0.5, (before, after)


def test_deflicker_keeps_a_steady_fade():
    ramp = np.linspace(0.7, 1.2, len(clean_clip()), dtype=np.float32)[:, None, None, None]
    fading = np.clip(clean_clip() * ramp, 0, 255).astype(np.uint8)
    out = deflicker(fading)
    means_in = fading.reshape(len(fading), -1).mean(axis=1)
    means_out = out.reshape(len(out), -1).mean(axis=1)
    assert np.max(np.abs(means_in - means_out)) < 1.5


def test_output_does_not_depend_on_chunking_and_strength_zero_is_identity():
    flickering = synthetic.gain_flicker(clean_clip()[:20], 0.08)
    a = deflicker(flickering, chunk=1)
    b = deflicker(flickering, chunk=16)
    assert a.shape == flickering.shape
    assert np.array_equal(a, b)
    assert np.array_equal(deflicker(flickering, strength=0.0), flickering)


def test_deflicker_streams_with_a_bounded_look_ahead():
    frames = clean_clip()[:30]
    pulled = []

    def source():
        for i, frame in enumerate(frames):
            pulled.append(i)
            yield frame

    out = deflicker_frames(source(), window=9, strength=1.0)
    next(out)
    assert len(pulled) == 5  # the frame itself plus window // 2 ahead
    assert len(list(out)) == 29


# -- through the engine ---------------------------------------------------------------------

CLIPS: dict[str, np.ndarray] = {}


class ArraySource(Node):
    """A test clip held in memory."""

    type_id = "test.array_source"
    outputs = (Port("video", VIDEO),)
    params = (Param("name", str, default=""),)

    def run(self, ctx, *, name):
        return {"video": Video.from_array(CLIPS[name], fps=24)}


@pytest.fixture
def registry():
    reg = NodeRegistry()
    reg.register(ArraySource)
    evaluation.register(reg)
    return reg


def _graph(*nodes: NodeInstance, links: tuple[str, ...] = ()) -> Graph:
    graph = Graph()
    for node in nodes:
        graph.add_node(node)
    for link in links:
        src, dst = link.split("->")
        (s_node, s_port), (d_node, d_port) = src.split("."), dst.split(".")
        graph.connect(Link(s_node, s_port, d_node, d_port))
    return graph


def test_nodes_run_in_the_scheduler(registry, tmp_path):
    CLIPS["flicker"] = synthetic.gain_flicker(clean_clip(), 0.06)
    CLIPS["clean"] = np.ascontiguousarray(clean_clip())
    graph = _graph(
        NodeInstance("src", "test.array_source", {"name": "flicker"}),
        NodeInstance("ref", "test.array_source", {"name": "clean"}),
        NodeInstance("fix", "video.deflicker", {"window": 9}),
        NodeInstance("before", "eval.temporal"),
        NodeInstance("after", "eval.temporal"),
        NodeInstance("cmp", "eval.compare"),
        links=("src.video->fix.video", "src.video->before.video", "fix.video->after.video",
               "fix.video->cmp.video", "ref.video->cmp.reference"),
    )
    result = Scheduler(registry, output_dir=tmp_path).run(graph).raise_for_status()
    before = result.outputs["before"]["metrics"]
    after = result.outputs["after"]["metrics"]
    assert isinstance(before, Metrics) and set(before.to_json()) == {"summary", "curves"}
    assert after.summary["flicker_index"] < 0.2 * before.summary["flicker_index"]
    assert len(after.curves["flicker"]) == len(CLIPS["clean"])
    assert result.outputs["cmp"]["metrics"].summary["psnr"] > 30


def test_even_window_is_rejected_before_the_run(registry, tmp_path):
    CLIPS["clean"] = np.ascontiguousarray(clean_clip())
    graph = _graph(NodeInstance("src", "test.array_source", {"name": "clean"}),
                   NodeInstance("fix", "video.deflicker", {"window": 8}),
                   NodeInstance("m", "eval.temporal"),
                   links=("src.video->fix.video", "fix.video->m.video"))
    with pytest.raises(ValidationError, match="window must be odd.*use 9"):
        Scheduler(registry, output_dir=tmp_path).run(graph)


def test_compare_rejects_a_reference_of_another_size(registry, tmp_path):
    CLIPS["clean"] = np.ascontiguousarray(clean_clip()[:4])
    CLIPS["small"] = np.ascontiguousarray(clean_clip()[:4, :48, :64])
    graph = _graph(NodeInstance("a", "test.array_source", {"name": "clean"}),
                   NodeInstance("b", "test.array_source", {"name": "small"}),
                   NodeInstance("cmp", "eval.compare"),
                   links=("a.video->cmp.video", "b.video->cmp.reference"))
    result = Scheduler(registry, output_dir=tmp_path).run(graph)
    assert result.status == "failed"
    assert "128x96" in str(result.error) and "64x48" in str(result.error)


# -- at the node's defaults, against FFmpeg's deflicker filter (88% at its defaults, bench/quality.py) ---------

DEFAULTS = {"window": Deflicker.param("window").default, "strength": Deflicker.param("strength").default}


def signed_flicker(frames: np.ndarray, amplitude: float, seed: int) -> np.ndarray:
    """Each frame brighter or darker by `amplitude` (a fraction), the sign drawn at random per frame."""
    sign = np.random.default_rng(seed).choice([-1.0, 1.0], len(frames)).astype(np.float32)
    return np.clip(frames * (1 + amplitude * sign)[:, None, None, None] + 0.5, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def clip48() -> np.ndarray:
    return synthetic.Scene(width=128, height=96).clip(48)


def test_defaults_remove_as_much_of_a_random_sign_flicker_as_ffmpegs_filter(clip48):
    removed = []
    for seed in (1, 2, 3):
        flickering = signed_flicker(clip48, 0.1, seed)
        before = summary(flickering)["flicker_index"]
        removed.append(1 - summary(deflicker(flickering, **DEFAULTS))["flicker_index"] / before)
    assert min(removed) >= 0.86 and np.mean(removed) >= 0.88, removed


def test_a_slow_fade_is_not_flicker(clip48):
    ramp = np.linspace(1.1, 0.6, len(clip48), dtype=np.float32)[:, None, None, None]
    fading = np.clip(clip48 * ramp + 0.5, 0, 255).astype(np.uint8)
    out = deflicker(fading, **DEFAULTS)
    shift = np.abs(out.reshape(48, -1).mean(axis=1) - fading.reshape(48, -1).mean(axis=1))
    assert shift.max() < 1.0  # all of the fade's 60 levels of travel are kept, frame by frame
    assert summary(out)["warp_psnr"] >= summary(fading)["warp_psnr"] - 0.5


def test_one_flash_frame_does_not_pull_its_neighbours(clip48):
    flashed = clip48.copy()
    flashed[24] = np.clip(clip48[24] * np.float32(1.25), 0, 255).astype(np.uint8)
    out = deflicker(flashed, **DEFAULTS)
    shift = np.abs(out.reshape(48, -1).mean(axis=1) - clip48.reshape(48, -1).mean(axis=1))
    assert shift[24] < 1.0  # the flash is evened out
    assert np.delete(shift, 24).max() < 1.0  # and the frames around it keep their light
