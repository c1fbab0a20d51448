"""Editing a widget on a node in place: an editor put over the value, committed through the undo stack.

Enter (Ctrl+Enter in a text box) or leaving the editor commits; Escape cancels. A value the param refuses stays
in the editor with the reason in the status bar, never clamped. Choices open their list at once; a bool flips
on the click; a seed's dice rolls a new seed and its "after run" button cycles fixed / +1 / random; a file
widget's "…" opens the file dialog."""

from __future__ import annotations

import random

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QComboBox, QLineEdit, QPlainTextEdit

from nodegraph.edits import SetParam, SetUi

from .canvas.node_widgets import SEED_AFTER
from .file_choice import choose_path, model_kind_menu


class InlineEditor(QObject):
    """One editor at a time over the canvas; `window` is the MainWindow."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.editor = None
        self._target: tuple[str, str] | None = None
        window.scene.widget_clicked.connect(self._on_scene_widget_clicked)

    def _on_scene_widget_clicked(self, node_id: str, name: str, part: str) -> None:
        win = self.window
        node = win.graph.nodes.get(node_id)
        cls = win.registry.get(node.type) if node else None
        param = cls.param(name) if cls else None
        if param is None:
            return
        win.select_nodes([node_id])
        value = node.params.get(name, param.default)
        if part == "dice":
            low, high = int(param.min or 0), int(param.max if param.max is not None else 2**63 - 1)
            win.stack.push(SetParam(node_id, name, random.randint(low, high)))
        elif part == "after":
            now = node.ui.get("seed_after", "fixed")
            following = SEED_AFTER[(SEED_AFTER.index(now) + 1) % len(SEED_AFTER)] if now in SEED_AFTER else "fixed"
            win.stack.push(SetUi([node_id], "seed_after", None if following == "fixed" else following,
                                 text=f"{node_id}: seed after run {following}"))
        elif part == "browse":
            self.browse(node_id, param, value)
        elif param.type is bool:
            win.stack.push(SetParam(node_id, name, not value))
        else:
            self.open(node_id, param, value)

    def browse(self, node_id: str, param, value) -> None:
        """The file (or folder) dialog of a file widget; a model param first asks folder or file."""
        if param.kind == "path_or_id":
            menu = model_kind_menu(self.window, lambda kind: self._choose(node_id, param, value, kind))
            menu.popup(QCursor.pos())
            self._menu = menu  # kept alive while it shows
            return
        self._choose(node_id, param, value)

    def _choose(self, node_id: str, param, value, kind: str | None = None) -> None:
        win = self.window
        chosen, problem = choose_path(win, param, str(value or ""), win.graph.base_dir, win.inspector.output_dir,
                                      kind)
        problem = problem or (param.check(chosen) if chosen else None)
        if problem:
            win.statusBar().showMessage(f"{node_id}.{param.name}: {problem}", 6000)
        elif chosen and node_id in win.graph.nodes and chosen != value:
            win.stack.push(SetParam(node_id, param.name, chosen))

    def open(self, node_id: str, param, value) -> None:
        self.close(commit=True)
        win = self.window
        rect = win.scene.node_items[node_id].widget_scene_rect(param.name)
        if rect is None:
            return
        if param.choices:
            editor = QComboBox(win.view.viewport())
            editor.addItems([str(c) for c in param.choices])
            editor.setCurrentText(str(value))
            editor.activated.connect(lambda _i: self.close(commit=True))
        elif param.kind == "multiline":
            editor = QPlainTextEdit(win.view.viewport())
            editor.setPlainText(str(value))
        else:
            editor = QLineEdit(str(value), win.view.viewport())
            editor.selectAll()
            editor.returnPressed.connect(lambda: self.close(commit=True))
        area = win.view.mapFromScene(rect).boundingRect()
        if param.kind == "multiline":
            area.setHeight(max(area.height(), 90))
        font = editor.font()
        font.setPointSizeF(max(6.0, min(16.0, 8.0 * win.view.zoom)))  # the size the node draws the value at
        editor.setFont(font)
        editor.setGeometry(area.adjusted(-2, -2, 2, 2))
        editor.installEventFilter(self)
        editor.show()
        editor.setFocus()
        self.editor, self._target, self._param = editor, (node_id, param.name), param
        if isinstance(editor, QComboBox):
            editor.showPopup()

    def text(self) -> str:
        editor = self.editor
        if isinstance(editor, QComboBox):
            return editor.currentText()
        return editor.toPlainText() if isinstance(editor, QPlainTextEdit) else editor.text()

    def close(self, commit: bool) -> bool:
        """Commit (or drop) the open editor; False when its value is refused (the editor stays open)."""
        if self.editor is None:
            return True
        node_id, name = self._target
        param = self._param
        if commit and node_id in self.window.graph.nodes:
            problem, value = _parse(param, self.text())
            if problem:
                self.window.statusBar().showMessage(f"{node_id}.{name}: {problem}", 6000)
                return False
            if value != self.window.graph.nodes[node_id].params.get(name, param.default):
                self.window.stack.push(SetParam(node_id, name, value))
        editor, self.editor, self._target = self.editor, None, None
        editor.removeEventFilter(self)
        editor.hide()
        editor.deleteLater()
        self.window.view.setFocus(Qt.OtherFocusReason)
        return True

    def eventFilter(self, obj, event) -> bool:
        if obj is not self.editor:
            return False
        if event.type() == QEvent.ShortcutOverride and event.key() in (Qt.Key_Return, Qt.Key_Enter, Qt.Key_Escape):
            event.accept()  # Ctrl+Enter commits here; it does not run the graph
            return True
        if event.type() == QEvent.KeyPress:
            if event.key() == Qt.Key_Escape:
                self.close(commit=False)
                return True
            if isinstance(obj, QPlainTextEdit) and event.key() in (Qt.Key_Return, Qt.Key_Enter) \
                    and event.modifiers() & Qt.ControlModifier:
                self.close(commit=True)
                return True
        if event.type() == QEvent.FocusOut and not isinstance(obj, QComboBox):
            self.close(commit=True)
        return False


def _parse(param, text: str):
    """(problem, value): the typed text as the param's type, or why not."""
    try:
        if param.type is int:
            value = int(text.strip())
        elif param.type is float:
            value = float(text.strip())
        else:
            value = text
        if param.choices and value not in param.choices:
            value = next(c for c in param.choices if str(c) == text)
        value = param.coerce(value)
    except (ValueError, StopIteration):
        return f"{text!r} is not a {param.type.__name__}", None
    problem = param.check(value)
    return problem, value
