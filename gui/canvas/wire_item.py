"""Wires: cubic curves from an output port to an input port, coloured by type."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsPathItem

from nodegraph.graph import Link
from nodegraph.types import colour_of

from ..theme import STATE_COLOURS

ERROR_COLOUR = STATE_COLOURS["failed"]


BACK_DROP = 140.0  # how far below its ends a wire that runs backwards loops, to pass under the nodes


def curve(a: QPointF, b: QPointF) -> QPainterPath:
    """A horizontal-tangent S curve from a to b. A wire that runs backwards (into a node left of its source)
    loops out to the right, under both nodes and back in from the left, instead of crossing behind them."""
    path = QPainterPath(a)
    if b.x() >= a.x() - 20:
        dx = max(40.0, abs(b.x() - a.x()) * 0.5)
        path.cubicTo(QPointF(a.x() + dx, a.y()), QPointF(b.x() - dx, b.y()), b)
        return path
    low = max(a.y(), b.y()) + BACK_DROP
    mid = QPointF((a.x() + b.x()) / 2, low)
    path.cubicTo(QPointF(a.x() + 120, a.y()), QPointF(a.x() + 120, low), mid)
    path.cubicTo(QPointF(b.x() - 120, low), QPointF(b.x() - 120, b.y()), b)
    return path


class WireItem(QGraphicsPathItem):
    """A link on the canvas; follows its two nodes."""

    def __init__(self, link: Link, src_item, dst_item, type_id: str):
        super().__init__()
        self.link, self.src_item, self.dst_item = link, src_item, dst_item
        self.type_id = type_id
        self.setZValue(-1)
        self.setAcceptHoverEvents(True)
        self._pen = QPen(QColor(colour_of(type_id)), 2.4)
        self._pen.setCapStyle(Qt.RoundCap)
        self.setPen(self._pen)
        self._tip = f"{link.from_ref} → {link.to_ref} ({type_id})"
        self.setToolTip(self._tip)
        self.problem = ""
        self.update_path()

    def update_path(self) -> None:
        a = self.src_item.port_scene_pos(self.link.src_port, True)
        b = self.dst_item.port_scene_pos(self.link.dst_port, False)
        self.setPath(curve(a, b))
        muted = "mute" in (self.src_item.mode, self.dst_item.mode)
        pen = QPen(self._pen)
        if muted:
            pen.setStyle(Qt.DotLine)
        self.setPen(pen)

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(10)
        return stroker.createStroke(self.path())

    def set_hot(self, hot: bool) -> None:
        pen = QPen(self.pen())  # keep the current look (a muted wire stays dotted), change only the width
        pen.setWidthF(4.5 if hot or self.problem else 2.4)
        self.setPen(pen)

    def set_problem(self, problem: str) -> None:
        """Mark the wire as part of a problem (a cycle): drawn above the nodes, in the error colour."""
        self.problem = problem
        self._pen.setColor(QColor(ERROR_COLOUR if problem else colour_of(self.type_id)))
        self.setZValue(5 if problem else -1)
        self.setToolTip(problem or self._tip)
        self.update_path()
        self.set_hot(False)

    def hoverEnterEvent(self, event) -> None:
        self.set_hot(True)

    def hoverLeaveEvent(self, event) -> None:
        self.set_hot(False)


class DragWire(QGraphicsPathItem):
    """The wire that follows the mouse while a connection is dragged."""

    def __init__(self, anchor: QPointF, from_output: bool, type_id: str):
        super().__init__()
        self.anchor, self.from_output = anchor, from_output
        pen = QPen(QColor(colour_of(type_id)), 2.4, Qt.DashLine)
        self.setPen(pen)
        self.setZValue(10)
        self.move_to(anchor)

    def move_to(self, pos: QPointF) -> None:
        self.setPath(curve(self.anchor, pos) if self.from_output else curve(pos, self.anchor))
