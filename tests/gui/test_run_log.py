"""The run log can be copied (issue 14, item 8): a command in an error is never retyped."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication


def test_the_newest_error_is_copied_by_the_copy_button_and_selected_lines_by_ctrl_c(window, qtbot):
    log = window.log
    log.add("info", "Run started: 3 node(s)")
    log.add("error", "load: model 'x/y' is not on this machine; fetch it with: hf download x/y")
    log.add("info", "Run failed in 0.20 s")
    panel = window.log_dock.widget()
    QTest.mouseClick(panel.copy_button, Qt.LeftButton)
    assert QApplication.clipboard().text() == "load: model 'x/y' is not on this machine; fetch it with: hf download x/y"
    log.item(0).setSelected(True)
    log.item(2).setSelected(True)
    log.setFocus()
    QTest.keyClick(log, Qt.Key_C, Qt.ControlModifier)
    assert QApplication.clipboard().text() == "Run started: 3 node(s)\nRun failed in 0.20 s"
    assert [a.text() for a in log.actions()] == ["Copy", "Copy All", "Clear"]
