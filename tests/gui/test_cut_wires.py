"""Ctrl+right-drag across wires cuts them, as one undo step (issue 20)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from test_window import chain


def test_a_ctrl_right_drag_across_two_wires_cuts_both_and_undo_restores_them(window, qtbot):
    src, anim, sink = chain(window)
    window.view.frame_all()
    qtbot.wait(50)
    view, vp = window.view, window.view.viewport()
    wires = list(window.scene.wire_items.values())
    mids = [view.mapFromScene(w.path().pointAtPercent(0.5)) for w in wires]
    left, right = min(m.x() for m in mids), max(m.x() for m in mids)
    y = mids[0].y()
    QTest.mousePress(vp, Qt.RightButton, Qt.ControlModifier, mids[0].__class__(left - 20, y - 60))
    for x in range(left - 20, right + 21, 10):  # a zigzag over both wires
        QTest.mouseMove(vp, mids[0].__class__(x, y + (60 if (x // 10) % 2 else -60)))
    QTest.mouseRelease(vp, Qt.RightButton, Qt.ControlModifier, mids[0].__class__(right + 20, y + 60))
    assert window.graph.links == []
    window.stack.undo()
    assert len(window.graph.links) == 2


def test_a_stroke_that_misses_the_wires_cuts_nothing(window, qtbot):
    chain(window)
    window.view.frame_all()
    qtbot.wait(50)
    vp = window.view.viewport()
    top = window.view.mapFromScene(window.scene.itemsBoundingRect().topLeft())
    QTest.mousePress(vp, Qt.RightButton, Qt.ControlModifier, top.__class__(top.x(), top.y() - 40))
    QTest.mouseMove(vp, top.__class__(top.x() + 400, top.y() - 40))
    QTest.mouseRelease(vp, Qt.RightButton, Qt.ControlModifier, top.__class__(top.x() + 400, top.y() - 40))
    assert len(window.graph.links) == 2
