"""Creating the QApplication: high-DPI policy, dark theme, names used by QSettings."""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from .theme import apply_dark_theme


def make_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(argv if argv is not None else sys.argv[:1])
        if app.platformName() == "offscreen":
            # Qt's offscreen clipboard crashes at exit if it still holds data (a copy in a test or a
            # headless --screenshot run): empty it while the application is still alive.
            app.aboutToQuit.connect(lambda: QApplication.clipboard().clear())
    app.setApplicationName("Kinograph")
    app.setOrganizationName("Kinograph")
    apply_dark_theme(app)
    return app
