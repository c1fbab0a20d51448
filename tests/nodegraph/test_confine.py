"""Output names stay in the output folder: one rule, applied at validation and when a node asks for a path."""

from __future__ import annotations

import os

import pytest

import nodes.io
from nodegraph import Scheduler, ValidationError, find_issues
from nodegraph.confine import output_name_problem
from nodegraph.errors import UsageError
from nodegraph.node import Node, NodeContext, Param

from .fakes import make_graph

ESCAPES = ("/tmp/x/f_{:05d}.png", "../../../x/f_{:05d}.png", "~/x/f_{:05d}.png", "a/../../x/f_{:05d}.png",
           "..\\..\\x\\f_{:05d}.png", "C:/x/f_{:05d}.png", "new\nline/f_{:05d}.png", "tab\t/f_{:05d}.png")


@pytest.fixture
def io_registry(registry):
    nodes.io.register(registry)
    return registry


def frames_graph(filename: str):
    return make_graph([("clip", "test.frames", {"count": 2}), ("save", "video.save_frames", {"filename": filename})],
                      [("clip.video", "save.video")])


@pytest.mark.parametrize("name", ESCAPES)
def test_save_frames_names_that_leave_the_output_folder_are_refused_at_validation(io_registry, tmp_path, name):
    issues = find_issues(frames_graph(name), io_registry, output_dir=tmp_path / "out")
    assert [(i.node_id, i.field) for i in issues] == [("save", "filename")]
    assert "output folder" in issues[0].message or "control character" in issues[0].message


def test_a_run_cannot_write_frames_outside_the_output_folder(io_registry, tmp_path):
    outside = tmp_path / "x"
    scheduler = Scheduler(io_registry, output_dir=tmp_path / "a" / "b" / "out")
    with pytest.raises(ValidationError, match="climbs out of the output folder"):
        scheduler.run(frames_graph("../../../x/f_{:05d}.png"))
    result = scheduler.run(frames_graph("../../../x/f_{:05d}.png"), validate_first=False)  # the resolver holds too
    assert result.status == "failed" and "output folder" in str(result.error)
    assert not outside.exists()
    ok = scheduler.run(frames_graph("shots/f_{:05d}.png"))
    assert ok.ok and sorted(os.listdir(ok.outputs["save"]["path"])) == ["f_00000.png", "f_00001.png"]


def test_a_symbolic_link_out_of_the_output_folder_is_refused(io_registry, tmp_path):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "link").symlink_to(elsewhere)
    (out / "dangling.png").symlink_to(elsewhere / "made.png")
    issues = find_issues(frames_graph("link/f_{:05d}.png"), io_registry, output_dir=out)
    assert len(issues) == 1 and "symbolic link" in issues[0].message
    ctx = NodeContext("n", "t", output_dir=out)
    with pytest.raises(UsageError, match="symbolic link"):
        ctx.output_path("link/video.mp4")
    with pytest.raises(UsageError, match="symbolic link"):
        ctx.output_path("dangling.png")
    assert list(elsewhere.iterdir()) == []
    assert ctx.output_path("inside/video.mp4") == out / "inside" / "video.mp4"


@pytest.mark.parametrize("name", ESCAPES)
def test_the_output_path_resolver_refuses_every_escape(tmp_path, name):
    with pytest.raises(UsageError):
        NodeContext("n", "t", output_dir=tmp_path).output_path(name)
    assert list(tmp_path.iterdir()) == []


def test_plain_names_pass():
    for name in ("video.mp4", "shots/take 1/video.mp4", "a..b.mp4", "x~.mp4", "frames/f_{:05d}.png"):
        assert output_name_problem(name) is None


class Peek(Node):
    """Like model.load: its check looks at the file its param names."""

    type_id = "test.peek"
    is_output = True
    params = (Param("source", str, default="", kind="path_or_id"),)

    @classmethod
    def check(cls, params):
        return [f"{params['source']} is a single file"] if os.path.isfile(params["source"]) else []


def test_confinement_runs_before_any_node_check_so_it_answers_nothing_about_other_files(registry, tmp_path):
    registry.register(Peek)
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("x")
    answers = []
    for source in (str(secret), str(tmp_path / "nothere.txt")):
        issues = find_issues(make_graph([("m", "test.peek", {"source": source})]), registry, input_dirs=[inputs])
        answers.append([i.message.replace(source, "SOURCE") for i in issues])
    assert answers[0] == answers[1] and "outside the server's input folders" in answers[0][0]
    (inputs / "model.bin").write_text("x")
    inside = find_issues(make_graph([("m", "test.peek", {"source": str(inputs / "model.bin")})]), registry,
                         input_dirs=[inputs])
    assert [i.message for i in inside] == [f"{inputs / 'model.bin'} is a single file"]
