"""The node palette: categories in pipeline order, a search field, drag a node onto the canvas."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from nodegraph.registry import NodeRegistry

from . import theme
from .canvas.view import NODE_MIME

TYPE_ROLE = Qt.UserRole + 1


def matches(cls, text: str) -> bool:
    """Whether a node class matches every word of a search text."""
    hay = " ".join([cls.display_name(), cls.type_id, cls.category, cls.description()]).lower()
    return all(word in hay for word in text.lower().split())


class _NodeTree(QTreeWidget):
    def mimeTypes(self) -> list[str]:
        return [NODE_MIME]

    def mimeData(self, items) -> QMimeData:
        mime = QMimeData()
        type_ids = [i.data(0, TYPE_ROLE) for i in items if i.data(0, TYPE_ROLE)]
        if type_ids:
            mime.setData(NODE_MIME, type_ids[0].encode())
            mime.setText(type_ids[0])
        return mime


class Palette(QWidget):
    """Lists every registered node; activate or drag one to add it."""

    node_activated = Signal(str)

    def __init__(self, registry: NodeRegistry, parent=None):
        super().__init__(parent)
        self.search = QLineEdit(placeholderText="Search nodes…")
        self.search.setClearButtonEnabled(True)
        self.tree = _NodeTree()
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QTreeWidget.DragOnly)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self.items: dict[str, QTreeWidgetItem] = {}
        for category, classes in registry.by_category():
            top = QTreeWidgetItem([category])
            top.setForeground(0, QBrush(theme.category_colour(category).lighter(160)))
            top.setFlags(Qt.ItemIsEnabled)
            self.tree.addTopLevelItem(top)
            for cls in classes:
                child = QTreeWidgetItem([cls.display_name()])
                child.setData(0, TYPE_ROLE, cls.type_id)
                child.setToolTip(0, f"{cls.description()}\n({cls.type_id})")
                child.setForeground(0, QBrush(QColor("#e0e0e0")))
                top.addChild(child)
                self.items[cls.type_id] = child
        self.tree.expandAll()
        self.search.textChanged.connect(self._on_search_changed)
        self.search.returnPressed.connect(self._on_search_return)
        self.tree.itemActivated.connect(self._on_tree_activated)
        self._registry = registry

    def _on_search_changed(self, text: str) -> None:
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            shown = 0
            for j in range(top.childCount()):
                child = top.child(j)
                ok = matches(self._registry.get(child.data(0, TYPE_ROLE)), text)
                child.setHidden(not ok)
                shown += ok
            top.setHidden(shown == 0)

    def visible_type_ids(self) -> list[str]:
        return [t for t, item in self.items.items() if not item.isHidden() and not item.parent().isHidden()]

    def _on_search_return(self) -> None:
        shown = self.visible_type_ids()
        if shown:
            self.node_activated.emit(shown[0])

    def _on_tree_activated(self, item: QTreeWidgetItem, column: int) -> None:
        type_id = item.data(0, TYPE_ROLE)
        if type_id:
            self.node_activated.emit(type_id)
