"""A models folder in ComfyUI's layout: file params that declare a models kind take names from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nodegraph import cli, models_dir
from nodegraph.errors import ValidationError
from nodegraph.graph import Graph, NodeInstance
from nodegraph.node import Node, Param, Port
from nodegraph.types import STRING
from nodegraph.validate import find_issues
from nodegraph.workflow import dumps_workflow, loads_workflow, workflow_to_dict


class ReadLora(Node):
    """Reads a LoRA file (or a folder beside the workflow) and outputs its text."""

    type_id = "test.read_lora"
    is_output = True
    outputs = (Port("text", STRING),)
    params = (Param("source", str, default="", kind="path_or_id", models=("loras",)),)

    def run(self, ctx, *, source):
        print(f"read {Path(source).read_text()}")
        return {"text": Path(source).read_text()}


@pytest.fixture(autouse=True)
def no_models_setting(monkeypatch, registry):
    monkeypatch.delenv(models_dir.ENV, raising=False)
    monkeypatch.setattr(cli, "default_registry", lambda: registry)
    registry.register(ReadLora)
    models_dir.set_models_dirs([])
    yield
    models_dir.set_models_dirs([])


def comfy_folder(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def workflow(folder: Path, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "wf.json"
    path.write_text(json.dumps({"format": "kinograph.workflow", "version": 1, "name": "t",
                                "nodes": [{"id": "lora", "type": "test.read_lora", "params": {"source": source}}],
                                "links": []}))
    return path


def test_run_takes_a_name_from_the_models_folder_given_by_flag(tmp_path, capsys):
    models = comfy_folder(tmp_path / "models", {"loras/wan/fast.safetensors": "the fast lora"})
    path = workflow(tmp_path / "work", "wan/fast.safetensors")
    assert cli.main(["run", str(path), "--models-dir", str(models)]) == 0
    assert "read the fast lora" in capsys.readouterr().out
    assert cli.main(["run", str(path)]) == 2  # without the folder: one line naming what was searched
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'wan/fast.safetensors' is neither beside the workflow" in err[0]
    assert "KINOGRAPH_MODELS" in err[0] and "--models-dir" in err[0]


def test_the_environment_variable_names_several_folders_and_a_file_beside_the_workflow_wins(
        tmp_path, monkeypatch, registry):
    first = comfy_folder(tmp_path / "a", {"vae/other.safetensors": "x"})
    second = comfy_folder(tmp_path / "b", {"loras/style.safetensors": "from b"})
    monkeypatch.setenv(models_dir.ENV, f"{first}{models_dir.os.pathsep}{second}")
    param = ReadLora.param("source")
    work = tmp_path / "work"
    assert param.resolve("style.safetensors", work) == str(second / "loras" / "style.safetensors")
    (work / "style.safetensors").parent.mkdir(parents=True)
    (work / "style.safetensors").write_text("beside")
    assert param.resolve("style.safetensors", work) == str(work / "style.safetensors")
    # only the kinds a param declares are searched: a VAE name is not a LoRA
    assert param.resolve("other.safetensors", work) == str(work / "other.safetensors")
    # a name that climbs out of the kind folder is never looked up there
    assert param.resolve("../vae/other.safetensors", second / "loras") == str(second / "vae" / "other.safetensors")
    assert models_dir.find("../vae/other.safetensors", ("loras",), [first]) == []


def test_an_alternate_folder_name_counts_and_a_name_in_two_places_is_one_line_listing_both(tmp_path):
    models = comfy_folder(tmp_path / "m", {"unet/wan.safetensors": "u", "diffusion_models/ltx.safetensors": "d"})
    other = comfy_folder(tmp_path / "n", {"diffusion_models/wan.safetensors": "again"})
    param = Param("source", str, default="", kind="path", models="diffusion_models")
    models_dir.set_models_dirs([models])
    assert param.resolve("wan.safetensors", tmp_path) == str(models / "unet" / "wan.safetensors")
    assert param.models_problem("wan.safetensors", tmp_path) is None
    models_dir.set_models_dirs([models, other])
    problem = param.models_problem("wan.safetensors", tmp_path)
    assert "more than one models folder" in problem
    assert str(models / "unet" / "wan.safetensors") in problem and str(other / "diffusion_models") in problem
    missing = param.models_problem("nope.safetensors", tmp_path)
    assert "diffusion_models/, unet/ in " in missing and str(other) in missing
    models_dir.set_models_dirs([tmp_path / "typo"])
    assert f"{tmp_path / 'typo'} (not a folder)" in param.models_problem("nope.safetensors", tmp_path)


def test_validation_reports_ambiguity_and_a_hugging_face_id_is_still_an_id(tmp_path, registry):
    one = comfy_folder(tmp_path / "one", {"loras/x.safetensors": "1"})
    two = comfy_folder(tmp_path / "two", {"loras/x.safetensors": "2"})
    models_dir.set_models_dirs([one, two])
    graph = Graph("t", tmp_path)
    graph.add_node(NodeInstance("lora", "test.read_lora", {"source": "x.safetensors"}))
    graph.add_node(NodeInstance("hub", "test.read_lora", {"source": "owner/some-lora"}))
    issues = find_issues(graph, registry)
    assert [(i.node_id, i.field) for i in issues] == [("lora", "source")]
    assert ReadLora.param("source").names_model_id("owner/some-lora", tmp_path)


def test_saving_elsewhere_keeps_a_models_name_and_absolute_paths_point_into_the_folder(tmp_path, registry):
    models = comfy_folder(tmp_path / "m", {"loras/a.safetensors": "a"})
    models_dir.set_models_dirs([models])
    graph = loads_workflow(workflow(tmp_path / "w1", "a.safetensors").read_text(), registry,
                           base_dir=tmp_path / "w1")
    assert json.loads(dumps_workflow(graph, registry))["nodes"][0]["params"]["source"] == "a.safetensors"
    moved = workflow_to_dict(graph, registry, base_dir=tmp_path / "elsewhere" / "deep")
    assert moved["nodes"][0]["params"]["source"] == "a.safetensors"
    absolute = workflow_to_dict(graph, registry, absolute_paths=True)
    assert absolute["nodes"][0]["params"]["source"] == str(models / "loras" / "a.safetensors")


def test_a_models_dir_that_is_not_a_folder_is_one_line_and_exit_2(tmp_path, capsys):
    path = workflow(tmp_path, "x.safetensors")
    assert cli.main(["validate", str(path), "--models-dir", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not a folder" in err[0]
    with pytest.raises(ValidationError):
        models_dir.configure([str(tmp_path / "nope")])


def test_a_param_must_name_known_kinds_on_a_path_param():
    with pytest.raises(ValueError, match="models takes kinds"):
        Param("x", str, default="", kind="path", models=("lora",))
    with pytest.raises(ValueError, match="models takes kinds"):
        Param("x", str, default="", models=("loras",))


def test_listing_walks_subfolders_and_counts_a_model_folder_once(tmp_path):
    models = comfy_folder(tmp_path / "m", {
        "loras/b.safetensors": "bb", "loras/wan/a.safetensors": "a", "loras/notes.txt": "not a model",
        "diffusers/tiny-wan/model_index.json": "{}", "diffusers/tiny-wan/vae/w.safetensors": "12345",
    })
    assert [(f.name, f.size_bytes) for f in models_dir.list_files("loras", [models])] == [
        ("b.safetensors", 2), ("wan/a.safetensors", 1)]
    assert [(f.name, f.size_bytes) for f in models_dir.list_files("diffusers", [models])] == [("tiny-wan", 7)]


def test_the_node_catalogue_says_which_kinds_a_param_takes(registry):
    entry = next(e for e in cli.node_catalogue(registry) if e["type"] == "test.read_lora")
    assert entry["params"][0]["models"] == ["loras"]


def test_a_workflow_from_a_video_lists_the_models_file_it_reads(tmp_path, registry, capsys):
    from nodegraph.prepare import tell_embedded_inputs

    models = comfy_folder(tmp_path / "models", {"loras/fast.safetensors": "lora"})
    models_dir.set_models_dirs([models])
    graph = Graph("from a video", tmp_path / "videos")
    graph.add_node(NodeInstance("read", "test.read_lora", {"source": "fast.safetensors"}))
    video = tmp_path / "videos" / "clip.mp4"
    video.parent.mkdir()
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42")  # not workflow text: the workflow came out of a video
    tell_embedded_inputs(str(video), graph, registry, ["read"])
    said = capsys.readouterr().err
    assert said.endswith(f"it reads these files:\n  {models / 'loras' / 'fast.safetensors'}\n")  # not videos/...
