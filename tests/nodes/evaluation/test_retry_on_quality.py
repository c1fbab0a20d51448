"""`kinograph run --retry-on-quality N` (issue 25): a workflow whose first attempt fails the quality check runs
again with the next seed, keeps every attempt's files, and says which attempt passed."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nodegraph import cli
from nodegraph.media import Video
from nodegraph.node import Node, Param, Port
from nodegraph.registry import NodeRegistry
from nodegraph.types import VIDEO
from nodes.evaluation import synthetic

from .clips import clean_clip


class SeededClip(Node):
    """The clean test clip; an even seed adds strong brightness flicker (a bad generation)."""

    type_id = "test.seeded_clip"
    outputs = (Port("video", VIDEO),)
    params = (Param("seed", int, default=0, min=0, max=2**31, kind="seed"),)

    def run(self, ctx, *, seed):
        frames = clean_clip()[:16]
        if seed % 2 == 0:
            frames = synthetic.gain_flicker(frames, 0.1)
        frames = np.ascontiguousarray(frames)
        return {"video": Video.from_frames(lambda: iter(frames), fps=24, width=frames.shape[2],
                                           height=frames.shape[1], frame_count=len(frames))}


@pytest.fixture
def workflow(tmp_path, monkeypatch):
    registry = NodeRegistry()  # not the process-wide one: the test's own node stays here
    registry.load_entry_points()
    registry.register(SeededClip)
    monkeypatch.setattr(cli, "default_registry", lambda: registry)
    monkeypatch.setenv("KINOGRAPH_C2PA", "off")
    path = tmp_path / "seeded.json"
    path.write_text(json.dumps({
        "format": "kinograph.workflow", "version": 1, "name": "seeded",
        "nodes": [{"id": "gen", "type": "test.seeded_clip", "params": {"seed": 4}},
                  {"id": "save", "type": "video.save", "params": {"filename": "take.mp4", "preset": "ultrafast"}}],
        "links": [{"from": "gen.video", "to": "save.video"}]}))
    return path


def test_a_bad_first_attempt_is_run_again_with_the_next_seed(workflow, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["run", str(workflow), "--retry-on-quality", "2", "--output-dir", str(out)]) == 0
    err = capsys.readouterr().err
    assert "warning: attempt 1:" in err and "flicker_index" in err
    assert "attempt 2 of 3: running again with gen.seed=5" in err
    assert "attempt 2 of 3 passed the quality check; kept:" in err and "take_0001.mp4" in err
    assert sorted(p.name for p in out.iterdir()) == ["take.mp4", "take_0001.mp4"]  # both attempts are kept


def test_no_passing_attempt_keeps_them_all_and_says_so(workflow, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["run", str(workflow), "--retry-on-quality", "1", "--output-dir", str(out),
                     "--set", "gen.seed=4", "--quality-threshold", "warp_psnr=99"]) == 0
    err = capsys.readouterr().err
    assert "no attempt of 2 passed the quality check" in err
    assert len(list(out.iterdir())) == 2


def test_retrying_needs_a_seed_to_change(tmp_path, monkeypatch, capsys):
    workflow = tmp_path / "still.json"
    workflow.write_text(json.dumps({
        "format": "kinograph.workflow", "version": 1, "name": "still",
        "nodes": [{"id": "n", "type": "value.int"}, {"id": "s", "type": "video.save"}], "links": []}))
    assert cli.main(["run", str(workflow), "--retry-on-quality", "1", "--only", "n",
                     "--output-dir", str(tmp_path / "o")]) == 2
    assert "needs a seed to change" in capsys.readouterr().err
