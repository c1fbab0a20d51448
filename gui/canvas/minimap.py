"""The minimap: the whole graph in a corner of the canvas, with the part in view outlined; click or drag on it
to move the view there. Toggled from View → Minimap (M is taken by mute)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QWidget

from .. import theme

SIZE = (220, 140)
MARGIN = 12


class Minimap(QWidget):
    """Drawn from the nodes' rectangles (not a second render of the scene), so it costs little on big graphs."""

    def __init__(self, view):
        super().__init__(view.viewport())
        self.view = view
        self.resize(*SIZE)
        self.setCursor(Qt.PointingHandCursor)
        self.setToolTip("Click or drag to move the view")
        self.setAttribute(Qt.WA_OpaquePaintEvent)  # repainting the map never repaints the canvas under it

    def place(self) -> None:
        area = self.view.viewport().rect()
        self.move(area.right() - self.width() - MARGIN, area.bottom() - self.height() - MARGIN)

    def world(self) -> QRectF:
        """The scene rectangle the map shows: every node and the part in view, with a margin."""
        scene = self.view.scene()
        rect = QRectF()
        for item in scene.node_items.values():
            rect = rect.united(item.sceneBoundingRect())
        rect = rect.united(self.view.mapToScene(self.view.viewport().rect()).boundingRect())
        return rect.adjusted(-60, -60, 60, 60)

    def _scale(self, world: QRectF) -> tuple[float, QPointF]:
        s = min(self.width() / max(1.0, world.width()), self.height() / max(1.0, world.height()))
        offset = QPointF((self.width() - world.width() * s) / 2, (self.height() - world.height() * s) / 2)
        return s, offset

    def to_scene(self, point: QPointF) -> QPointF:
        world = self.world()
        s, offset = self._scale(world)
        return QPointF(world.left() + (point.x() - offset.x()) / s, world.top() + (point.y() - offset.y()) / s)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(20, 22, 26))
        painter.setPen(QPen(QColor("#455a64"), 1))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        world = self.world()
        s, offset = self._scale(world)

        def mapped(rect: QRectF) -> QRectF:
            return QRectF(offset.x() + (rect.left() - world.left()) * s, offset.y() + (rect.top() - world.top()) * s,
                          max(2.0, rect.width() * s), max(2.0, rect.height() * s))

        for item in self.view.scene().node_items.values():
            painter.fillRect(mapped(item.sceneBoundingRect()), item.colour or theme.category_colour(item.category))
        painter.setPen(QPen(QColor("#ffab40"), 1.5))
        painter.setBrush(Qt.NoBrush)
        painter.drawRect(mapped(self.view.mapToScene(self.view.viewport().rect()).boundingRect()))

    def mousePressEvent(self, event) -> None:
        self.view.centerOn(self.to_scene(event.position()))
        self.update()
        event.accept()

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.LeftButton:
            self.mousePressEvent(event)
