"""`kinograph run --quality-threshold alignment=X` (issue 25): each video written is scored against the prompt of
the nearest node upstream of it, on a tiny CLIP whose answer is known; a video with no prompt upstream is named."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nodegraph import cli
from nodegraph.media import Video
from nodegraph.node import Node, Param, Port
from nodegraph.registry import NodeRegistry
from nodegraph.types import VIDEO

from .test_alignment import coloured
from .tiny_clip import build_tiny_clip


class RedClip(Node):
    """A red clip that says it was made from `prompt` (the stand-in for a text-to-video model)."""

    type_id = "test.red_clip"
    outputs = (Port("video", VIDEO),)
    params = (Param("prompt", str, default="", kind="multiline"),)

    def run(self, ctx, *, prompt):
        frames = np.ascontiguousarray(coloured(0, frames=8))
        return {"video": Video.from_frames(lambda: iter(frames), fps=8, width=48, height=48, frame_count=8)}


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    return build_tiny_clip(tmp_path_factory.mktemp("clip") / "tiny-clip")


@pytest.fixture
def run(tmp_path, monkeypatch, tiny_clip):
    registry = NodeRegistry()  # not the process-wide one: the test's own node stays here
    registry.load_entry_points()
    registry.register(RedClip)
    monkeypatch.setattr(cli, "default_registry", lambda: registry)
    monkeypatch.setenv("KINOGRAPH_C2PA", "off")
    monkeypatch.setenv("KINOGRAPH_ALIGNMENT_MODEL", str(tiny_clip))

    def run(prompt: str | None, *extra: str) -> int:
        nodes = [{"id": "gen", "type": "test.red_clip", "params": {"prompt": prompt or ""}},
                 {"id": "save", "type": "video.save", "params": {"filename": "take.mp4", "preset": "ultrafast"}}]
        path = tmp_path / "wf.json"
        path.write_text(json.dumps({"format": "kinograph.workflow", "version": 1, "name": "red", "nodes": nodes,
                                    "links": [{"from": "gen.video", "to": "save.video"}]}))
        return cli.main(["run", str(path), "--output-dir", str(tmp_path / "out"), *extra])
    return run


def test_a_clip_that_does_not_show_its_prompt_is_warned_about(run, capsys):
    assert run("a blue sky", "--quality-threshold", "alignment=0.5") == 0
    err = capsys.readouterr().err
    assert "alignment" in err and "is below the threshold 0.5" in err and "prompt asked for" in err


def test_a_clip_that_shows_its_prompt_passes(run, capsys):
    still = ("--quality-threshold", "frozen=1", "--quality-threshold", "motion=0")  # the test clip stands still
    assert run("a red sky", "--quality-threshold", "prompt=0.5", *still) == 0
    assert "quality check passed for 1 file(s)" in capsys.readouterr().err


def test_alignment_is_not_checked_unless_asked_for(run, capsys, monkeypatch):
    monkeypatch.setenv("KINOGRAPH_ALIGNMENT_MODEL", "/nowhere/no-such-model")  # would fail if it were loaded
    assert run("a blue sky", "--check-quality") == 0
    err = capsys.readouterr().err
    assert "frozen_ratio" in err and ": alignment " not in err and "could not be loaded" not in err


def test_a_clip_without_a_prompt_upstream_is_named(run, capsys):
    assert run(None, "--quality-threshold", "alignment=0.5") == 0
    assert "alignment not checked: no node upstream of it has a prompt" in capsys.readouterr().err
