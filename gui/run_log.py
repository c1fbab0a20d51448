"""The run log: one line per event worth reading; activating a line selects its node."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QListWidget, QListWidgetItem

NODE_ROLE = Qt.UserRole + 1
LEVEL_COLOURS = {"info": "#cfd8dc", "warning": "#ffb74d", "error": "#ef5350", "success": "#81c784"}


class RunLog(QListWidget):
    """Double-click (or Enter on) an entry to jump to its node."""

    node_requested = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setAlternatingRowColors(True)
        self.itemActivated.connect(self._on_item_activated)

    def add(self, level: str, text: str, node_id: str | None = None) -> QListWidgetItem:
        stamp = time.strftime("%H:%M:%S")
        item = QListWidgetItem(f"{stamp}  {text}")
        item.setForeground(QBrush(QColor(LEVEL_COLOURS.get(level, LEVEL_COLOURS["info"]))))
        item.setData(NODE_ROLE, node_id)
        item.setToolTip(text)
        self.addItem(item)
        if self.count() > 2000:
            self.takeItem(0)
        self.scrollToBottom()
        return item

    def entries(self) -> list[str]:
        return [self.item(i).text() for i in range(self.count())]

    def _on_item_activated(self, item: QListWidgetItem) -> None:
        node_id = item.data(NODE_ROLE)
        if node_id:
            self.node_requested.emit(node_id)
