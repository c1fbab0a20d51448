"""The node search popup (Tab, double-click, or a wire dropped on empty canvas)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, QPointF, QSize, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout

from nodegraph.registry import NodeRegistry

from .palette import TYPE_ROLE
from .search_rank import rank


def on_screen(pos: QPoint, size: QSize) -> QPoint:
    """`pos` moved so that a popup of `size` there stays on the screen that holds it (a wire dropped near the
    bottom or right edge must not open the search half off-screen)."""
    screen = QGuiApplication.screenAt(pos) or QGuiApplication.primaryScreen()
    if screen is None:
        return pos
    area = screen.availableGeometry()
    x = min(max(pos.x(), area.left()), area.right() - size.width())
    y = min(max(pos.y(), area.top()), area.bottom() - size.height())
    return QPoint(max(x, area.left()), max(y, area.top()))


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
        self.move(on_screen(global_pos, self.size()))
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
        else:
            what = f"matches {text.strip()!r}" if text.strip() else "fits the wire being dropped"
            empty = QListWidgetItem(f"No node {what}")
            empty.setFlags(Qt.NoItemFlags)
            self.list.addItem(empty)

    def type_ids(self) -> list[str]:
        return [t for i in range(self.list.count()) if (t := self.list.item(i).data(TYPE_ROLE))]

    def eventFilter(self, obj, event) -> bool:
        if obj is self.field and event.type() == event.Type.KeyPress and event.key() in (Qt.Key_Up, Qt.Key_Down):
            row = self.list.currentRow() + (1 if event.key() == Qt.Key_Down else -1)
            self.list.setCurrentRow(max(0, min(self.list.count() - 1, row)))
            return True
        return super().eventFilter(obj, event)

    def _on_field_return(self) -> None:
        item = self.list.currentItem()
        if item is not None and item.data(TYPE_ROLE):
            self._choose(item.data(TYPE_ROLE))

    def _on_list_activated(self, item: QListWidgetItem) -> None:
        if item.data(TYPE_ROLE):
            self._choose(item.data(TYPE_ROLE))

    def _choose(self, type_id: str) -> None:
        self.hide()
        self.chosen.emit(type_id, self._scene_pos, self._origin)
