"""Dark Fusion theme and the colours shared by the editor's widgets."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

CATEGORY_COLOURS = {
    "Input/Output": "#3f51b5",
    "Conditioning": "#e65100",
    "Dynamics": "#00796b",
    "Rendering": "#7b1fa2",
    "Upscaling": "#1565c0",
    "Evaluation": "#9e9d24",
    "Utility": "#616161",
}
STATE_COLOURS = {
    "idle": "#616161",
    "queued": "#8d6e63",
    "running": "#fbc02d",
    "cached": "#4fc3f7",
    "done": "#66bb6a",
    "failed": "#e53935",
    "skipped": "#9e9e9e",
    "stopped": "#ef6c00",  # cut off partway by a cancel (or a failure elsewhere)
}
CANVAS_BG = "#1d1f21"
GRID_MINOR = "#25282b"
GRID_MAJOR = "#2e3236"
NODE_BODY = "#2d3035"
NODE_BORDER = "#15171a"
SELECTION = "#ffab40"


def category_colour(category: str) -> QColor:
    return QColor(CATEGORY_COLOURS.get(category, CATEGORY_COLOURS["Utility"]))


def apply_dark_theme(app: QApplication) -> None:
    """Fusion style with a dark palette."""
    app.setStyle("Fusion")
    p = QPalette()
    base, window, text = QColor("#232629"), QColor("#2b2e33"), QColor("#e0e0e0")
    p.setColor(QPalette.Window, window)
    p.setColor(QPalette.WindowText, text)
    p.setColor(QPalette.Base, base)
    p.setColor(QPalette.AlternateBase, window)
    p.setColor(QPalette.ToolTipBase, QColor("#37474f"))
    p.setColor(QPalette.ToolTipText, text)
    p.setColor(QPalette.Text, text)
    p.setColor(QPalette.Button, window)
    p.setColor(QPalette.ButtonText, text)
    p.setColor(QPalette.BrightText, QColor("#ff5252"))
    p.setColor(QPalette.Link, QColor("#64b5f6"))
    p.setColor(QPalette.Highlight, QColor("#3d7bd9"))
    p.setColor(QPalette.HighlightedText, QColor("#ffffff"))
    p.setColor(QPalette.PlaceholderText, QColor("#8a8a8a"))
    for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText):
        p.setColor(QPalette.Disabled, role, QColor("#777777"))
    app.setPalette(p)
