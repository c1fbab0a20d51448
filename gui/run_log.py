"""The run log: one line per event worth reading; activating a line selects its node. Lines can be selected
and copied (Ctrl+C, the context menu, or the Copy button, which copies the newest error when nothing is
selected), so a command in an error message never has to be retyped."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

NODE_ROLE = Qt.UserRole + 1
TEXT_ROLE = Qt.UserRole + 2  # the message without its time stamp
LEVEL_ROLE = Qt.UserRole + 3
LEVEL_COLOURS = {"info": "#cfd8dc", "warning": "#ffb74d", "error": "#ef5350", "success": "#81c784"}


class RunLog(QListWidget):
    """Double-click (or Enter on) an entry to jump to its node."""

    node_requested = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setAlternatingRowColors(True)
        self.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.setContextMenuPolicy(Qt.ActionsContextMenu)
        self.itemActivated.connect(self._on_item_activated)
        for text, slot in (("Copy", self.copy_selected), ("Copy All", self.copy_all), ("Clear", self.clear)):
            action = QAction(text, self)
            action.triggered.connect(lambda checked=False, slot=slot: slot())
            self.addAction(action)

    def event(self, event) -> bool:
        if event.type() == event.Type.ShortcutOverride and event.matches(QKeySequence.Copy):
            event.accept()  # Ctrl+C here copies log lines, not the window's selected nodes
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:
        if event.matches(QKeySequence.Copy):
            self.copy_selected()
            return
        super().keyPressEvent(event)

    def add(self, level: str, text: str, node_id: str | None = None) -> QListWidgetItem:
        stamp = time.strftime("%H:%M:%S")
        item = QListWidgetItem(f"{stamp}  {text}")
        item.setForeground(QBrush(QColor(LEVEL_COLOURS.get(level, LEVEL_COLOURS["info"]))))
        item.setData(NODE_ROLE, node_id)
        item.setData(TEXT_ROLE, text)
        item.setData(LEVEL_ROLE, level)
        item.setToolTip(text)
        self.addItem(item)
        if self.count() > 2000:
            self.takeItem(0)
        self.scrollToBottom()
        return item

    def entries(self) -> list[str]:
        return [self.item(i).text() for i in range(self.count())]

    def copy_selected(self) -> str:
        """Copy the selected messages (one a line, no time stamps); with none selected, the newest error."""
        items = sorted(self.selectedItems(), key=self.row)
        if not items:
            errors = [self.item(i) for i in range(self.count()) if self.item(i).data(LEVEL_ROLE) == "error"]
            items = errors[-1:]
        return self._copy(items)

    def copy_all(self) -> str:
        return self._copy([self.item(i) for i in range(self.count())])

    def _copy(self, items: list[QListWidgetItem]) -> str:
        text = "\n".join(item.data(TEXT_ROLE) or item.text() for item in items)
        if text:
            QGuiApplication.clipboard().setText(text)
        return text

    def _on_item_activated(self, item: QListWidgetItem) -> None:
        node_id = item.data(NODE_ROLE)
        if node_id:
            self.node_requested.emit(node_id)


class RunLogPanel(QWidget):
    """The log with a Copy button under it."""

    def __init__(self, log: RunLog, parent=None):
        super().__init__(parent)
        self.log = log
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the selected lines, or the newest error when none is selected")
        self.copy_button.clicked.connect(log.copy_selected)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addStretch(1)
        bar.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addWidget(log, 1)
        layout.addLayout(bar)
