"""Group backdrops: titled rectangles that carry their nodes when moved."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem

from nodegraph.graph import Group

TITLE_H = 28.0
GRIP = 14.0


class GroupItem(QGraphicsItem):
    """A backdrop for `canvas.graph.groups[index]`."""

    def __init__(self, canvas, index: int, group: Group):
        super().__init__()
        self.canvas, self.index = canvas, index
        self.setFlags(QGraphicsItem.ItemIsMovable | QGraphicsItem.ItemIsSelectable
                      | QGraphicsItem.ItemSendsGeometryChanges)
        self.setZValue(-10)
        self._resizing = False
        self.refresh(group)

    def refresh(self, group: Group) -> None:
        self.prepareGeometryChange()
        self.title = group.title
        self.members = list(group.nodes)
        self.w = float(group.ui.get("w", 400.0))
        self.h = float(group.ui.get("h", 300.0))
        self.colour = QColor(group.ui.get("colour", "#3c5a78"))
        self._syncing = True
        self.setPos(float(group.ui.get("x", 0.0)), float(group.ui.get("y", 0.0)))
        self._syncing = False
        self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self.w, self.h)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        fill = QColor(self.colour)
        fill.setAlpha(70)
        painter.setPen(QPen(QColor("#ffab40") if self.isSelected() else self.colour.lighter(130), 1.5))
        painter.setBrush(fill)
        painter.drawRoundedRect(self.boundingRect(), 8, 8)
        head = QColor(self.colour)
        head.setAlpha(160)
        painter.fillRect(QRectF(1, 1, self.w - 2, TITLE_H), head)
        font = QFont(painter.font())
        font.setPointSizeF(11)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(QRectF(10, 0, self.w - 20, TITLE_H), Qt.AlignVCenter, self.title)
        painter.drawLine(QPointF(self.w - GRIP, self.h - 3), QPointF(self.w - 3, self.h - GRIP))

    def itemChange(self, change, value):
        if change == QGraphicsItem.ItemPositionChange and not getattr(self, "_syncing", True):
            delta = value - self.pos()
            for node_id in self.members:
                item = self.canvas.node_items.get(node_id)
                if item is not None and not item.isSelected():
                    item.moveBy(delta.x(), delta.y())
        return super().itemChange(change, value)

    def mousePressEvent(self, event) -> None:
        local = event.pos()
        if local.x() > self.w - GRIP and local.y() > self.h - GRIP:
            self._resizing = True
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._resizing:
            self.prepareGeometryChange()
            self.w = max(120.0, event.pos().x())
            self.h = max(80.0, event.pos().y())
            self.update()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._resizing:
            self._resizing = False
            self.canvas.resize_group(self.index, self.w, self.h)
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event) -> None:
        if event.pos().y() <= TITLE_H:
            self.canvas.rename_group_requested.emit(self.index)
            return
        super().mouseDoubleClickEvent(event)
