"""ComfyUI workflows in the editor: File → Import, and ComfyUI files dropped on the window."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

WORKFLOWS = Path(__file__).parents[1] / "comfy_workflows" / "workflows"


@pytest.fixture
def registry():
    import nodes
    from nodegraph import NodeRegistry

    reg = NodeRegistry()
    nodes.register(reg)
    return reg


def drop(window, path: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    target = window.view.viewport()
    spot = QPoint(40, 40)
    QApplication.sendEvent(target, QDragEnterEvent(spot, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))
    QApplication.sendEvent(target, QDropEvent(QPointF(spot), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))


def test_a_png_comfyui_saved_dropped_on_the_window_imports_as_an_untitled_workflow(window, tmp_path):
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("workflow", (WORKFLOWS / "wan21_t2v.json").read_text())
    path = tmp_path / "ComfyUI_00042_.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(path, pnginfo=info)
    drop(window, path)
    graph = window.graph
    assert sorted(n.type for n in graph.nodes.values()) == ["diffusion.sample", "latent.decode", "model.load",
                                                           "text.encode", "video.save"]
    assert window.path is None and "Untitled (from ComfyUI_00042_.png)" in window.windowTitle()
    assert window.isWindowModified()  # unsaved: Save asks where
    item = window.scene.node_items["encode_6"]
    assert (item.pos().x(), item.pos().y()) == (420.0, 180.0) and graph.nodes["encode_6"].title == "Positive Prompt"
    assert [g.title for g in graph.groups] == ["Models"] and len(window.scene.group_items) == 1
    assert [n.text for n in graph.notes] == ["Wan 2.1 text to video, 1.3B."]
    log = window.log.entries()
    assert any("Imported the ComfyUI workflow in ComfyUI_00042_.png" in line for line in log)
    assert any("approximated: 3 KSampler: control after generate 'randomize'" in line for line in log)


def test_file_import_maps_modes_and_an_unmappable_workflow_leaves_the_graph_alone(window, tmp_path):
    window.ask_import_path = lambda start: str(WORKFLOWS / "wan21_t2v_features.json")
    window.import_comfyui_dialog()
    assert window.graph.nodes["lora_72"].mode == "bypass" and window.graph.nodes["save_79"].mode == "mute"
    assert any("dropped: 70 Reroute: reroute spliced out" in line for line in window.log.entries())
    before = set(window.graph.nodes)
    window.stack.set_clean()
    window.ask_import_path = lambda start: str(WORKFLOWS / "unmapped_api.json")
    window.import_comfyui_dialog()
    assert set(window.graph.nodes) == before
    assert any("ComfyUI node 3: RIFE VFI" in line for line in window.log.entries())


def test_a_kinograph_workflow_dropped_still_opens_as_itself(window, tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"format": "kinograph.workflow", "version": 1, "name": "mine", "nodes": [
        {"id": "v", "type": "value.int", "params": {"value": 3}}], "links": []}))
    drop(window, path)
    assert set(window.graph.nodes) == {"v"} and window.path == path.resolve()


def test_comfyui_subgraphs_open_as_kinograph_subgraphs(window):
    window.ask_import_path = lambda start: str(WORKFLOWS / "wan21_t2v_nested_subgraphs.json")
    window.import_comfyui_dialog()
    assert window.graph.nodes["Sampling_90"].type == "subgraph:Sampling"
    assert set(window.graph.subgraphs) == {"Sampling", "Prompts"}
    assert "Sampling_90" in window.scene.node_items


def test_imported_nodes_never_cover_each_other(window):
    from gui.comfy_import import import_comfyui

    assert import_comfyui(window, WORKFLOWS / "wan21_t2v_features.json", ask=False)
    rects = {node_id: item.sceneBoundingRect() for node_id, item in window.scene.node_items.items()}
    covering = [(a, b) for a in rects for b in rects if a < b and rects[a].intersects(rects[b])]
    assert not covering, covering
    for node_id, item in window.scene.node_items.items():  # where they are drawn is where the file keeps them
        assert (item.x(), item.y()) == (window.graph.nodes[node_id].ui["x"], window.graph.nodes[node_id].ui["y"])
    lines = [window.log.item(i).text() for i in range(window.log.count())]
    assert any("would have covered another" in line for line in lines), lines
