"""Wires from an output port to an input port, coloured by type: splines, straight or orthogonal lines,
through reroute points that a person places."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsItem, QGraphicsPathItem

from nodegraph.graph import Link
from nodegraph.types import colour_of

from ..theme import STATE_COLOURS

ERROR_COLOUR = STATE_COLOURS["failed"]


BACK_DROP = 140.0  # how far below its ends a wire that runs backwards loops, to pass under the nodes
WIRE_STYLES = ("spline", "straight", "orthogonal")
_style = {"now": "spline"}


def set_wire_style(style: str) -> None:
    """How every wire is drawn from now on (the view redraws them)."""
    if style not in WIRE_STYLES:
        raise ValueError(f"wire style must be one of {', '.join(WIRE_STYLES)}, not {style!r}")
    _style["now"] = style


def wire_style() -> str:
    return _style["now"]


def curve(a: QPointF, b: QPointF, via: list[QPointF] | None = None) -> QPainterPath:
    """A wire from a to b, through the reroute points `via`, in the current style. A spline segment running
    backwards (into a node left of its source) loops out to the right, under both nodes and back in from the
    left, instead of crossing behind them."""
    points = [a, *(via or []), b]
    path = QPainterPath(a)
    for start, end in zip(points, points[1:], strict=False):
        _segment(path, start, end, wire_style())
    return path


def _segment(path: QPainterPath, a: QPointF, b: QPointF, style: str) -> None:
    if style == "straight":
        path.lineTo(b)
    elif style == "orthogonal":
        mid = (a.x() + b.x()) / 2 if b.x() >= a.x() else a.x() + 20
        path.lineTo(QPointF(mid, a.y()))
        path.lineTo(QPointF(mid, b.y()))
        path.lineTo(b)
    elif b.x() >= a.x() - 20:
        dx = max(40.0, abs(b.x() - a.x()) * 0.5)
        path.cubicTo(QPointF(a.x() + dx, a.y()), QPointF(b.x() - dx, b.y()), b)
    else:
        low = max(a.y(), b.y()) + BACK_DROP
        mid = QPointF((a.x() + b.x()) / 2, low)
        path.cubicTo(QPointF(a.x() + 120, a.y()), QPointF(a.x() + 120, low), mid)
        path.cubicTo(QPointF(b.x() - 120, low), QPointF(b.x() - 120, b.y()), b)


def reroute_points(dst_ui: dict, port: str) -> list[QPointF]:
    """The reroute points of the wire into `port`, kept in its node's ui as {"reroutes": {port: [[x, y], ...]}}."""
    found = dst_ui.get("reroutes", {})
    points = found.get(port, []) if isinstance(found, dict) else []
    return [QPointF(float(p[0]), float(p[1])) for p in points
            if isinstance(p, (list, tuple)) and len(p) == 2 and all(isinstance(v, (int, float)) for v in p)]


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
        node = self.dst_item.canvas.graph.nodes.get(self.link.dst) if self.dst_item.canvas.graph else None
        self.via = reroute_points(node.ui, self.link.dst_port) if node is not None else []
        self.setPath(curve(a, b, self.via))
        self._sync_dots()
        muted = "mute" in (self.src_item.mode, self.dst_item.mode)
        pen = QPen(self._pen)
        if muted:
            pen.setStyle(Qt.DotLine)
        self.setPen(pen)

    def _sync_dots(self) -> None:
        dots = [c for c in self.childItems() if isinstance(c, RerouteDot)]
        for dot in dots[len(self.via):]:
            dot.setParentItem(None)
            if dot.scene() is not None:
                dot.scene().removeItem(dot)
        for i, point in enumerate(self.via):
            dot = dots[i] if i < len(dots) else RerouteDot(self, i)
            dot.index = i
            if not dot.dragging:
                dot.setPos(point)

    def order_of(self, point: QPointF) -> int:
        """Where a new reroute point at `point` goes among the wire's points (by how far along it lies)."""
        samples = [self.path().pointAtPercent(i / 100) for i in range(101)]

        def along(p: QPointF) -> int:
            return min(range(101), key=lambda i: (samples[i] - p).manhattanLength())

        place = along(point)
        return sum(1 for p in self.via if along(p) < place)

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


class RerouteDot(QGraphicsEllipseItem):
    """A reroute point of a wire: drag it to move the wire, double-click it to remove it."""

    R = 5.0

    def __init__(self, wire: WireItem, index: int):
        super().__init__(-self.R, -self.R, 2 * self.R, 2 * self.R, wire)
        self.wire, self.index, self.dragging = wire, index, False
        self.setBrush(QColor(colour_of(wire.type_id)))
        self.setPen(QPen(QColor("#111111"), 1))
        self.setFlags(QGraphicsItem.ItemIsMovable | QGraphicsItem.ItemSendsGeometryChanges)
        self.setCursor(Qt.SizeAllCursor)
        self.setToolTip("Reroute: drag to move, double-click to remove")
        self.setZValue(1)

    def mousePressEvent(self, event) -> None:
        self.dragging = True
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        super().mouseMoveEvent(event)
        via = list(self.wire.via)
        via[self.index] = self.pos()
        a = self.wire.src_item.port_scene_pos(self.wire.link.src_port, True)
        b = self.wire.dst_item.port_scene_pos(self.wire.link.dst_port, False)
        self.wire.setPath(curve(a, b, via))

    def mouseReleaseEvent(self, event) -> None:
        super().mouseReleaseEvent(event)
        self.dragging = False
        self.wire.dst_item.canvas.move_reroute(self.wire.link, self.index, self.pos())

    def mouseDoubleClickEvent(self, event) -> None:
        self.wire.dst_item.canvas.remove_reroute(self.wire.link, self.index)
        event.accept()
