"""Files behave as a person expects (issue 14, items 9 and 11): examples open as untitled copies, Ctrl+O asks
about unsaved changes before the file dialog, and Save As names an unnamed workflow after its file."""

from __future__ import annotations

import json

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QMessageBox


def test_an_example_opens_as_an_untitled_copy_and_save_never_overwrites_it(window, tmp_path, monkeypatch):
    example = tmp_path / "examples" / "make_a_clip.json"
    example.parent.mkdir()
    original = {"format": "kinograph.workflow", "version": 1, "name": "Make a clip",
                "nodes": [{"id": "src", "type": "test.source", "params": {"size": 16}}], "links": []}
    example.write_text(json.dumps(original))
    monkeypatch.setattr(type(window), "examples", lambda self: [example])
    window.build_examples_menu()
    (action,) = window.examples_menu.actions()
    action.trigger()
    assert window.path is None and "Untitled (from make_a_clip.json)" in window.windowTitle()
    window.add_node("test.source", QPointF(200, 0))
    asked = []
    monkeypatch.setattr(window, "save_as", lambda: asked.append("save as") or False)
    window.save()  # Ctrl+S on the copy asks where to save it
    assert asked == ["save as"] and json.loads(example.read_text()) == original


def test_ctrl_o_asks_about_unsaved_changes_before_the_file_dialog(window, tmp_path, monkeypatch):
    window.add_node("test.source", QPointF(0, 0))
    order = []
    monkeypatch.setattr(window, "ask_save_changes", lambda: order.append("save changes?") or QMessageBox.Cancel)
    monkeypatch.setattr(window, "ask_open_path", lambda start: order.append("which file?") or "")
    window.open_dialog()
    assert order == ["save changes?"]  # cancelled: no file dialog at all
    monkeypatch.setattr(window, "ask_save_changes", lambda: order.append("save changes?") or QMessageBox.Discard)
    order.clear()
    window.open_dialog()
    assert order == ["save changes?", "which file?"]


def test_save_as_names_an_unnamed_workflow_after_its_file(window, tmp_path):
    window.add_node("test.source", QPointF(0, 0))
    assert window.graph.name == "Untitled"
    assert window.save_to(tmp_path / "sunset push-in.json")
    assert json.loads((tmp_path / "sunset push-in.json").read_text())["name"] == "sunset push-in"
