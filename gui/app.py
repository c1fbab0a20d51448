"""Creating the QApplication: high-DPI policy, dark theme, names used by QSettings."""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from .theme import apply_dark_theme

GUI_SWITCH_INTERVAL_S = 0.001


def make_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(argv if argv is not None else sys.argv[:1])
        if app.platformName() == "offscreen":
            # Qt's offscreen clipboard crashes at exit if it still holds data (a copy in a test or a
            # headless --screenshot run): empty it while the application is still alive.
            app.aboutToQuit.connect(lambda: QApplication.clipboard().clear())
    # A run's stages work on threads of their own; when they all want Python's lock the event loop waits its
    # turn, every switch interval. 1 ms instead of Python's 5 keeps the canvas answering during a run (bench/gui.py:
    # the longest stall of a run 29-39 ms against 37-143 ms, the run no slower).
    sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)
    app.setApplicationName("Kinograph")
    app.setOrganizationName("Kinograph")
    apply_dark_theme(app)
    return app
