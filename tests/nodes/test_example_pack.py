"""The example node pack of docs/node-packs.md, installed as a third party installs one (an entry point in the
`kinograph.nodes` group), found by the registry and run in a workflow. It fails when nodegraph.api loses a name
the example uses."""

from __future__ import annotations

import ast
import json
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from nodegraph import NodeRegistry, Scheduler, loads_workflow
from nodegraph.api import VIDEO, Node, NodeContext, Param, Port, Video

PACK = Path(__file__).resolve().parents[2] / "docs" / "example_pack"


class Gradient(Node):
    """A test clip: a horizontal grey ramp, brightening frame by frame."""

    type_id = "test.gradient"
    outputs = (Port("video", VIDEO),)
    params = (Param("frames", int, default=6, min=1, max=100),)

    def run(self, ctx: NodeContext, *, frames: int) -> dict:
        ramp = np.linspace(0, 200, 64, dtype=np.float32)
        clip = np.stack([np.broadcast_to((ramp + 10 * i)[None, :, None], (16, 64, 3)) for i in range(frames)])
        return {"video": Video.from_array(clip.astype(np.uint8), fps=24)}


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """The pack on sys.path with the entry points its pyproject.toml declares, as `pip install` leaves it."""
    project = tomllib.loads((PACK / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    info = tmp_path / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n")
    groups = project["entry-points"]
    (info / "entry_points.txt").write_text("".join(
        f"[{group}]\n" + "".join(f"{name} = {value}\n" for name, value in entries.items())
        for group, entries in groups.items()))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(PACK))
    yield groups
    for name in [m for m in sys.modules if m.startswith("kinograph_posterize")]:
        del sys.modules[name]


def test_the_registry_finds_the_example_pack_through_its_entry_point(installed):
    assert installed["kinograph.nodes"] == {"posterize": "kinograph_posterize:register"}
    registry = NodeRegistry()
    registry.load_entry_points()
    assert registry.pack_errors == [] and "posterize" in registry.packs
    cls = registry.get("example.posterize")
    assert cls is not None and cls.__module__ == "kinograph_posterize" and cls.category == "Rendering"


def test_the_example_node_runs_in_a_workflow(installed, tmp_path):
    registry = NodeRegistry()
    registry.load_entry_points()
    registry.register(Gradient)
    graph = loads_workflow(json.dumps({
        "format": "kinograph.workflow", "version": 1,
        "nodes": [{"id": "ramp", "type": "test.gradient"},
                  {"id": "poster", "type": "example.posterize", "params": {"levels": 3}}],
        "links": [{"from": "ramp.video", "to": "poster.video"}]}), registry)
    result = Scheduler(registry, output_dir=tmp_path).run(graph, targets=["poster"]).raise_for_status()
    frames = np.concatenate(list(result.outputs["poster"]["video"].chunks(4)))
    assert frames.shape == (6, 16, 64, 3)
    assert sorted(np.unique(frames)) == [0, 128, 255]  # three levels, from a ramp of over sixty values


def test_the_example_imports_the_engine_only_through_the_api():
    modules = set()
    for path in PACK.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                modules.add(node.module)
            elif isinstance(node, ast.Import):
                modules.update(alias.name for alias in node.names)
    assert {m for m in modules if m.split(".")[0] == "nodegraph"} == {"nodegraph.api"}
