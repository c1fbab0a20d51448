"""Markdown sticky notes on the canvas (issue 20): add, edit, move, delete, undo, saved in the file."""

from __future__ import annotations

import json

from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from test_context_menus import action


def test_a_note_is_added_from_the_canvas_menu_rendered_edited_moved_and_saved(window, qtbot, tmp_path):
    window.ask_note_text = lambda text: "# Shot list\n- **wide** first\n- then close"
    action(window.context_menu_at(QPointF(100, 100)), "Add Note").trigger()
    (item,) = window.scene.note_items
    assert item.plain_text().startswith("Shot list") and "**" not in item.plain_text()  # rendered Markdown
    assert item.pos() == QPointF(100, 100)
    window.ask_note_text = lambda text: text + "\n- then the end"
    item.mouseDoubleClickEvent(type("Event", (), {"accept": lambda self: None})())
    assert window.graph.notes[0].text.endswith("then the end")
    item.setPos(300, 50)  # as a drag leaves it
    window.scene.commit_moves()
    assert window.graph.notes[0].ui == {"x": 300, "y": 50}
    path = tmp_path / "with_note.json"
    assert window.save_to(path)
    saved = json.loads(path.read_text())["notes"]
    assert saved == [{"text": window.graph.notes[0].text, "ui": {"x": 300, "y": 50}}]
    window.new_file()
    window.open_file(path)
    assert len(window.scene.note_items) == 1 and window.scene.note_items[0].pos() == QPointF(300, 50)


def test_a_selected_note_is_deleted_with_the_delete_key_and_comes_back_with_undo(window, qtbot):
    window.ask_note_text = lambda text: "remember the seed"
    window.add_note(QPointF(0, 0))
    window.scene.note_items[0].setSelected(True)
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key_Delete)
    assert not window.graph.notes and not window.scene.note_items
    window.stack.undo()
    assert window.graph.notes[0].text == "remember the seed" and len(window.scene.note_items) == 1
    action(window.context_menu_at(window.scene.note_items[0].sceneBoundingRect().center()), "Delete Note").trigger()
    assert not window.graph.notes
