"""Params drawn on the node itself ("widgets"): the ones a node type lists in `Node.widgets`, unless a wire
feeds them. Painted, not embedded Qt widgets, so a 500-node graph stays fast; a click on a value asks the
window for an editor over it (`GraphScene.widget_clicked`), a bool flips and a seed's dice rolls in place.
Zoomed out, widgets are plain text; further out, nothing."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen

from nodegraph.node import Param

ROW = 20.0
TEXT_ROWS = 3  # a multi-line param shows this many lines
LEFT = 8.0
DICE_W = 18.0
AFTER_W = 30.0
BROWSE_W = 18.0
FILE_KINDS = ("path", "save_path", "dir", "path_or_id")  # params whose widget has a browse button
SEED_AFTER = ("fixed", "increment", "randomize")  # what a seed does after each Run
AFTER_LABEL = {"fixed": "=", "increment": "+1", "randomize": "rnd"}


@dataclass(frozen=True)
class WidgetRow:
    param: Param
    top: float
    height: float

    def value_rect(self, width: float) -> QRectF:
        if self.param.kind == "multiline":
            return QRectF(LEFT, self.top + ROW - 4, width - 2 * LEFT, self.height - ROW + 2)
        right = width - LEFT - (DICE_W + AFTER_W + 4 if self.param.kind == "seed" else 0) \
            - (BROWSE_W + 2 if self.param.kind in FILE_KINDS else 0)
        return QRectF(width * 0.42, self.top + 2, right - width * 0.42, ROW - 4)

    def dice_rect(self, width: float) -> QRectF:
        return QRectF(width - LEFT - AFTER_W - DICE_W - 2, self.top + 2, DICE_W, ROW - 4)

    def after_rect(self, width: float) -> QRectF:
        return QRectF(width - LEFT - AFTER_W, self.top + 2, AFTER_W, ROW - 4)

    def browse_rect(self, width: float) -> QRectF:
        return QRectF(width - LEFT - BROWSE_W, self.top + 2, BROWSE_W, ROW - 4)


def widget_rows(cls, params: dict, hidden: set[str], top: float) -> list[WidgetRow]:
    """The widget rows of a node whose first row starts at `top`; `hidden` are params fed by wires or shown
    as input ports."""
    rows = []
    for name in getattr(cls, "widgets", ()) if cls is not None else ():
        param = cls.param(name)
        if param is None or name in hidden:
            continue
        height = ROW * (1 + TEXT_ROWS * 0.8) if param.kind == "multiline" else ROW
        rows.append(WidgetRow(param, top, height))
        top += height
    return rows


def value_text(param: Param, value) -> str:
    if param.type is bool:
        return "on" if value else "off"
    if param.type is float:
        return f"{value:.4g}"
    if param.kind in ("path", "save_path", "dir", "path_or_id") and isinstance(value, str):
        return value.replace("\\", "/").rsplit("/", 1)[-1] or "(none)"
    return str(value)


def hit(rows: list[WidgetRow], local: QPointF, width: float) -> tuple[WidgetRow, str] | None:
    """The widget row under `local` and which part: "value", "dice", "after" or "browse"."""
    for row in rows:
        if row.param.kind in FILE_KINDS and row.browse_rect(width).contains(local):
            return row, "browse"
        if row.param.kind == "seed":
            if row.dice_rect(width).contains(local):
                return row, "dice"
            if row.after_rect(width).contains(local):
                return row, "after"
        if QRectF(0, row.top, width, row.height).contains(local):
            return row, "value"
    return None


def paint_widgets(painter: QPainter, rows: list[WidgetRow], params: dict, seed_after: str, width: float,
                  lod: float) -> None:
    if not rows or lod < 0.28:
        return
    boxes = lod >= 0.5
    font = QFont(painter.font())
    font.setBold(False)
    font.setPointSizeF(8.0)
    painter.setFont(font)
    for row in rows:
        param = row.param
        value = params.get(param.name, param.default)
        label = param.label or param.name.replace("_", " ")
        painter.setPen(QColor("#9fb3c8"))
        painter.drawText(QRectF(LEFT, row.top, width * 0.42 - LEFT, ROW), Qt.AlignVCenter | Qt.AlignLeft, label)
        box = row.value_rect(width)
        if boxes:
            painter.setPen(QPen(QColor("#3d4654"), 1))
            painter.setBrush(QColor("#1c2128"))
            painter.drawRoundedRect(box, 3, 3)
        painter.setPen(QColor("#e8e8e8"))
        text = value_text(param, value)
        inner = box.adjusted(4, 1, -4, -1)
        if param.kind == "multiline":
            lines = text.splitlines() or [""]
            shown = "\n".join(painter.fontMetrics().elidedText(line, Qt.ElideRight, int(inner.width()))
                              for line in lines[:TEXT_ROWS])
            painter.drawText(inner, Qt.AlignTop | Qt.AlignLeft | Qt.TextWordWrap, shown)
        else:
            painter.drawText(inner, Qt.AlignVCenter | Qt.AlignLeft,
                             painter.fontMetrics().elidedText(text, Qt.ElideMiddle, int(inner.width())))
        if param.kind in FILE_KINDS and boxes:
            browse = row.browse_rect(width)
            painter.setPen(QPen(QColor("#3d4654"), 1))
            painter.setBrush(QColor("#2a313b"))
            painter.drawRoundedRect(browse, 3, 3)
            painter.setPen(QColor("#cfd8dc"))
            painter.drawText(browse, Qt.AlignCenter, "…")
        if param.kind == "seed" and boxes:
            _paint_dice(painter, row.dice_rect(width))
            painter.setPen(QColor("#cfd8dc"))
            painter.drawText(row.after_rect(width), Qt.AlignCenter, AFTER_LABEL.get(seed_after, "="))


def _paint_dice(painter: QPainter, rect: QRectF) -> None:
    """A drawn die (a font's ⚄ glyph may be missing, as ⏸ was)."""
    side = min(rect.width(), rect.height())
    square = QRectF(rect.center().x() - side / 2, rect.center().y() - side / 2, side, side)
    painter.setPen(QPen(QColor("#cfd8dc"), 1))
    painter.setBrush(QColor("#37474f"))
    painter.drawRoundedRect(square, 2, 2)
    painter.setBrush(QColor("#ffffff"))
    painter.setPen(Qt.NoPen)
    c, d, r = square.center(), side * 0.27, max(1.0, side * 0.09)
    for dx, dy in ((-d, -d), (d, d), (0, 0), (d, -d), (-d, d)):
        painter.drawEllipse(QPointF(c.x() + dx, c.y() + dy), r, r)
