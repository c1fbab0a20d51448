"""The Sweep dialog on a param: values checked as typed, one queued run per value into its own folder, and the
contact sheet shown when the last run finishes."""

from __future__ import annotations

from pathlib import Path

from conftest import Source
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QDialogButtonBox, QToolButton

import nodes.io
from gui.sweep import SweepDialog
from nodegraph.edits import Connect, SetParam
from nodegraph.graph import Link


def test_a_sweep_queues_one_run_per_value_and_shows_the_contact_sheet(window, registry, qtbot):
    nodes.io.register(registry)  # the real video.save, and the contact sheet service
    src = window.add_node("test.source", QPointF(0, 0))
    anim = window.add_node("test.animate", QPointF(300, 0))
    save = window.add_node("video.save", QPointF(600, 0))
    window.stack.push(Connect(Link(src, "image", anim, "image")))
    window.stack.push(Connect(Link(anim, "video", save, "video")))
    window.stack.push(SetParam(anim, "frames", 6))
    window.select_nodes([anim])
    Source.runs = 0

    button = window.inspector.findChild(QToolButton, "sweep:speed")
    qtbot.mouseClick(button, Qt.LeftButton)
    dialog = window.findChild(SweepDialog)
    assert dialog is not None and dialog.isVisible() and dialog.windowTitle() == f"Sweep {anim}.speed"
    ok = dialog.buttons.button(QDialogButtonBox.Ok)
    qtbot.keyClicks(dialog.values, "0.5, 9")
    assert not ok.isEnabled() and dialog.status.text().startswith("9.0 is above the maximum 8")
    dialog.values.clear()
    qtbot.keyClicks(dialog.values, "0.5, 1, 2")
    assert ok.isEnabled() and dialog.status.text().startswith("3 runs")

    with qtbot.waitSignal(window.sweeps.sheet_ready, timeout=60000) as sheet:
        qtbot.mouseClick(ok, Qt.LeftButton)
    files = sheet.args[0]
    out = Path(window.runner.scheduler.output_dir)
    assert [f.name for f in files] == ["contact_sheet.mp4", "contact_sheet.png"]
    assert files[0].parent == out / "sweep_1"
    assert sorted(p.parent.name for p in (out / "sweep_1").glob("*/video.mp4")) == [
        "1_speed-0.5", "2_speed-1", "3_speed-2"]
    assert Source.runs == 1  # upstream of the swept param: run once, then from the cache
    assert window.sweeps.sheet.isVisible() and not window.sweeps.sheet.picture.pixmap().isNull()
    assert window.sweeps.sheet.picture.pixmap().width() == 2 * 320  # three variants on a 2 x 2 grid
    assert window.history.entries()[0].name.startswith("sweep: ")
