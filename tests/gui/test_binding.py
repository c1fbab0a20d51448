"""The Qt binding itself. PySide6 6.12.0 on Python 3.11 drops a reference to None on every call from Qt into a
Python paint method and one to True on every Python signal emit, until the interpreter aborts
(`Fatal Python error: none_dealloc` / `bool_dealloc`). pyproject.toml excludes that build; this test catches any
other build that does the same. The probe runs in its own process, since a leaking build aborts the interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys

PROBE = r"""
import json, sys
from PySide6.QtCore import QObject, QRectF, Signal
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication, QGraphicsItem, QGraphicsScene

class Painted(QGraphicsItem):
    def boundingRect(self):
        return QRectF(0, 0, 10, 10)
    def paint(self, painter, option, widget=None):
        painter.drawRect(self.boundingRect())

class Emitter(QObject):
    plain = Signal()
    number = Signal(int)

app = QApplication([])
scene = QGraphicsScene()
for i in range(50):
    item = Painted()
    item.setPos(i * 12, 0)
    scene.addItem(item)
image = QImage(640, 20, QImage.Format_ARGB32)
emitter = Emitter()
received = []
emitter.plain.connect(lambda: received.append(0))
emitter.number.connect(received.append)

def render(times):
    for _ in range(times):
        painter = QPainter(image)
        scene.render(painter)
        painter.end()

def emit(times):
    for i in range(times):
        emitter.plain.emit() if i % 2 else emitter.number.emit(i)

render(2); emit(2)  # first calls may fill caches that keep references for good
none0, true0 = sys.getrefcount(None), sys.getrefcount(True)
render(40)   # 40 renders of 50 items: 2,000 Python paint calls
none1 = sys.getrefcount(None)
emit(1000)
true1 = sys.getrefcount(True)
print(json.dumps({"none": none1 - none0, "true": true1 - true0, "received": len(received)}))
"""


def test_python_paints_and_emits_keep_none_and_true_alive():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=120)
    fix = "install a PySide6 build that pyproject.toml allows (not 6.12.0 on Python 3.11)"
    assert done.returncode == 0, f"the Qt binding aborted the interpreter ({fix}):\n{done.stderr[-800:]}"
    drift = json.loads(done.stdout.strip().splitlines()[-1])
    assert drift["received"] == 1002
    assert abs(drift["none"]) < 50 and abs(drift["true"]) < 50, (
        f"this Qt binding leaks references: None drifted by {drift['none']} over 2,000 paints and True by "
        f"{drift['true']} over 1,000 emits, and the editor will abort; {fix}")
