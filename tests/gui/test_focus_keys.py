"""Keys act where the person is (issue 14, item 4): Tab opens search from anywhere, single-key shortcuts act only
on the canvas, and a node added from the palette leaves the canvas focused."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication


def test_tab_in_the_palette_opens_search_and_typing_there_never_mutes(window, qtbot):
    node = window.add_node("test.source", QPointF(0, 0))
    window.select_nodes([node])
    tree = window.palette.tree
    tree.setFocus()
    qtbot.waitUntil(tree.hasFocus)
    QTest.keyClicks(tree, "camera")  # the palette's own type-ahead, not the M shortcut
    assert window.graph.nodes[node].mode == "normal"
    QTest.keyClick(tree, Qt.Key_Tab)
    assert window.search.isVisible()
    QTest.keyClicks(window.search.field, "camera")
    assert window.graph.nodes[node].mode == "normal"
    QTest.keyClick(window.search.field, Qt.Key_Escape)


def test_single_key_shortcuts_work_on_the_canvas(window, qtbot):
    node = window.add_node("test.source", QPointF(0, 0))
    window.select_nodes([node])
    window.view.setFocus()
    qtbot.waitUntil(window.view.hasFocus)
    QTest.keyClick(window.view, Qt.Key_M)
    assert window.graph.nodes[node].mode == "mute"
    QTest.keyClick(window.view, Qt.Key_M)
    assert window.graph.nodes[node].mode == "normal"


def test_a_node_dragged_or_picked_from_the_palette_leaves_focus_on_the_canvas(window, qtbot):
    window.palette.search.setFocus()
    QTest.keyClicks(window.palette.search, "slides")
    QTest.keyClick(window.palette.search, Qt.Key_Return)
    assert len(window.graph.nodes) == 1
    assert QApplication.focusWidget() is window.view
    QTest.keyClick(window.view, Qt.Key_Tab)
    assert window.search.isVisible()
    QTest.keyClick(window.search.field, Qt.Key_Escape)


def test_tab_in_an_inspector_field_moves_to_the_next_field(window, qtbot):
    node = window.add_node("test.animate", QPointF(0, 0))
    window.select_nodes([node])
    frames = window.inspector.editors["frames"]
    frames.setFocus()
    qtbot.waitUntil(frames.hasFocus)
    QTest.keyClick(frames, Qt.Key_Tab)
    assert not window.search.isVisible() and not frames.hasFocus()
