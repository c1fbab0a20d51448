"""The keyboard and mouse shortcut list shown in Help → Keyboard Shortcuts."""

from __future__ import annotations

SHORTCUTS = (
    ("Tab / double-click canvas", "Add a node (search); Tab works anywhere but in a text field"),
    ("Drag from a port", "Wire it; drop on empty canvas to add a connected node"),
    ("Middle-drag / Space+drag", "Pan"),
    ("Wheel", "Zoom to the cursor"),
    ("F / Home", "Frame the selection / everything"),
    ("Ctrl+C / Ctrl+X / Ctrl+V", "Copy / cut / paste (as workflow JSON)"),
    ("Ctrl+D", "Duplicate"),
    ("Delete / Backspace", "Delete the selection"),
    ("Ctrl+Z / Ctrl+Shift+Z, Ctrl+Y", "Undo / redo"),
    ("Ctrl+G", "Group the selection"),
    ("M / B / H", "Mute / bypass / collapse the selection (single keys act while the canvas has focus)"),
    ("Ctrl+Enter / Ctrl+Shift+Enter", "Run / run to the selected node"),
    ("Ctrl+Shift+R", "Run again, recomputing the selection (or everything) instead of using the cache"),
    ("Ctrl+.", "Cancel the run"),
    ("Ctrl+N / Ctrl+O / Ctrl+S / Ctrl+Shift+S", "New / open / save / save as"),
    ("Ctrl+T / Ctrl+Shift+O / Ctrl+W", "New tab / open in a new tab / close the tab"),
    ("Ctrl+Tab / Ctrl+Shift+Tab", "Next / previous tab"),
    ("F1", "This list"),
)


def shortcuts_html() -> str:
    rows = "".join(f"<tr><td><b>{keys}</b>&nbsp;&nbsp;</td><td>{what}</td></tr>" for keys, what in SHORTCUTS)
    return f"<table>{rows}</table>"
