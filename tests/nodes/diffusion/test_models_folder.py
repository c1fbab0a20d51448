"""model.load takes a model by its name in a ComfyUI-style models folder."""

from __future__ import annotations

import pytest
from test_model_files import reference_frames, wan_files  # noqa: F401 (fixtures: ComfyUI's split Wan files)

from nodegraph import Graph, NodeInstance, Scheduler, models_dir
from nodegraph.validate import find_issues


@pytest.fixture
def models(tmp_path, tiny_model, monkeypatch):
    monkeypatch.delenv(models_dir.ENV, raising=False)
    (tmp_path / "models" / "diffusers").mkdir(parents=True)
    (tmp_path / "models" / "diffusers" / "tiny-wan").symlink_to(tiny_model("wan"), target_is_directory=True)
    models_dir.set_models_dirs([tmp_path / "models"])
    yield tmp_path / "models"
    models_dir.set_models_dirs([])


def load_graph(tmp_path, **params) -> Graph:
    graph = Graph("t", tmp_path / "work")
    graph.add_node(NodeInstance("model", "model.load", {"dtype": "float32", **params}))
    return graph


def test_model_load_takes_a_name_from_the_models_folder(registry, models, tmp_path):
    wrong = find_issues(load_graph(tmp_path, source="tiny-wan", family="ltx"), registry)
    # its check read the configs of the folder the name names, and says which folder that was
    found = models / "diffusers" / "tiny-wan"
    assert len(wrong) == 1 and f"{found}' is a wan model but family is 'ltx'" in str(wrong[0])
    missing = find_issues(load_graph(tmp_path, source="wan2.1_t2v_1.3B_fp16.safetensors"), registry)
    assert len(missing) == 1 and "diffusion_models/, unet/, checkpoints/, diffusers/ in " in str(missing[0])
    result = Scheduler(registry).run(load_graph(tmp_path, source="tiny-wan"), ["model"])
    result.raise_for_status()
    handle = result.outputs["model"]["model"]
    assert handle.family == "wan" and handle.source == str(models / "diffusers" / "tiny-wan")


def test_split_files_named_from_a_comfyui_models_folder_give_the_folders_frames(registry, tmp_path, monkeypatch,
                                                                               wan_files, reference_frames):  # noqa: F811
    from helpers import max_level_diff, pipeline_graph, run_frames
    from test_model_files import SAMPLE

    monkeypatch.delenv(models_dir.ENV, raising=False)
    models = tmp_path / "ComfyUI" / "models"
    for kind, key in (("diffusion_models", "denoiser"), ("text_encoders", "text_encoder"), ("vae", "vae")):
        (models / kind).mkdir(parents=True)
        (models / kind / wan_files[key].name).symlink_to(wan_files[key])
    monkeypatch.setenv(models_dir.ENV, str(models))
    graph = pipeline_graph({"source": wan_files["denoiser"].name, "config": str(wan_files["folder"]),
                            "text_encoder": wan_files["text_encoder"].name, "vae": wan_files["vae"].name}, SAMPLE)
    graph.base_dir = tmp_path / "work"
    frames = run_frames(Scheduler(registry, output_dir=tmp_path / "out"), graph)
    assert max_level_diff(frames, reference_frames) <= 1
