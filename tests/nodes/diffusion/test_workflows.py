"""The shipped diffusion workflows load, validate, and draft-then-refine runs end to end on a tiny Wan."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nodegraph import NodeRegistry, Scheduler, load_workflow, save_workflow, validate

WORKFLOWS = Path(__file__).resolve().parents[3] / "resources" / "workflows"
NAMES = ("wan_text_to_video", "ltx_image_to_video", "video_to_video", "draft_then_refine")


@pytest.fixture(scope="module")
def full_registry():
    registry = NodeRegistry()
    for pack in ("values", "io", "video", "diffusion"):
        importlib.import_module(f"nodes.{pack}").register(registry)
    return registry


@pytest.mark.parametrize("name", NAMES)
def test_workflow_loads_and_validates(full_registry, name):
    graph = load_workflow(WORKFLOWS / f"{name}.json", full_registry)
    validate(graph, full_registry)
    sources = [n.params["source"] for n in graph.nodes.values() if n.type == "model.load"]
    assert sources and all("/" in s and not Path(s).exists() for s in sources)  # Hugging Face ids


@pytest.mark.parametrize("name", NAMES)
def test_without_weights_a_shipped_workflow_stops_with_one_line_naming_the_model(name, tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}  # an empty cache
    env.pop("HF_HUB_CACHE", None)
    proc = subprocess.run([sys.executable, "-m", "nodegraph.cli", "run", str(WORKFLOWS / f"{name}.json"),
                           "--output-dir", str(tmp_path / "out")], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 1, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    model_id = next(n["params"]["source"] for n in json.loads((WORKFLOWS / f"{name}.json").read_text())["nodes"]
                    if n["type"] == "model.load")
    assert len(errors) == 1 and f"model {model_id!r} is not on this machine" in errors[0], proc.stderr
    assert f"hf download {model_id}" in errors[0]
    assert "Traceback" not in proc.stderr


def test_model_ids_stay_ids_through_validation_and_save_as(full_registry, tmp_path):
    graph = load_workflow(WORKFLOWS / "wan_text_to_video.json", full_registry)
    validate(graph, full_registry)
    elsewhere = tmp_path / "deep" / "copy.json"
    elsewhere.parent.mkdir()
    save_workflow(graph, elsewhere, full_registry)
    saved = json.loads(elsewhere.read_text())
    assert next(n for n in saved["nodes"] if n["type"] == "model.load")["params"]["source"] == \
        "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"


def test_a_model_folder_beside_the_workflow_is_a_path_not_an_id(full_registry, tiny_model, tmp_path):
    folder = tmp_path / "models" / "tiny"
    folder.parent.mkdir()
    os.symlink(tiny_model("wan"), folder)  # "models/tiny" looks like an id but exists as a folder
    graph = load_workflow(WORKFLOWS / "wan_text_to_video.json", full_registry)
    graph.base_dir = tmp_path
    graph.nodes["model"].params.update(source="models/tiny", dtype="float32", offload="none")
    graph.nodes["sample"].params.update(width=32, height=32, frames=5, steps=1)
    result = Scheduler(full_registry, output_dir=tmp_path / "out").run(graph).raise_for_status()
    assert result.files and result.files[0].stat().st_size > 0


def test_draft_then_refine_runs_on_a_tiny_model(full_registry, tiny_model, tmp_path):
    graph = load_workflow(WORKFLOWS / "draft_then_refine.json", full_registry)
    graph.nodes["model"].params.update(source=str(tiny_model("wan")), dtype="float32", offload="none")
    graph.nodes["sample"].params.update(width=32, height=32, frames=9, steps=2)
    graph.nodes["refine"].params.update(width=64, height=64, steps=2)
    with pytest.raises(Exception, match="leaves no denoising step"):
        validate(graph, full_registry)
    graph.nodes["refine"].params.update(steps=6)
    result = Scheduler(full_registry, output_dir=tmp_path).run(graph)
    result.raise_for_status()
    (saved,) = result.files
    assert saved.suffix == ".mp4" and saved.stat().st_size > 0
    refined = result.outputs["decode_refined"]["video"]
    assert (refined.width, refined.height, refined.frame_count) == (64, 64, 9)
    final = result.outputs["interpolate"]["video"]
    assert final.frame_count == 18 and final.fps == 32.0  # 9 frames x 2, the last held: as long as before
