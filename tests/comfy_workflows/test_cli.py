"""kinograph import / export --comfy on the command line: exit codes, what is printed, what is written."""

from __future__ import annotations

import json
import shutil

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from comfy_workflows import ComfyImportError, export_prompt, import_data, import_file
from nodegraph.cli import main
from nodegraph.workflow import parse_workflow

from .conftest import WORKFLOWS


def test_import_writes_file_kinograph_json_and_prints_the_report(tmp_path, capsys):
    source = shutil.copy(WORKFLOWS / "wan21_t2v_features.json", tmp_path / "mine.json")
    assert main(["import", str(source)]) == 0
    out = capsys.readouterr().out
    written = tmp_path / "mine.kinograph.json"
    assert json.loads(written.read_text())["format"] == "kinograph.workflow"
    assert "mapped: 3 KSampler -> sample_3" in out
    assert "dropped: 70 Reroute: reroute spliced out" in out
    assert f"wrote {written}" in out
    assert main(["import", str(source)]) == 2  # never overwritten silently
    assert "exists" in capsys.readouterr().err


def test_unmappable_nodes_exit_2_listing_every_one_and_nothing_is_written(tmp_path, capsys):
    out = tmp_path / "out.json"
    assert main(["import", str(WORKFLOWS / "unmapped_api.json"), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    for line in ("ComfyUI node 2: WanVideoSampler \"Kijai sampler\"", "ComfyUI node 3: RIFE VFI",
                 "ComfyUI node 6: Fancy Save", "ComfyUI node 83: EmptyLatentImage"):
        assert line in err
    assert "Traceback" not in err and not out.exists()


def test_not_a_workflow_is_one_clean_error(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"nodes": [{"id": 1}]}')
    assert main(["import", str(bad), "-o", str(tmp_path / "o.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err


def same_graph(a: dict, b: dict) -> None:
    def nodes(wf):
        return {n["id"]: (n["type"], n["params"], n.get("mode", "normal"), n.get("title", "")) for n in wf["nodes"]}

    assert nodes(a) == nodes(b)
    assert {(lk["from"], lk["to"]) for lk in a["links"]} == {(lk["from"], lk["to"]) for lk in b["links"]}


def flat(workflow: dict, registry) -> dict:
    """A workflow with its subgraphs expanded, inner nodes named instance__inner (as an exported prompt names them
    instance/inner)."""
    from nodegraph.flatten import flatten
    from nodegraph.workflow import workflow_to_dict

    out = workflow_to_dict(flatten(parse_workflow(workflow, registry), registry), registry)
    for node in out["nodes"]:
        node["id"] = node["id"].replace("/", "__")
    for link in out["links"]:
        link["from"], link["to"] = link["from"].replace("/", "__"), link["to"].replace("/", "__")
    return out


def test_round_trip_import_export_import_keeps_the_graph(registry, tmp_path, capsys):
    for name in ("wan21_t2v.json", "wan21_t2v_nested_subgraphs.json"):
        first = import_file(WORKFLOWS / name).workflow
        prompt = export_prompt(parse_workflow(first, registry), registry)
        assert all(set(entry) <= {"class_type", "inputs", "_meta"} for entry in prompt.values())
        same_graph(flat(first, registry), import_data(prompt).workflow)  # an API prompt has no subgraphs
    # with a primitive: the value node comes back as a value node linked to the same param
    features = import_file(WORKFLOWS / "wan21_t2v_features.json").workflow
    graph = parse_workflow(features, registry)
    again = import_data(export_prompt(graph, registry)).workflow
    kept = {n["id"] for n in again["nodes"]}
    assert "value_73" in kept and {"from": "value_73.value", "to": "sample_3.seed"} in again["links"]
    assert "save_79" not in kept and "lora_72" not in kept  # muted: left out; bypassed: passed through
    # with sound: an audio.load feeding the saver comes back as a LoadAudio on CreateVideo
    sound = import_file(WORKFLOWS / "wan21_t2v.json").workflow
    sound["nodes"].append({"id": "music", "type": "audio.load", "params": {"path": "music.wav"}})
    sound["links"].append({"from": "music.audio", "to": "save_50.audio"})
    prompt = export_prompt(parse_workflow(sound, registry), registry)
    assert prompt["save_50_video"]["inputs"]["audio"] == ["music", 0]
    same_graph(sound, import_data(prompt).workflow)
    # and through the command line
    wf = tmp_path / "wf.json"
    wf.write_text(json.dumps(import_file(WORKFLOWS / "wan21_t2v.json").workflow))
    assert main(["export", "--comfy", str(wf)]) == 0
    assert json.loads((tmp_path / "wf.comfy.json").read_text())["sample_3"]["class_type"] == "KSampler"


def test_export_refuses_with_every_node_without_a_comfyui_counterpart(registry, tmp_path, capsys):
    wf = json.loads((WORKFLOWS.parents[2] / "resources" / "workflows" / "draft_then_refine.json").read_text())
    path = tmp_path / "draft.json"
    path.write_text(json.dumps(wf))
    assert main(["export", "--comfy", str(path)]) == 2
    err = capsys.readouterr().err
    assert "model: model.load: source 'Wan-AI/Wan2.1-T2V-1.3B-Diffusers' is a Diffusers folder" in err
    assert "interpolate: video.interpolate: no ComfyUI counterpart" in err
    assert not (tmp_path / "draft.comfy.json").exists()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=40)
comfy_like = st.fixed_dictionaries({
    "nodes": st.lists(st.fixed_dictionaries({
        "id": st.integers(-20, 20) | st.text(max_size=3), "type": st.sampled_from(
            ["KSampler", "Reroute", "PrimitiveNode", "SaveVideo", "VAEDecode", "CreateVideo", "Note", "sg", "X"]),
        "inputs": st.lists(st.fixed_dictionaries({"name": st.text(max_size=4) | st.sampled_from(
            ["model", "video", "images", "samples", "seed"]), "link": st.integers(0, 6) | st.none()}), max_size=4),
        "widgets_values": json_values, "mode": st.integers(0, 4), "pos": json_values}), max_size=6),
    "links": st.lists(st.lists(st.integers(-20, 20), min_size=6, max_size=6) | json_values, max_size=6),
    "groups": json_values,
    "definitions": st.fixed_dictionaries({"subgraphs": st.lists(st.fixed_dictionaries({
        "id": st.just("sg"), "nodes": json_values, "links": json_values}), max_size=1)}),
})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(json_values, comfy_like, st.dictionaries(st.text(max_size=3), st.fixed_dictionaries(
    {"class_type": st.sampled_from(["KSampler", "SaveVideo", "VAEDecode", "PrimitiveInt", "Y"]),
     "inputs": st.dictionaries(st.sampled_from(["model", "video", "images", "samples", "seed", "value"]),
                               json_values, max_size=4)}), max_size=5)))
def test_any_json_gives_a_workflow_or_one_clean_error(data):
    try:
        result = import_data(data)
    except ComfyImportError as exc:
        assert str(exc)
        return
    assert result.workflow["format"] == "kinograph.workflow"


def _mutate(data, choices, value):
    """Replace one value somewhere in `data` (the choices pick the path)."""
    node = data
    for pick in choices:
        if isinstance(node, dict) and node:
            key = sorted(node, key=str)[pick % len(node)]
            if not isinstance(node[key], (dict, list)) or not node[key]:
                node[key] = value
                return data
            node = node[key]
        elif isinstance(node, list) and node:
            index = pick % len(node)
            if not isinstance(node[index], (dict, list)) or not node[index]:
                node[index] = value
                return data
            node = node[index]
    return data


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["wan21_t2v_features.json", "wan21_t2v_nested_subgraphs.json", "wan22_i2v_high_low.json",
                        "many_nodes_api.json"]),
       st.lists(st.lists(st.integers(0, 50), min_size=1, max_size=8), min_size=1, max_size=3),
       st.lists(json_values, min_size=3, max_size=3))
def test_real_workflows_with_values_changed_give_a_workflow_or_one_clean_error(name, paths, values):
    data = json.loads((WORKFLOWS / name).read_text())
    for choices, value in zip(paths, values, strict=False):
        data = _mutate(data, choices, value)
    try:
        result = import_data(data)
    except ComfyImportError as exc:
        assert str(exc)
        return
    assert result.workflow["format"] == "kinograph.workflow"
