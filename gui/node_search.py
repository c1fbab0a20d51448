"""The node search popup (Tab, double-click, or a wire dropped on empty canvas)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout

from nodegraph.registry import NodeRegistry

from .palette import TYPE_ROLE
from .search_rank import rank


class NodeSearch(QFrame):
    """Type to filter, arrows to move, Enter to add, Escape to close."""

    chosen = Signal(str, QPointF, object)  # type id, scene position, origin (node id, port row) or None

    def __init__(self, registry: NodeRegistry, parent=None):
        super().__init__(parent, Qt.Popup)
        self.registry = registry
        self.setFrameShape(QFrame.StyledPanel)
        self.field = QLineEdit(placeholderText="Add node…")
        self.list = QListWidget()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.field)
        layout.addWidget(self.list)
        self.resize(300, 340)
        self.field.textChanged.connect(self._fill)
        self.field.returnPressed.connect(self._on_field_return)
        self.list.itemActivated.connect(self._on_list_activated)
        self.field.installEventFilter(self)
        self._accept: Callable[[type], bool] = lambda cls: True
        self._scene_pos = QPointF()
        self._origin = None

    def open_at(self, global_pos, scene_pos: QPointF, origin=None, accept: Callable[[type], bool] | None = None):
        self._scene_pos, self._origin = scene_pos, origin
        self._accept = accept or (lambda cls: True)
        self.field.clear()
        self._fill("")
        self.move(global_pos)
        self.show()
        self.field.setFocus()

    def _fill(self, text: str) -> None:
        self.list.clear()
        candidates = [cls for _, classes in self.registry.by_category() for cls in classes if self._accept(cls)]
        for cls in rank(candidates, text):
            item = QListWidgetItem(f"{cls.display_name()}    ·  {cls.category}")
            item.setData(TYPE_ROLE, cls.type_id)
            item.setToolTip(cls.description())
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

    def type_ids(self) -> list[str]:
        return [self.list.item(i).data(TYPE_ROLE) for i in range(self.list.count())]

    def eventFilter(self, obj, event) -> bool:
        if obj is self.field and event.type() == event.Type.KeyPress and event.key() in (Qt.Key_Up, Qt.Key_Down):
            row = self.list.currentRow() + (1 if event.key() == Qt.Key_Down else -1)
            self.list.setCurrentRow(max(0, min(self.list.count() - 1, row)))
            return True
        return super().eventFilter(obj, event)

    def _on_field_return(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self._choose(item.data(TYPE_ROLE))

    def _on_list_activated(self, item: QListWidgetItem) -> None:
        self._choose(item.data(TYPE_ROLE))

    def _choose(self, type_id: str) -> None:
        self.hide()
        self.chosen.emit(type_id, self._scene_pos, self._origin)
