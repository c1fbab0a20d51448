"""The shipped diffusion workflows load, validate, and draft-then-refine runs end to end on a tiny Wan."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from nodegraph import NodeRegistry, Scheduler, load_workflow, validate

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
    assert final.frame_count == 17 and final.fps == 32.0
