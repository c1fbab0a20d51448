"""A node on the canvas: a thin view of a NodeInstance plus its run state."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem

from nodegraph.graph import NodeInstance
from nodegraph.types import colour_of

from .. import theme
from .node_widgets import hit, paint_widgets, widget_rows

WIDTH = 210.0
TITLE_H = 26.0
ROW_H = 20.0
PORT_R = 5.5
HIT_R = 10.0
THUMB_W = WIDTH - 12.0
FOOTER_H = 16.0
METRIC_ROW_H = 14.0


@dataclass(frozen=True)
class PortRow:
    """One socket drawn on a node: an input (port or param fed by a link) or an output."""

    name: str
    type: str
    is_output: bool
    is_param: bool = False
    optional: bool = False


def thumbnail_image(frame: np.ndarray, max_side: int = 256) -> QImage:
    """A QImage copy of an (H, W, 3) uint8 frame, shrunk to `max_side` by striding."""
    if frame.ndim == 4:
        frame = frame[-1]
    step = max(1, int(np.ceil(max(frame.shape[:2]) / max_side)))
    frame = np.ascontiguousarray(frame[::step, ::step, :3], dtype=np.uint8)
    h, w = frame.shape[:2]
    return QImage(frame.data, w, h, 3 * w, QImage.Format_RGB888).copy()


class NodeItem(QGraphicsItem):
    """Draws title, category colour, typed ports, state badge, progress, time and thumbnail."""

    def __init__(self, canvas, node: NodeInstance, cls):
        super().__init__()
        self.canvas = canvas
        self.node_id = node.id
        self.cls = cls
        self.setFlags(QGraphicsItem.ItemIsMovable | QGraphicsItem.ItemIsSelectable
                      | QGraphicsItem.ItemSendsGeometryChanges)
        self.setCacheMode(QGraphicsItem.DeviceCoordinateCache)
        self.setAcceptHoverEvents(True)
        self.wires: list = []
        self.state = "idle"
        self.message = ""
        self.progress: float | None = None
        self.seconds: float | None = None
        self.thumbnail: QImage | None = None
        self.metrics: dict[str, float] = {}
        self.problems: list[str] = []  # what validation finds now (kept up to date while editing)
        self.notices: list[str] = []  # what a run should know but that does not stop it (not downloaded)
        self.highlight: set[tuple[str, bool]] | None = None  # compatible ports while a wire is dragged
        self._wiring = False
        self.refresh(node)

    # -- model ------------------------------------------------------------------------

    def refresh(self, node: NodeInstance) -> None:
        """Re-read title, mode, collapse, ports and position from the model."""
        self.prepareGeometryChange()
        cls = self.cls
        self.title = node.title or (cls.display_name() if cls else node.type)
        self.category = cls.category if cls else "Utility"
        self.mode = node.mode
        self.collapsed = bool(node.ui.get("collapsed"))
        colour = node.ui.get("color")
        self.colour = QColor(colour) if isinstance(colour, str) and QColor(colour).isValid() else None
        linked = self.canvas.graph.links_into(node.id) if self.canvas.graph is not None else {}
        as_inputs = set(node.ui.get("inputs", ())) | set(linked)
        rows_in = [PortRow(p.name, p.type, False, optional=p.optional) for p in (cls.inputs if cls else ())]
        rows_in += [PortRow(p.name, p.port_type, False, is_param=True) for p in (cls.params if cls else ())
                    if p.name in as_inputs]
        self.inputs = rows_in
        self.outputs = [PortRow(p.name, p.type, True) for p in (cls.outputs if cls else ())]
        self.params = dict(node.params)
        self.seed_after = node.ui.get("seed_after", "fixed")
        ports_bottom = TITLE_H + 6 + max(len(self.inputs), len(self.outputs)) * ROW_H
        self.widget_rows = [] if self.collapsed else widget_rows(cls, node.params, as_inputs, ports_bottom)
        self._layout()
        tip = cls.description() if cls else f"unknown node type {node.type!r}"
        if self.state in ("failed", "skipped", "stopped") and self.message:
            tip = f"{tip}\n\n{self.state.title()}: {self.message}"
        for label, lines in (("Problem", self.problems), ("Note", self.notices)):
            tip += "".join(f"\n\n{label}: {line}" for line in lines)
        self.setToolTip(f"<b>{self.title}</b> ({node.id}, {node.type})<br>{tip}".replace("\n", "<br>"))
        x, y = float(node.ui.get("x", 0.0)), float(node.ui.get("y", 0.0))
        if self.pos() != QPointF(x, y):
            self.setPos(x, y)
        self.setOpacity(0.45 if self.mode == "mute" else 1.0)
        self.update()

    def _layout(self) -> None:
        if self.collapsed:
            self.height = TITLE_H
            return
        h = self._content_top()
        if self.thumbnail is not None:
            h += THUMB_W * self.thumbnail.height() / max(1, self.thumbnail.width()) + 6
        h += len(self.metrics) * METRIC_ROW_H
        self.height = h + FOOTER_H

    def _content_top(self) -> float:
        """Where the thumbnail, metrics and footer start: below the ports and the widgets."""
        top = TITLE_H + 6 + max(len(self.inputs), len(self.outputs)) * ROW_H
        return top + sum(row.height for row in self.widget_rows) + (4 if self.widget_rows else 0)

    # -- run state --------------------------------------------------------------------

    def set_state(self, state: str, message: str = "", seconds: float | None = None) -> None:
        self.state, self.message = state, message
        if seconds is not None:
            self.seconds = seconds
        if state == "running":
            self.progress = 0.0
        else:  # a bar left by a cancelled or failed run would claim work that is not there
            self.progress = None
        node = self.canvas.graph.nodes.get(self.node_id)
        if node is not None:
            self.refresh(node)

    def show_run_state(self, node) -> None:
        """Show a run's state of this node (a `nodegraph.run_state.NodeState`; an instance's is the aggregate of
        what is inside it): the bar moves while it runs, and the state changes only when it is new."""
        if node.state == "running":
            if self.state != "running":
                self.set_state("running")
            if node.done or node.total:
                self.set_progress(node.done, node.total)
            return
        seconds = node.seconds if node.state == "done" else None  # a cached node keeps the time it took to make
        if (self.state, self.message) != (node.state, node.message) or seconds not in (None, self.seconds):
            if node.total:  # an instance's last count shows before its state settles
                self.set_progress(node.done, node.total)
            self.set_state(node.state, node.message, seconds=seconds)

    def set_checks(self, problems: list[str], notices: list[str]) -> None:
        """Show what validation says about this node now (nothing when it is fine)."""
        if problems == self.problems and notices == self.notices:
            return
        self.problems, self.notices = problems, notices
        node = self.canvas.graph.nodes.get(self.node_id)
        if node is not None:
            self.refresh(node)

    def set_progress(self, done: int, total: int) -> None:
        self.progress = done / total if total > 0 else None
        self.update()

    def set_thumbnail(self, frames: np.ndarray) -> None:
        had = self.thumbnail is not None
        self.thumbnail = thumbnail_image(frames)
        if not had:
            self.prepareGeometryChange()
            self._layout()
            self._update_wires()
        self.update()

    def set_metrics(self, summary: dict[str, float]) -> None:
        self.prepareGeometryChange()
        self.metrics = dict(list(summary.items())[:8])
        self._layout()
        self.update()

    # -- geometry ---------------------------------------------------------------------

    def boundingRect(self) -> QRectF:
        return QRectF(-HIT_R, -2, WIDTH + 2 * HIT_R, self.height + 4)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRect(self.boundingRect())
        return path

    def port_local(self, name: str, is_output: bool) -> QPointF:
        rows = self.outputs if is_output else self.inputs
        x = WIDTH if is_output else 0.0
        if self.collapsed:
            return QPointF(x, TITLE_H / 2)
        for i, row in enumerate(rows):
            if row.name == name:
                return QPointF(x, TITLE_H + 6 + i * ROW_H + ROW_H / 2)
        return QPointF(x, TITLE_H / 2)

    def port_scene_pos(self, name: str, is_output: bool) -> QPointF:
        return self.mapToScene(self.port_local(name, is_output))

    def port_at(self, scene_pos: QPointF) -> PortRow | None:
        local = self.mapFromScene(scene_pos)
        for row in self.inputs + self.outputs:
            p = self.port_local(row.name, row.is_output)
            if (p - local).manhattanLength() <= HIT_R * 1.4:
                return row
        return None

    def row(self, name: str, is_output: bool) -> PortRow | None:
        for row in self.outputs if is_output else self.inputs:
            if row.name == name:
                return row
        return None

    # -- painting ---------------------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        body = QRectF(0, 0, WIDTH, self.height)
        cat = self.colour or theme.category_colour(self.category)
        selected = self.isSelected()
        if lod < 0.2:  # far away: a coloured block is enough
            painter.fillRect(body, cat if not selected else QColor(theme.SELECTION))
            painter.fillRect(QRectF(0, self.height - 6, WIDTH, 6), QColor(theme.STATE_COLOURS[self.state]))
            return
        painter.setRenderHint(QPainter.Antialiasing, lod > 0.5)
        border = QPen(QColor(theme.SELECTION) if selected else QColor(theme.NODE_BORDER), 2.0 if selected else 1.0)
        if self.state == "failed":
            border = QPen(QColor(theme.STATE_COLOURS["failed"]), 3.0)
        if self.mode == "bypass":
            border.setStyle(Qt.DashLine)
        painter.setPen(border)
        painter.setBrush(QColor("#3a2d4a") if self.mode == "bypass" else QColor(theme.NODE_BODY))
        painter.drawRoundedRect(body, 6, 6)
        title_rect = QRectF(0, 0, WIDTH, TITLE_H)
        painter.setPen(Qt.NoPen)
        painter.setBrush(cat.darker(130) if self.mode != "normal" else cat)
        painter.drawRoundedRect(title_rect, 6, 6)
        if not self.collapsed:
            painter.drawRect(QRectF(0, TITLE_H - 6, WIDTH, 6))
        if self.progress is not None:
            painter.fillRect(QRectF(0, TITLE_H - 3, WIDTH * min(1.0, self.progress), 3), QColor("#fff59d"))
        self._paint_badge(painter)
        if lod >= 0.28:
            font = QFont(painter.font())
            font.setBold(True)
            font.setPointSizeF(9.0)
            painter.setFont(font)
            painter.setPen(QColor("#ffffff"))
            label = self.title + ("  [muted]" if self.mode == "mute" else "  [bypass]" if self.mode == "bypass" else "")
            painter.drawText(QRectF(8, 0, WIDTH - 34, TITLE_H), Qt.AlignVCenter | Qt.AlignLeft, label)
        self._paint_ports(painter, lod)
        if self.collapsed:
            return
        paint_widgets(painter, self.widget_rows, self.params, self.seed_after, WIDTH, lod)
        y = self._content_top()
        if self.thumbnail is not None:
            h = THUMB_W * self.thumbnail.height() / max(1, self.thumbnail.width())
            painter.setRenderHint(QPainter.SmoothPixmapTransform, lod > 0.5)
            painter.drawImage(QRectF(6, y, THUMB_W, h), self.thumbnail)
            y += h + 6
        if lod >= 0.5:
            small = QFont(painter.font())
            small.setBold(False)
            small.setPointSizeF(7.5)
            painter.setFont(small)
            painter.setPen(QColor("#cfd8dc"))
            for name, value in self.metrics.items():
                painter.drawText(QRectF(8, y, WIDTH / 2, METRIC_ROW_H), Qt.AlignVCenter, name)
                painter.drawText(QRectF(WIDTH / 2, y, WIDTH / 2 - 8, METRIC_ROW_H), Qt.AlignVCenter | Qt.AlignRight,
                                 f"{value:.4g}")
                y += METRIC_ROW_H
            painter.setPen(QColor("#9e9e9e"))
            footer = self.state
            if self.state == "skipped" and self.message:
                footer = self.message.removeprefix("not run: ")
            elif self.state in ("idle", "queued") and (self.problems or self.notices):
                painter.setPen(QColor(theme.STATE_COLOURS["failed"] if self.problems else "#ffb74d"))
                footer = "⚠ " + (self.problems or self.notices)[0].split(";")[0]
            elif self.seconds is not None and self.state in ("done", "cached"):
                footer += f"  {self.seconds:.2f} s"
            footer = painter.fontMetrics().elidedText(footer, Qt.ElideRight, int(WIDTH - 16))
            painter.drawText(QRectF(8, y, WIDTH - 16, FOOTER_H), Qt.AlignVCenter | Qt.AlignLeft, footer)

    def _paint_badge(self, painter: QPainter) -> None:
        painter.setPen(QPen(QColor("#111111"), 1))
        painter.setBrush(QColor(theme.STATE_COLOURS.get(self.state, "#616161")))
        painter.drawEllipse(QPointF(WIDTH - 13, TITLE_H / 2), 5.5, 5.5)

    def _paint_ports(self, painter: QPainter, lod: float) -> None:
        show_labels = lod >= 0.5 and not self.collapsed
        font = QFont(painter.font())
        font.setBold(False)
        font.setPointSizeF(8.0)
        painter.setFont(font)
        for row in self.inputs + self.outputs:
            p = self.port_local(row.name, row.is_output)
            colour = QColor(colour_of(row.type))
            lit = self.highlight is not None and (row.name, row.is_output) in self.highlight
            if self.highlight is not None and not lit:
                colour = colour.darker(300)
            painter.setPen(QPen(QColor("#ffffff") if lit else QColor("#111111"), 2.0 if lit else 1.0))
            painter.setBrush(colour)
            r = PORT_R + (2 if lit else 0)
            if row.is_param:
                painter.drawRect(QRectF(p.x() - r, p.y() - r, 2 * r, 2 * r))
            else:
                painter.drawEllipse(p, r, r)
            if show_labels:
                painter.setPen(QColor("#d0d0d0") if not row.optional else QColor("#9e9e9e"))
                if row.is_output:
                    painter.drawText(QRectF(WIDTH / 2, p.y() - ROW_H / 2, WIDTH / 2 - 12, ROW_H),
                                     Qt.AlignVCenter | Qt.AlignRight, row.name)
                else:
                    painter.drawText(QRectF(12, p.y() - ROW_H / 2, WIDTH / 2, ROW_H),
                                     Qt.AlignVCenter | Qt.AlignLeft, row.name)

    # -- interaction ------------------------------------------------------------------

    def itemChange(self, change, value):
        if change == QGraphicsItem.ItemPositionHasChanged:
            self._update_wires()
        return super().itemChange(change, value)

    def _update_wires(self) -> None:
        for wire in self.wires:
            wire.update_path()

    def mousePressEvent(self, event) -> None:
        row = self.port_at(event.scenePos()) if event.button() == Qt.LeftButton else None
        if row is not None:
            self._wiring = True
            self.canvas.begin_wire(self, row)
            event.accept()
            return
        touched = hit(self.widget_rows, event.pos(), WIDTH) if event.button() == Qt.LeftButton else None
        if touched is not None and not event.modifiers():
            widget, part = touched
            self.canvas.widget_clicked.emit(self.node_id, widget.param.name, part)
            event.accept()
            return
        super().mousePressEvent(event)

    def widget_scene_rect(self, name: str) -> QRectF | None:
        """Where a widget's value box is on the canvas (for the editor put over it)."""
        row = next((r for r in self.widget_rows if r.param.name == name), None)
        return None if row is None else self.mapRectToScene(row.value_rect(WIDTH))

    def mouseDoubleClickEvent(self, event) -> None:
        if self.cls is not None and self.cls.type_id.startswith("subgraph:"):
            self.canvas.enter_requested.emit(self.node_id)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._wiring:
            self.canvas.update_wire(event.scenePos())
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._wiring:
            self._wiring = False
            self.canvas.end_wire(event.scenePos(), event.screenPos())
            return
        super().mouseReleaseEvent(event)

    def hoverMoveEvent(self, event) -> None:
        row = self.port_at(event.scenePos())
        over_widget = row is None and hit(self.widget_rows, event.pos(), WIDTH) is not None
        self.setCursor(Qt.CrossCursor if row is not None else Qt.PointingHandCursor if over_widget else Qt.ArrowCursor)
        super().hoverMoveEvent(event)
