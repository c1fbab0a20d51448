"""Sticky notes: Markdown rendered on a paper-coloured card; drag to move, double-click to edit."""

from __future__ import annotations

from PySide6.QtCore import QRectF
from PySide6.QtGui import QAbstractTextDocumentLayout, QColor, QPainter, QPalette, QPen, QTextDocument
from PySide6.QtWidgets import QGraphicsItem

from nodegraph.graph import Note

NOTE_WIDTH = 260.0
PAD = 10.0
PAPER = "#f6e58d"
INK = "#2b2b2b"


class NoteItem(QGraphicsItem):
    """The view of `canvas.graph.notes[index]`."""

    def __init__(self, canvas, index: int, note: Note):
        super().__init__()
        self.canvas, self.index = canvas, index
        self.setFlags(QGraphicsItem.ItemIsMovable | QGraphicsItem.ItemIsSelectable)
        self.setZValue(-5)  # above group backdrops, below nodes and wires
        self.document = QTextDocument()
        self.refresh(note)

    def refresh(self, note: Note) -> None:
        self.prepareGeometryChange()
        self.text = note.text
        self.w = float(note.ui.get("w", NOTE_WIDTH))
        self.document.setMarkdown(note.text or "*Empty note: double-click to write*")
        self.document.setTextWidth(self.w - 2 * PAD)
        self.h = max(60.0, self.document.size().height() + 2 * PAD)
        self.setPos(float(note.ui.get("x", 0.0)), float(note.ui.get("y", 0.0)))
        self.setToolTip("Double-click to edit (Markdown)")
        self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self.w, self.h)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setPen(QPen(QColor("#ffab40") if self.isSelected() else QColor("#b8a94a"), 1.5))
        painter.setBrush(QColor(PAPER))
        painter.drawRoundedRect(self.boundingRect(), 4, 4)
        painter.save()
        painter.translate(PAD, PAD)
        context = QAbstractTextDocumentLayout.PaintContext()
        context.palette.setColor(QPalette.Text, QColor(INK))  # dark ink on paper, whatever the editor's theme
        context.palette.setColor(QPalette.Link, QColor("#1a4fa0"))
        context.clip = QRectF(0, 0, self.w - 2 * PAD, self.h - 2 * PAD)
        self.document.documentLayout().draw(painter, context)
        painter.restore()

    def mouseDoubleClickEvent(self, event) -> None:
        self.canvas.edit_note_requested.emit(self.index)
        event.accept()

    def plain_text(self) -> str:
        """The note as rendered, without Markdown marks."""
        return self.document.toPlainText()
