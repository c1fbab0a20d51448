"""Workflow format v1: round trip, paths, migrations, atomic save, and fuzzed loading."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nodegraph import NodeRegistry, WorkflowError, find_issues, load_workflow, loads_workflow, save_workflow
from nodegraph.node import Node, Param, Port
from nodegraph.types import FLOAT
from nodegraph.workflow import dumps_workflow

from .fakes import TEST_NODES, make_graph

FUZZ_REGISTRY = NodeRegistry()
FUZZ_REGISTRY.register_all(TEST_NODES)

DOC = {
    "format": "kinograph.workflow",
    "version": 1,
    "name": "demo",
    "nodes": [
        {"id": "n", "type": "test.number", "params": {"value": 2.5}, "ui": {"x": 10, "y": 20}},
        {"id": "out", "type": "test.sink", "params": {"label": "x"}, "mode": "bypass", "title": "Result"},
    ],
    "links": [{"from": "n.value", "to": "out.value"}],
    "groups": [{"title": "Numbers", "nodes": ["n"], "ui": {"x": 0, "y": 0, "w": 300, "h": 200}}],
    "meta": {"author": "test"},
}


def test_round_trip_keeps_everything(registry, tmp_path):
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(DOC))
    graph = load_workflow(path, registry)
    assert graph.nodes["n"].params == {"value": 2.5}
    assert graph.nodes["n"].ui == {"x": 10, "y": 20}
    assert graph.nodes["out"].mode == "bypass" and graph.nodes["out"].title == "Result"
    assert [(lk.from_ref, lk.to_ref) for lk in graph.links] == [("n.value", "out.value")]
    assert graph.groups[0].nodes == ["n"] and graph.meta == {"author": "test"}
    saved = tmp_path / "again.json"
    save_workflow(graph, saved, registry)
    assert json.loads(saved.read_text()) == DOC


@pytest.mark.parametrize("content, expected", [
    ("", "the file is empty"),
    ("   \n", "the file is empty"),
    ("{not json", "not valid JSON: Expecting property name enclosed in double quotes at line 1, column 2"),
    ("[1, 2]", "the top level must be a JSON object"),
    ('{"format": "comfy"}', "'format' must be 'kinograph.workflow'"),
    ('{"format": "kinograph.workflow", "version": 9, "nodes": []}', "newer than this Kinograph reads"),
])
def test_malformed_files_raise_one_clear_workflow_error(registry, tmp_path, content, expected):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(WorkflowError) as info:
        load_workflow(path, registry)
    assert expected in str(info.value)
    assert str(path) in str(info.value)


def test_missing_file(registry, tmp_path):
    with pytest.raises(WorkflowError, match="file not found"):
        load_workflow(tmp_path / "nope.json", registry)


def test_every_field_problem_is_listed(registry):
    doc = {"format": "kinograph.workflow", "version": 1, "extra": 1,
           "nodes": [{"id": "a"}, {"type": "test.sink"}, 5, {"id": "b", "type": "test.sink", "params": []}],
           "links": [{"from": "a", "to": "b.value"}]}
    with pytest.raises(WorkflowError) as info:
        loads_workflow(json.dumps(doc), registry)
    text = str(info.value)
    assert len(info.value.issues) == 6, text
    for fragment in ("extra: unknown top-level key", "a.type: 'type' must be", "nodes[1]: 'id'",
                     "nodes[2]: must be an object", "b.params: must be an object of named params",
                     "'from' must be 'node_id.port'"):
        assert fragment in text


def test_duplicate_ids_are_validation_issues(registry):
    doc = dict(DOC, nodes=DOC["nodes"] + [{"id": "n", "type": "test.number"}])
    graph = loads_workflow(json.dumps(doc), registry)
    assert any("duplicate node id" in str(i) for i in find_issues(graph, registry))


def test_relative_paths_resolve_against_the_file_folder_and_rebase_on_save(tmp_path):
    class Reader(Node):
        type_id = "test.reader"
        outputs = (Port("value", FLOAT),)
        params = (Param("path", str, default="", kind="path"),)

    reg = NodeRegistry()
    reg.register(Reader)
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "wf.json").write_text(json.dumps({
        "format": "kinograph.workflow", "version": 1,
        "nodes": [{"id": "r", "type": "test.reader", "params": {"path": "../media/clip.mp4"}}]}))
    graph = load_workflow(folder / "wf.json", reg)
    assert graph.resolve_path(graph.nodes["r"].params["path"]) == str(tmp_path / "media" / "clip.mp4")
    deeper = tmp_path / "a" / "b"
    save_workflow(graph, deeper / "moved.json", reg)
    saved = json.loads((deeper / "moved.json").read_text())
    assert saved["nodes"][0]["params"]["path"] == "../../media/clip.mp4"
    embedded = json.loads(dumps_workflow(graph, reg, absolute_paths=True))
    assert embedded["nodes"][0]["params"]["path"] == str(tmp_path / "media" / "clip.mp4")


def test_type_version_migrates_old_params():
    class Blur(Node):
        type_id = "test.blur"
        version = 2
        outputs = (Port("value", FLOAT),)
        params = (Param("radius_px", float, default=1.0),)

        @classmethod
        def migrate(cls, params, from_version):
            if from_version < 2 and "radius" in params:
                params["radius_px"] = params.pop("radius") * 2
            return params

    reg = NodeRegistry()
    reg.register(Blur)
    doc = {"format": "kinograph.workflow", "version": 1,
           "nodes": [{"id": "b", "type": "test.blur", "params": {"radius": 3}}]}
    graph = loads_workflow(json.dumps(doc), reg)
    assert graph.nodes["b"].params == {"radius_px": 6}
    assert json.loads(dumps_workflow(graph, reg))["nodes"][0]["type_version"] == 2
    newer = {"format": "kinograph.workflow", "version": 1,
             "nodes": [{"id": "b", "type": "test.blur", "type_version": 7}]}
    with pytest.raises(WorkflowError, match="saved by version 7 of test.blur"):
        loads_workflow(json.dumps(newer), reg)


def test_aliases_load_as_the_current_type(registry):
    class Renamed(Node):
        type_id = "test.renamed"
        aliases = ("test.old_name",)
        outputs = (Port("value", FLOAT),)

    registry.register(Renamed)
    doc = {"format": "kinograph.workflow", "version": 1, "nodes": [{"id": "r", "type": "test.old_name"}]}
    assert loads_workflow(json.dumps(doc), registry).nodes["r"].type == "test.renamed"


def test_crash_while_saving_leaves_the_old_file_intact(registry, tmp_path, monkeypatch):
    path = tmp_path / "wf.json"
    graph = make_graph([("n", "test.number", {"value": 1})])
    save_workflow(graph, path, registry)
    before = path.read_text()
    graph.nodes["n"].params["value"] = 99

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        save_workflow(graph, path, registry)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["wf.json"]  # no temporary file left behind


def test_loading_never_executes_code(registry, tmp_path):
    marker = tmp_path / "pwned"
    doc = {"format": "kinograph.workflow", "version": 1, "nodes": [
        {"id": "x", "type": f"__import__('os').system('touch {marker}')", "params": {"value": "!!python/object"}}]}
    graph = loads_workflow(json.dumps(doc), registry)
    assert find_issues(graph, registry)
    assert not marker.exists()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
node_entries = st.fixed_dictionaries(
    {"id": st.one_of(st.text(max_size=6), st.sampled_from(["a", "b", "c"]), json_values),
     "type": st.one_of(st.sampled_from(["test.number", "test.sink", "test.add", "nope"]), json_values)},
    optional={"params": st.one_of(st.dictionaries(st.sampled_from(["value", "label", "offset", "x"]), json_values),
                                  json_values),
              "mode": st.one_of(st.sampled_from(["normal", "mute", "bypass"]), json_values),
              "ui": json_values, "type_version": json_values, "title": json_values},
)
documents = st.fixed_dictionaries(
    {"format": st.one_of(st.just("kinograph.workflow"), json_values),
     "version": st.one_of(st.just(1), json_values)},
    optional={"nodes": st.one_of(st.lists(node_entries, max_size=5), json_values),
              "links": st.one_of(st.lists(st.fixed_dictionaries(
                  {"from": st.one_of(st.sampled_from(["a.value", "b.value", "c.text"]), json_values),
                   "to": st.one_of(st.sampled_from(["b.value", "c.a", "a.b"]), json_values)}), max_size=4),
                  json_values),
              "groups": json_values, "meta": json_values, "name": json_values},
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(documents, json_values))
def test_fuzz_any_document_loads_or_raises_workflow_error(doc):
    registry = FUZZ_REGISTRY
    try:
        graph = loads_workflow(json.dumps(doc), registry)
    except WorkflowError:
        return
    find_issues(graph, registry)  # validation of whatever loaded must not crash either
    loads_workflow(dumps_workflow(graph, registry), registry)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_fuzz_any_bytes_load_or_raise_workflow_error(tmp_path_factory, blob):
    registry = FUZZ_REGISTRY
    path = tmp_path_factory.mktemp("fuzz") / "wf.json"
    path.write_bytes(blob if isinstance(blob, bytes) else blob.encode("utf-8", "surrogatepass"))
    try:
        load_workflow(path, registry)
    except WorkflowError:
        pass


def test_a_path_or_id_param_keeps_model_ids_and_resolves_paths_that_exist(tmp_path):
    from nodegraph.node import Param

    source = Param("source", str, default="", kind="path_or_id")
    assert source.resolve("Wan-AI/Wan2.1-T2V-1.3B-Diffusers", tmp_path) == "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"
    (tmp_path / "models" / "mine").mkdir(parents=True)
    assert source.resolve("models/mine", tmp_path) == str(tmp_path / "models" / "mine")  # a folder wins
    assert source.resolve("./weights.safetensors", tmp_path) == str(tmp_path / "weights.safetensors")
    assert source.resolve("../a/b/c.ckpt", tmp_path) == str(tmp_path.parent / "a" / "b" / "c.ckpt")
    plain = Param("path", str, default="", kind="path")
    assert plain.resolve("owner/name", tmp_path) == str(tmp_path / "owner" / "name")  # a plain path is a path


def test_notes_are_kept_in_the_file_and_a_file_without_notes_is_unchanged(registry, tmp_path):
    from nodegraph.edits import AddNote, RemoveNote, SetNote, UndoStack
    from nodegraph.graph import Graph, Note
    from nodegraph.workflow import dumps_workflow, load_workflow, save_workflow

    graph = Graph("notes")
    assert "\"notes\":" not in dumps_workflow(graph, registry)  # format v1 files without notes stay byte-identical
    stack = UndoStack(graph)
    stack.push(AddNote(Note("# Step 1\nLoad **the** model", {"x": 10, "y": 20})))
    stack.push(SetNote(0, text="# Step 1\nLoad the model first"))
    stack.push(SetNote(0, ui={"x": 50}))
    path = save_workflow(graph, tmp_path / "n.json", registry)
    again = load_workflow(path, registry)
    assert [(n.text, n.ui) for n in again.notes] == [("# Step 1\nLoad the model first", {"x": 50, "y": 20})]
    stack.undo()
    stack.undo()
    assert graph.notes[0].text == "# Step 1\nLoad **the** model" and graph.notes[0].ui == {"x": 10, "y": 20}
    stack.push(RemoveNote(0))
    assert not graph.notes
    stack.undo()
    assert graph.notes[0].ui["x"] == 10


def test_a_malformed_note_is_named_in_the_error(registry):
    from nodegraph.errors import WorkflowError
    from nodegraph.workflow import loads_workflow

    text = '{"format": "kinograph.workflow", "version": 1, "nodes": [], "notes": [{"text": 5}]}'
    with pytest.raises(WorkflowError, match=r"notes\[0\]"):
        loads_workflow(text, registry)
