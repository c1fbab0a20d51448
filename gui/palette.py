"""The node palette: categories in pipeline order, a search field, drag a node onto the canvas."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nodegraph.registry import NodeRegistry

from . import theme
from .canvas.view import NODE_MIME
from .search_rank import rank

TYPE_ROLE = Qt.UserRole + 1


def _node_mime(type_ids: list[str]) -> QMimeData:
    mime = QMimeData()
    if type_ids:
        mime.setData(NODE_MIME, type_ids[0].encode())
        mime.setText(type_ids[0])
    return mime


class _NodeTree(QTreeWidget):
    def mimeTypes(self) -> list[str]:
        return [NODE_MIME]

    def mimeData(self, items) -> QMimeData:
        return _node_mime([i.data(0, TYPE_ROLE) for i in items if i.data(0, TYPE_ROLE)])


class _NodeList(QListWidget):
    """Search results, best match first; drag one onto the canvas like a tree entry."""

    def mimeTypes(self) -> list[str]:
        return [NODE_MIME]

    def mimeData(self, items) -> QMimeData:
        return _node_mime([i.data(TYPE_ROLE) for i in items if i.data(TYPE_ROLE)])


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
        self.results = _NodeList()
        self.results.setDragEnabled(True)
        self.results.setDragDropMode(QListWidget.DragOnly)
        self.results.hide()
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        layout.addWidget(self.results)
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
        self.results.itemActivated.connect(lambda item: self.node_activated.emit(item.data(TYPE_ROLE)))
        self._classes = [cls for _, classes in registry.by_category() for cls in classes]

    def show_library(self, classes: list) -> None:
        """(Re)list My subgraphs: the user's saved subgraphs, last in the tree and in the search."""
        for type_id in [t for t in self.items if t.startswith("subgraph:")]:
            del self.items[type_id]
        for i in reversed(range(self.tree.topLevelItemCount())):
            if self.tree.topLevelItem(i).text(0) == "My subgraphs":
                self.tree.takeTopLevelItem(i)
        self._classes = [cls for cls in self._classes if not cls.type_id.startswith("subgraph:")] + list(classes)
        if not classes:
            return
        top = QTreeWidgetItem(["My subgraphs"])
        top.setFlags(Qt.ItemIsEnabled)
        self.tree.addTopLevelItem(top)
        for cls in classes:
            child = QTreeWidgetItem([cls.display_name()])
            child.setData(0, TYPE_ROLE, cls.type_id)
            child.setToolTip(0, f"{cls.description()}\n({cls.type_id})")
            top.addChild(child)
            self.items[cls.type_id] = child
        top.setExpanded(True)

    def _on_search_changed(self, text: str) -> None:
        """With text, a flat list ranked as the Tab search ranks it; without, the categories."""
        searching = bool(text.strip())
        self.tree.setVisible(not searching)
        self.results.setVisible(searching)
        self.results.clear()
        if not searching:
            return
        for cls in rank(self._classes, text):
            item = QListWidgetItem(f"{cls.display_name()}  ·  {cls.category}")
            item.setData(TYPE_ROLE, cls.type_id)
            item.setToolTip(f"{cls.description()}\n({cls.type_id})")
            self.results.addItem(item)
        if self.results.count():
            self.results.setCurrentRow(0)

    def visible_type_ids(self) -> list[str]:
        if self.results.isVisibleTo(self):
            return [self.results.item(i).data(TYPE_ROLE) for i in range(self.results.count())]
        return list(self.items)

    def _on_search_return(self) -> None:
        shown = self.visible_type_ids()
        if shown:
            self.node_activated.emit(shown[0])

    def _on_tree_activated(self, item: QTreeWidgetItem, column: int) -> None:
        type_id = item.data(0, TYPE_ROLE)
        if type_id:
            self.node_activated.emit(type_id)
