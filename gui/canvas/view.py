"""The canvas view: pan, zoom to the cursor, framing, rubber band, palette drops."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsView, QLabel

from .minimap import Minimap
from .node_item import NodeItem

EMPTY_HINT = ("Drag a node here from the palette, or press Tab to search for one.\n"
              "File → Browse Workflows opens a ready-made one; a video Kinograph saved can be dropped here too.")

NODE_MIME = "application/x-kinograph-node"


class GraphView(QGraphicsView):
    """Middle-drag or Space+drag pans, the wheel zooms to the cursor, F/Home frame, Tab searches."""

    node_dropped = Signal(str, QPointF)  # type id, scene position
    files_dropped = Signal(list)
    search_requested = Signal(QPointF)
    context_requested = Signal(QPoint, QPointF)  # global position, scene position
    wires_cut = Signal(list)  # the links a Ctrl+right-drag stroke crossed

    def __init__(self, scene, parent=None):
        super().__init__(scene, parent)
        self.setRenderHints(QPainter.Antialiasing | QPainter.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.MinimalViewportUpdate)
        self.setOptimizationFlags(QGraphicsView.DontSavePainterState | QGraphicsView.DontAdjustForAntialiasing)
        self.setTransformationAnchor(QGraphicsView.NoAnchor)
        self.setResizeAnchor(QGraphicsView.AnchorViewCenter)
        self.setDragMode(QGraphicsView.RubberBandDrag)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setAcceptDrops(True)
        self.setSceneRect(QRectF(-1e6, -1e6, 2e6, 2e6))
        self._space = False
        self._pan_from: QPointF | None = None
        self._cut: QGraphicsPathItem | None = None
        self.minimap = Minimap(self)
        self.minimap.hide()
        self.empty_hint = QLabel(EMPTY_HINT, self.viewport())
        self.empty_hint.setAlignment(Qt.AlignCenter)
        self.empty_hint.setAttribute(Qt.WA_TransparentForMouseEvents)
        self.empty_hint.setStyleSheet("color: #8a8f98; font-size: 13px; background: transparent;")
        self.empty_hint.hide()

    def set_empty(self, empty: bool) -> None:
        """Show how to start on an empty canvas; hide it once there is a node."""
        self.empty_hint.setVisible(empty)
        self._place_hint()

    def _place_hint(self) -> None:
        self.empty_hint.resize(self.viewport().size())
        self.empty_hint.move(0, 0)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._place_hint()
        self.minimap.place()

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self.minimap.isVisible():  # follows every pan, zoom and move of the canvas
            self.minimap.update()

    def set_minimap(self, on: bool) -> None:
        self.minimap.place()
        self.minimap.setVisible(on)

    # -- zoom and framing -------------------------------------------------------------

    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float, anchor=None) -> None:
        new = min(4.0, max(0.05, self.zoom * factor))
        factor = new / self.zoom
        anchor = anchor if anchor is not None else self.viewport().rect().center()
        before = self.mapToScene(anchor)
        self.scale(factor, factor)
        after = self.mapToScene(anchor)
        delta = after - before
        self.translate(delta.x(), delta.y())

    def wheelEvent(self, event) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(1.15 ** steps, event.position().toPoint())

    def frame_rect(self, rect: QRectF) -> None:
        if rect.isNull():
            return
        rect = rect.adjusted(-60, -60, 60, 60)
        self.fitInView(rect, Qt.KeepAspectRatio)
        if self.zoom > 1.5:
            self.zoom_by(1.5 / self.zoom)

    def frame_all(self) -> None:
        rect = QRectF()
        for item in self.scene().items():
            if isinstance(item, NodeItem) or item.zValue() <= -10:
                rect = rect.united(item.sceneBoundingRect())
        self.frame_rect(rect)

    def frame_selection(self) -> None:
        rect = QRectF()
        for item in self.scene().selectedItems():
            rect = rect.united(item.sceneBoundingRect())
        if rect.isNull():
            self.frame_all()
        else:
            self.frame_rect(rect)

    def pan_by(self, dx: float, dy: float) -> None:
        """Move the content by (dx, dy) view pixels (it follows the hand)."""
        z = self.zoom
        self.translate(dx / z, dy / z)

    # -- keys and mouse ---------------------------------------------------------------

    def keyPressEvent(self, event) -> None:
        key = event.key()
        if key == Qt.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.setDragMode(QGraphicsView.NoDrag)
            self.viewport().setCursor(Qt.OpenHandCursor)
            return
        if key == Qt.Key_F and not event.modifiers():
            self.frame_selection()
            return
        if key == Qt.Key_Home:
            self.frame_all()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.setDragMode(QGraphicsView.RubberBandDrag)
            self.viewport().unsetCursor()
            return
        super().keyReleaseEvent(event)

    def focusNextPrevChild(self, forward: bool) -> bool:
        return False  # Tab opens node search instead of moving focus

    def event(self, event) -> bool:
        if event.type() == event.Type.KeyPress and event.key() == Qt.Key_Tab \
                and not event.modifiers() & Qt.ControlModifier:  # Ctrl+Tab goes round the tabs
            pos = self.mapFromGlobal(self.cursor().pos())
            if not self.viewport().rect().contains(pos):
                pos = self.viewport().rect().center()
            self.search_requested.emit(self.mapToScene(pos))
            return True
        return super().event(event)

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.RightButton and event.modifiers() & Qt.ControlModifier:
            start = self.mapToScene(event.position().toPoint())
            self._cut = QGraphicsPathItem(QPainterPath(start))
            self._cut.setPen(QPen(QColor("#ef5350"), 0, Qt.DashLine))  # cosmetic: one pixel at any zoom
            self._cut.setZValue(20)
            self.scene().addItem(self._cut)
            event.accept()
            return
        if event.button() == Qt.MiddleButton or (self._space and event.button() == Qt.LeftButton):
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._cut is not None:
            path = self._cut.path()
            path.lineTo(self.mapToScene(event.position().toPoint()))
            self._cut.setPath(path)
            event.accept()
            return
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.pan_by(delta.x(), delta.y())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._cut is not None:
            self.wires_cut.emit(self.wires_crossed(self._cut.path()))
            self.scene().removeItem(self._cut)
            self._cut = None
            event.accept()
            return
        if self._pan_from is not None:
            self._pan_from = None
            self.viewport().setCursor(Qt.OpenHandCursor if self._space else Qt.ArrowCursor)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def wires_crossed(self, stroke: QPainterPath) -> list:
        """The links whose wires a cutting stroke crosses."""
        crossed = []
        for link, wire in self.scene().wire_items.items():
            if wire.isVisible() and stroke.intersects(wire.path()) and _crosses(stroke, wire.path()):
                crossed.append(link)
        return crossed

    def contextMenuEvent(self, event) -> None:
        if self._cut is not None or event.modifiers() & Qt.ControlModifier:
            event.accept()  # Ctrl+right-drag cuts wires; no menu
            return
        self.context_requested.emit(event.globalPos(), self.mapToScene(event.pos()))
        event.accept()

    def mouseDoubleClickEvent(self, event) -> None:
        if self.itemAt(event.position().toPoint()) is None:
            self.search_requested.emit(self.mapToScene(event.position().toPoint()))
            return
        super().mouseDoubleClickEvent(event)

    # -- drops from the palette and the file manager ----------------------------------

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasFormat(NODE_MIME) or event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasFormat(NODE_MIME) or event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event) -> None:
        mime = event.mimeData()
        if mime.hasFormat(NODE_MIME):
            type_id = bytes(mime.data(NODE_MIME)).decode()
            self.node_dropped.emit(type_id, self.mapToScene(event.position().toPoint()))
            event.acceptProposedAction()
        elif mime.hasUrls():
            self.files_dropped.emit([u.toLocalFile() for u in mime.urls() if u.isLocalFile()])
            event.acceptProposedAction()
        else:
            super().dropEvent(event)


def _crosses(stroke: QPainterPath, wire: QPainterPath, samples: int = 48) -> bool:
    """Whether the open polyline `stroke` crosses the curve `wire` (QPainterPath.intersects treats both as
    filled areas, so it also says yes for a stroke that only passes through a curve's bulge)."""
    points = [wire.pointAtPercent(i / samples) for i in range(samples + 1)]
    lines = [(stroke.elementAt(i), stroke.elementAt(i + 1)) for i in range(stroke.elementCount() - 1)]
    for a, b in zip(points, points[1:], strict=False):
        for c, d in lines:
            if _segments_cross(a.x(), a.y(), b.x(), b.y(), c.x, c.y, d.x, d.y):
                return True
    return False


def _segments_cross(ax, ay, bx, by, cx, cy, dx, dy) -> bool:
    def side(px, py, qx, qy, rx, ry):
        return (qx - px) * (ry - py) - (qy - py) * (rx - px)

    d1, d2 = side(cx, cy, dx, dy, ax, ay), side(cx, cy, dx, dy, bx, by)
    d3, d4 = side(ax, ay, bx, by, cx, cy), side(ax, ay, bx, by, dx, dy)
    return d1 * d2 < 0 and d3 * d4 < 0
