"""Quality over the horizon (`kinograph eval --window N`) and the quality gate with fallback (issue 25)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nodegraph import Graph, Link, NodeInstance, NodeRegistry, Scheduler
from nodegraph.cli import main
from nodegraph.media import Video
from nodes.evaluation import synthetic
from nodes.evaluation.analysis import temporal_metrics

from .clips import clean_clip, summary, write_video


@pytest.fixture(scope="module")
def degrading(tmp_path_factory):
    """24 clean frames, then 12 with strong brightness flicker: a clip that starts well and degrades."""
    clean = clean_clip()
    frames = np.concatenate([clean[:24], synthetic.gain_flicker(clean[24:], 0.1)])
    return frames, write_video(tmp_path_factory.mktemp("windows") / "degrading.mp4", frames)


def test_windows_split_the_metrics_exactly_and_show_where_a_clip_degrades(degrading, capsys):
    frames, path = degrading
    assert main(["eval", str(path), "--window", "12", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    windows = result["windows"]
    assert [(w["first"], w["last"]) for w in windows] == [(0, 11), (12, 23), (24, 35)]
    from nodes.io.video_reader import open_video

    decoded = np.concatenate(list(open_video(path).chunks(64)))
    for w in windows:  # each window equals the metrics of its frames measured alone
        alone = summary(np.ascontiguousarray(decoded[w["first"]:w["last"] + 1]))
        assert w["summary"] == pytest.approx(alone)
    flicker = [w["summary"]["flicker_index"] for w in windows]
    assert flicker[2] > 3 * max(flicker[0], flicker[1])
    assert main(["eval", str(path), "--window", "12"]) == 0
    assert "per window" in capsys.readouterr().out


def test_a_window_of_one_frame_is_refused(degrading, capsys):
    assert main(["eval", str(degrading[1]), "--window", "1"]) == 2
    assert "at least 2 frames" in capsys.readouterr().err


def _gate_graph(flicker: float, fallback: bool) -> Graph:
    graph = Graph("gate")
    for node in (NodeInstance("clip", "test.clip", {"flicker": flicker}), NodeInstance("metrics", "eval.temporal"),
                 NodeInstance("gate", "quality.gate"), NodeInstance("safe", "test.clip", {"flicker": 0.0})):
        graph.add_node(node)
    graph.connect(Link("clip", "video", "metrics", "video"))
    graph.connect(Link("clip", "video", "gate", "video"))
    graph.connect(Link("metrics", "metrics", "gate", "metrics"))
    if fallback:
        graph.connect(Link("safe", "video", "gate", "fallback"))
    return graph


@pytest.fixture
def registry():
    import nodes.evaluation
    from nodegraph.node import Node, Param, Port
    from nodegraph.types import VIDEO

    class Clip(Node):
        """The clean test clip, with brightness flicker of the given strength."""

        type_id = "test.clip"
        outputs = (Port("video", VIDEO),)
        params = (Param("flicker", float, default=0.0, min=0.0, max=1.0),)

        def run(self, ctx, *, flicker):
            frames = clean_clip()[:16]
            frames = synthetic.gain_flicker(frames, flicker) if flicker else frames
            return {"video": Video.from_frames(lambda: iter(frames), fps=24, width=frames.shape[2],
                                               height=frames.shape[1], frame_count=len(frames))}

    reg = NodeRegistry()
    nodes.evaluation.register(reg)
    reg.register(Clip)
    return reg


def test_the_gate_passes_a_good_clip_and_the_fallback_for_a_bad_one(registry, tmp_path):
    scheduler = Scheduler(registry, output_dir=tmp_path)
    good = scheduler.run(_gate_graph(0.0, True), ["gate"])
    assert good.ok and good.outputs["gate"]["passed"] and good.outputs["gate"]["report"] == ""
    messages = []
    scheduler.subscribe(lambda e: messages.append(e) if e.kind == "node_message" else None)
    bad = scheduler.run(_gate_graph(0.1, True), ["gate"])
    gate = bad.outputs["gate"]
    assert bad.ok and not gate["passed"] and "flicker_index" in gate["report"]
    first = next(iter(gate["video"].chunks(16)))
    assert temporal_metrics([first], first.shape[2], first.shape[1]).summary["flicker_index"] < 1.0  # fallback
    assert any("failed the quality gate" in m.message for m in messages)


def test_a_bad_clip_without_a_fallback_fails_the_node_with_the_reasons(registry, tmp_path):
    result = Scheduler(registry, output_dir=tmp_path).run(_gate_graph(0.1, False), ["gate"])
    assert result.status == "failed" and result.error.node_id == "gate"
    assert "flicker_index" in result.error.message and "connect a fallback" in result.error.message
