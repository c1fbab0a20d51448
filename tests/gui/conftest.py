"""GUI tests run offscreen with a small registry of test nodes and isolated settings."""

from __future__ import annotations

import os
import time

os.environ["QT_QPA_PLATFORM"] = "offscreen"

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nodegraph import Image, Node, NodeRegistry, Param, Port, Video  # noqa: E402
from nodegraph.errors import UsageError  # noqa: E402
from nodegraph.types import IMAGE, INT, STRING, VIDEO  # noqa: E402
from nodes import values  # noqa: E402


def texture(size: int, seed: int) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size]
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (3,))
    img = np.stack([(xx * 3 + base[0]) % 256, (yy * 5 + base[1]) % 256, ((xx + yy) * 2 + base[2]) % 256], -1)
    return img.astype(np.uint8)


class Source(Node):
    """A test picture."""

    type_id = "test.source"
    category = "Input/Output"
    widgets = ("seed", "look")
    outputs = (Port("image", IMAGE),)
    params = (Param("size", int, default=32, min=8, max=256),
              Param("seed", int, default=1, min=0, max=2**63 - 1, kind="seed"),
              Param("look", str, default="plain", choices=("plain", "fancy")))
    runs = 0

    def run(self, ctx, *, size, seed, look):
        type(self).runs += 1
        return {"image": Image(texture(size, seed))}


class Animate(Node):
    """Slides a picture sideways into a clip."""

    type_id = "test.animate"
    category = "Dynamics"
    widgets = ("prompt", "frames", "speed")
    inputs = (Port("image", IMAGE),)
    outputs = (Port("video", VIDEO),)
    params = (Param("frames", int, default=12, min=1, max=400), Param("speed", float, default=1.0, min=0.0, max=8.0),
              Param("prompt", str, default="", kind="multiline"), Param("delay", float, default=0.0, min=0, max=1))

    def run(self, ctx, *, image, frames, speed, prompt, delay):
        arr = image.array
        h, w = arr.shape[:2]

        def make():
            for t in range(frames):
                if delay:
                    time.sleep(delay)
                yield np.roll(arr, int(t * speed), axis=1)

        return {"video": Video.from_frames(make, fps=12, width=w, height=h, frame_count=frames)}


class Sink(Node):
    """Counts frames (an output node)."""

    type_id = "test.sink"
    category = "Input/Output"
    is_output = True
    inputs = (Port("video", VIDEO),)
    outputs = (Port("count", INT), Port("video", VIDEO))
    params = (Param("chunk", int, default=4, min=1, max=64),)

    def run(self, ctx, *, video, chunk):
        n = 0
        for block in video.chunks(chunk):
            n += len(block)
            ctx.check_cancelled()
        return {"count": n, "video": video}


class Save(Node):
    """Writes the frame count to a file in the output folder (an output node)."""

    type_id = "test.save"
    category = "Input/Output"
    is_output = True
    inputs = (Port("video", VIDEO),)
    outputs = (Port("path", STRING),)
    params = (Param("filename", str, default="clip.txt", kind="save_path"),)

    def run(self, ctx, *, video, filename):
        n = sum(len(block) for block in video.chunks(8))
        path = ctx.output_path(filename)
        path.write_text(str(n))
        ctx.record_output(path)
        return {"path": str(path)}


class Fail(Node):
    """Always fails."""

    type_id = "test.fail"
    category = "Utility"
    is_output = True
    inputs = (Port("image", IMAGE),)
    outputs = (Port("image", IMAGE),)

    def run(self, ctx, *, image):
        raise UsageError("the test node failed on purpose; remove it")


@pytest.fixture
def registry():
    reg = NodeRegistry()
    values.register(reg)
    reg.register_all([Source, Animate, Sink, Save, Fail])
    return reg


@pytest.fixture(scope="session", autouse=True)
def empty_clipboard_at_exit():
    """pytest never quits the QApplication, so aboutToQuit never fires: empty the offscreen clipboard here,
    or the process crashes on exit after a copy test."""
    yield
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is not None:
        QApplication.clipboard().clear()


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings, QStandardPaths

    QStandardPaths.setTestModeEnabled(True)
    QSettings.setDefaultFormat(QSettings.IniFormat)
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, str(tmp_path / "settings"))
    QSettings.setPath(QSettings.NativeFormat, QSettings.UserScope, str(tmp_path / "settings"))  # QSettings(org, app)
    monkeypatch.setattr("gui.files.recovery_dir", lambda: tmp_path / "recovery")
    yield


@pytest.fixture
def window(qtbot, registry, tmp_path):
    from gui.app import make_app
    from gui.main_window import MainWindow

    make_app()
    win = MainWindow(registry, output_dir=tmp_path / "out", restore_layout=False)
    win.ask_save_changes = lambda: __import__("PySide6.QtWidgets").QtWidgets.QMessageBox.Discard
    win.show_error = lambda title, text: win.log.add("error", text)
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    yield win
    if win.runner.busy:
        win.runner.cancel()
        win.runner.wait(5)
    win.stack.set_clean()
