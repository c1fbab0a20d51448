"""Prompt alignment (issue 25): a clip of what the prompt says scores above a mismatched one, on a tiny CLIP
whose embeddings are set by hand; through the node (text or conditioning) and `kinograph eval --prompt`."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nodegraph import Graph, Link, NodeInstance, NodeRegistry, Scheduler
from nodegraph.cli import main
from nodegraph.media import Video

from .clips import write_video
from .tiny_clip import build_tiny_clip


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    return build_tiny_clip(tmp_path_factory.mktemp("clip") / "tiny-clip")


def coloured(channel: int, frames: int = 12, size: int = 48) -> np.ndarray:
    clip = np.full((frames, size, size, 3), 30, np.uint8)
    clip[..., channel] = 220
    clip[:, ::7] = 128  # some texture, the same in every clip
    return clip


def test_a_clip_of_the_prompt_scores_above_a_mismatched_one(tiny_clip):
    from nodes.evaluation.alignment import alignment_metrics, load_scorer

    scorer = load_scorer(str(tiny_clip))
    red = alignment_metrics(scorer, "a red sky", iter(coloured(0)), 12, samples=4)
    blue = alignment_metrics(scorer, "a red sky", iter(coloured(2)), 12, samples=4)
    assert red.summary["alignment"] > blue.summary["alignment"] + 0.5
    assert red.details["frame_indices"] == [0, 4, 7, 11] and len(red.curves["alignment"]) == 4
    assert red.summary["alignment_min"] <= red.summary["alignment"]
    assert red.unit("alignment") == "cosine"


def test_eval_prompt_prints_the_alignment(tiny_clip, tmp_path, capsys):
    path = write_video(tmp_path / "lime.mp4", coloured(1))
    assert main(["eval", str(path), "--prompt", "a lime cat", "--alignment-model", str(tiny_clip), "--json"]) == 0
    lime = json.loads(capsys.readouterr().out)["alignment"]["summary"]["alignment"]
    assert main(["eval", str(path), "--prompt", "a blue cat", "--alignment-model", str(tiny_clip), "--json"]) == 0
    blue = json.loads(capsys.readouterr().out)["alignment"]["summary"]["alignment"]
    assert lime > blue + 0.5


def test_a_missing_alignment_model_is_one_line_and_exit_2(tmp_path, capsys):
    path = write_video(tmp_path / "c.mp4", coloured(0))
    assert main(["eval", str(path), "--prompt", "x", "--alignment-model", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "alignment model" in err and "hf download" in err


def test_the_node_scores_the_conditioning_text_when_connected(tiny_clip, tmp_path):
    import nodes.evaluation
    from nodegraph.node import Node, Param, Port
    from nodegraph.types import CONDITIONING, VIDEO
    from nodes.diffusion.values import Conditioning

    class Clip(Node):
        """A plain coloured clip."""

        type_id = "test.colour"
        outputs = (Port("video", VIDEO),)
        params = (Param("channel", int, default=0, min=0, max=2),)

        def run(self, ctx, *, channel):
            frames = coloured(channel)
            return {"video": Video.from_frames(lambda: iter(frames), fps=12, width=48, height=48, frame_count=12)}

    class Prompt(Node):
        """A conditioning that only carries its text."""

        type_id = "test.prompt"
        outputs = (Port("conditioning", CONDITIONING),)
        params = (Param("text", str, default=""),)

        def run(self, ctx, *, text):
            return {"conditioning": Conditioning("test", {}, text)}

    registry = NodeRegistry()
    nodes.evaluation.register(registry)
    registry.register_all([Clip, Prompt])
    graph = Graph("align")
    graph.add_node(NodeInstance("clip", "test.colour", {"channel": 2}))
    graph.add_node(NodeInstance("text", "test.prompt", {"text": "the blue sky"}))
    graph.add_node(NodeInstance("score", "eval.alignment", {"model": str(tiny_clip), "samples": 3,
                                                            "prompt": "a red sky"}))
    graph.connect(Link("clip", "video", "score", "video"))
    scheduler = Scheduler(registry, output_dir=tmp_path)
    previews = []
    scheduler.subscribe(lambda e: previews.append(e) if type(e).__name__ == "NodePreview" else None, previews=True)
    by_param = scheduler.run(graph).outputs["score"]["metrics"]
    # the editor shows the per-frame curve on the node, as it does for the other metrics
    curve = [p.source for p in previews if p.node_id == "score"]
    assert curve and curve[-1].ndim == 3 and curve[-1].shape[2] == 3 and curve[-1].std() > 0
    assert by_param.details["prompt"] == "a red sky"
    graph.connect(Link("text", "conditioning", "score", "conditioning"))
    by_conditioning = scheduler.run(graph).outputs["score"]["metrics"]
    assert by_conditioning.details["prompt"] == "the blue sky"
    assert by_conditioning.summary["alignment"] > by_param.summary["alignment"] + 0.5
