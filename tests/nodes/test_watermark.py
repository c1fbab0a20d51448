"""video.watermark and `kinograph eval --watermark` (issue 25): a mark made in every frame is read back after the
clip is saved and re-encoded with H.264 at crf 23; an unmarked clip is not taken for a marked one; bad messages,
small frames and a missing library each get one line with the fix."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nodegraph import Graph, Link, NodeInstance, Scheduler
from nodegraph.cli import main
from nodegraph.errors import ValidationError
from nodegraph.media import Video
from nodegraph.node import Node, Port
from nodegraph.registry import NodeRegistry
from nodegraph.types import VIDEO
from nodegraph.validate import validate
from tests.nodes.evaluation.clips import write_video

pytest.importorskip("imwatermark")


def scene(frames: int = 24, width: int = 320, height: int = 256) -> np.ndarray:
    """Soft coloured shapes drifting to the right: a stand-in for a generated shot."""
    import cv2

    rng = np.random.default_rng(7)
    base = cv2.resize((rng.random((height // 32, width // 32, 3)) * 255).astype(np.uint8), (width, height),
                      interpolation=cv2.INTER_CUBIC)
    base = cv2.GaussianBlur(base, (0, 0), 3)
    return np.stack([np.roll(base, 2 * i, axis=1) for i in range(frames)])


class Scene(Node):
    """The drifting test scene."""

    type_id = "test.scene"
    outputs = (Port("video", VIDEO),)

    def run(self, ctx):
        frames = scene()
        return {"video": Video.from_frames(lambda: iter(frames), fps=24, width=320, height=256, frame_count=24)}


def reencode(source, target, crf: int = 23):
    """Decode a file and encode it again with H.264 at `crf`, as a sharing site would."""
    import av

    with av.open(str(source)) as src:
        frames = np.stack([f.to_ndarray(format="rgb24") for f in src.decode(video=0)])
    return write_video(target, frames, crf=crf)


def graph(message: str = "kinograph") -> Graph:
    g = Graph("marked")
    g.add_node(NodeInstance("scene", "test.scene"))
    g.add_node(NodeInstance("mark", "video.watermark", {"message": message}))
    g.add_node(NodeInstance("save", "video.save", {"filename": "marked.mp4", "crf": 18, "preset": "veryfast"}))
    g.connect(Link("scene", "video", "mark", "video"))
    g.connect(Link("mark", "video", "save", "video"))
    return g


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setenv("KINOGRAPH_C2PA", "off")
    registry = NodeRegistry()  # not the process-wide one: the test's own node stays here
    registry.load_entry_points()
    registry.register(Scene)
    return registry


def test_the_mark_survives_an_h264_reencode_at_crf_23(registry, tmp_path, capsys):
    result = Scheduler(registry, output_dir=tmp_path).run(graph("kinograph")).raise_for_status()
    marked = reencode(result.files[0], tmp_path / "shared.mp4")
    assert main(["eval", str(marked), "--watermark", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)["watermark"]
    assert found["detected"] and found["vote_accuracy"] >= 0.9 and found["frames"] == 24
    assert main(["eval", str(marked), "--watermark"]) == 0
    assert "watermark 'kinograph': found" in capsys.readouterr().out


def test_a_clip_without_the_mark_is_not_taken_for_one(tmp_path, capsys):
    plain = write_video(tmp_path / "plain.mp4", scene(), crf=23)
    assert main(["eval", str(plain), "--watermark", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)["watermark"]
    assert not found["detected"] and found["vote_accuracy"] < 0.8


def test_the_marked_frames_look_like_the_clip(registry, tmp_path):
    marked = Scheduler(registry, output_dir=tmp_path).run(graph()).raise_for_status().outputs["mark"]["video"]
    import cv2

    assert cv2.PSNR(scene()[5], marked.to_array()[5]) > 34  # a change in the blue-difference colour only


def test_bad_messages_are_refused_before_running(registry):
    for message, words in (("", "empty"), ("x" * 17, "at most 16"), ("café", "outside ASCII")):
        with pytest.raises(ValidationError, match=words):
            validate(graph(message), registry)


def test_small_frames_and_a_missing_library_say_what_to_do(registry, tmp_path, monkeypatch):
    import sys

    from nodegraph.media import Video as V

    tiny = np.zeros((2, 64, 64, 3), np.uint8)

    class Tiny(Node):
        """A small clip."""

        type_id = "test.tiny"
        outputs = (Port("video", VIDEO),)

        def run(self, ctx):
            return {"video": V.from_frames(lambda: iter(tiny), fps=8, width=64, height=64, frame_count=2)}

    registry.register(Tiny)
    g = graph()
    g.nodes["scene"].type = "test.tiny"
    result = Scheduler(registry, output_dir=tmp_path).run(g)
    assert result.status == "failed" and "too small to carry a watermark" in str(result.error)
    monkeypatch.setitem(sys.modules, "imwatermark", None)  # as if it were not installed
    result = Scheduler(registry, output_dir=tmp_path).run(graph())
    assert result.status == "failed" and "pip install --no-deps 'invisible-watermark" in str(result.error)
