"""The editor's Settings keep the models folders; a param that takes a models kind picks from their files."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from nodegraph import Node, Param, Port, models_dir
from nodegraph.types import STRING


class LoadLora(Node):
    """Names a LoRA file."""

    type_id = "test.load_lora"
    category = "Conditioning"
    outputs = (Port("name", STRING),)
    params = (Param("source", str, default="", kind="path", models=("loras",)),)

    def run(self, ctx, *, source):
        return {"name": source}


@pytest.fixture
def models(tmp_path, registry, monkeypatch):
    monkeypatch.delenv(models_dir.ENV, raising=False)
    registry.register(LoadLora)
    folder = tmp_path / "ComfyUI" / "models"
    for name in ("loras/a.safetensors", "loras/wan/lightx2v.safetensors", "vae/wan_vae.safetensors"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"0")
    yield folder
    models_dir.set_models_dirs([])


def test_settings_keep_the_models_folders_and_the_picker_lists_names_of_its_kind(window, models, qtbot):
    from gui.models_folders import SettingsDialog, saved_folders, short_name

    dialog = SettingsDialog(window)
    qtbot.addWidget(dialog)
    dialog.add_folder(str(models))
    dialog.accept()
    assert saved_folders() == [str(models)] and models in models_dir.models_dirs()
    assert SettingsDialog(window).folder_list() == [str(models)]  # saved: a new dialog shows it

    node = window.add_node("test.load_lora", QPointF(0, 0))
    window.select_nodes([node])
    combo = window.inspector.editors["source"]
    names = [combo.itemText(i) for i in range(combo.count())]
    assert names == ["a.safetensors", "wan/lightx2v.safetensors"]  # loras only, subfolders by their path
    combo.setCurrentIndex(1)
    combo.activated.emit(1)
    assert window.graph.nodes[node].params["source"] == "wan/lightx2v.safetensors"
    window.stack.undo()
    assert window.graph.nodes[node].params.get("source", "") == ""

    combo = window.inspector.editors["source"]
    combo.lineEdit().setFocus()
    QTest.keyClicks(combo.lineEdit(), "missing.safetensors")
    QTest.keyClick(combo.lineEdit(), Qt.Key_Return)
    assert window.graph.nodes[node].params["source"] == "missing.safetensors"
    problem = window.inspector.problems["source"]
    assert "neither" in problem.text() and "loras/" in problem.text()

    param = LoadLora.param("source")  # a browsed file inside the folder is stored by its name
    assert short_name(param, str(models / "loras" / "wan" / "lightx2v.safetensors")) == "wan/lightx2v.safetensors"
    assert short_name(param, str(models / "vae" / "wan_vae.safetensors")) == str(models / "vae" / "wan_vae.safetensors")


def test_kinograph_gui_refuses_a_models_dir_that_is_not_a_folder(tmp_path, capsys):
    from nodegraph import cli

    assert cli.main(["gui", "--models-dir", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--models-dir" in err[0] and "is not a folder" in err[0]
