"""resources/workflows/upscale_and_smooth.json: validates, and runs with tiny models given through --set."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from nodegraph import NodeRegistry, Scheduler, load_workflow, validate
from nodegraph.cli import apply_overrides
from nodegraph.errors import ValidationError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tiny_rife import save_rife  # noqa: E402

WORKFLOW = Path(__file__).resolve().parents[3] / "resources" / "workflows" / "upscale_and_smooth.json"


@pytest.fixture(scope="module")
def registry():
    registry = NodeRegistry()
    for pack in ("values", "io", "video", "upscale"):
        importlib.import_module(f"nodes.{pack}").register(registry)
    return registry


def test_the_workflow_validates_and_names_its_models_by_file(registry, tmp_path, monkeypatch):
    graph = load_workflow(WORKFLOW, registry)
    with pytest.raises(ValidationError, match="RealESRGAN_x4plus.pth' is neither beside the workflow"):
        validate(graph, registry)  # no models folder: the missing upscaler is named before anything runs
    (tmp_path / "upscale_models").mkdir()
    (tmp_path / "upscale_models" / "RealESRGAN_x4plus.pth").write_bytes(b"weights")
    monkeypatch.setenv("KINOGRAPH_MODELS", str(tmp_path))  # as a ComfyUI user's models folder holds it
    validate(graph, registry)
    assert Path(graph.nodes["upscaler"].params["source"]).name == "RealESRGAN_x4plus.pth"
    assert Path(graph.nodes["smooth"].params["model"]).name == "rife47.pth"
    assert "Real-ESRGAN" in graph.meta["description"] and "Practical-RIFE" in graph.meta["description"]


def test_the_workflow_runs_with_tiny_models_set_on_the_command_line(registry, upscaler_file, tmp_path):
    import av

    graph = load_workflow(WORKFLOW, registry)
    apply_overrides(graph, [f"upscaler.source={upscaler_file('esrgan')}",
                            f"smooth.model={save_rife(tmp_path, '4.7')}", "load.max_frames=2"], registry)
    validate(graph, registry)
    result = Scheduler(registry, output_dir=tmp_path / "out").run(graph).raise_for_status()
    with av.open(str(result.files[0])) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert (stream.width, stream.height, frames) == (768, 432, 4)  # 384x216 doubled; 2 frames become 4 (x2)
        assert float(stream.average_rate) == pytest.approx(32.0)
