"""The real node library in the editor: run the default workflow, reopen the video it saved, screenshot."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication

from nodegraph import default_registry
from nodegraph.edits import SetParam

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "resources" / "workflows" / "animate_image.json"
NEEDED = ("image.load", "motion.camera", "video.interpolate", "video.resize", "video.save")


@pytest.fixture
def real_registry():
    reg = default_registry()
    missing = [t for t in NEEDED if t not in reg]
    if missing:
        pytest.skip(f"node packs not installed yet: {', '.join(missing)}")
    return reg


def pipeline_file(tmp_path: Path) -> Path:
    """The default workflow, made short; built from the node ids when the file is not there yet."""
    if DEFAULT.exists():
        data = json.loads(DEFAULT.read_text())
        for node in data["nodes"]:
            if node["type"] == "motion.camera":
                node["params"]["frames"] = 10
            if node["type"] == "image.load" and not Path(node["params"].get("path", "")).is_absolute():
                node["params"]["path"] = str((DEFAULT.parent / node["params"]["path"]).resolve())
    else:
        import importlib.util

        spec = importlib.util.spec_from_file_location("bench_gui", ROOT / "bench" / "gui.py")
        bench = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(bench)
        data = bench.pipeline_workflow(10)
    path = tmp_path / "animate.json"
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def real_window(qtbot, real_registry, tmp_path):
    from gui.main_window import MainWindow

    win = MainWindow(real_registry, output_dir=tmp_path / "out", restore_layout=False)
    win.ask_save_changes = lambda: __import__("PySide6.QtWidgets").QtWidgets.QMessageBox.Discard
    qtbot.addWidget(win)
    win.show()
    yield win
    if win.runner.busy:
        win.runner.cancel()
        win.runner.wait(10)
    win.stack.set_clean()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_default_workflow_runs_with_states_previews_and_a_video_that_reopens(real_window, qtbot, tmp_path):
    win = real_window
    assert win.open_file(pipeline_file(tmp_path))
    camera = next(n.id for n in win.graph.nodes.values() if n.type == "motion.camera")
    resize = next(n.id for n in win.graph.nodes.values() if n.type == "video.resize")
    with qtbot.waitSignal(win.runner.run_done, timeout=60000):
        win.run_all()
    result = win.runner.last_result
    assert result.ok, result.error
    items = win.scene.node_items
    assert all(items[n].state == "done" for n in result.executed)
    assert items[camera].thumbnail is not None
    videos = [p for p in result.files if p.suffix in (".mp4", ".mkv", ".mov", ".webm")]
    assert videos and videos[0].stat().st_size > 0
    assert any("Wrote" in e for e in win.log.entries())
    win.select_nodes([resize])
    qtbot.waitUntil(lambda: len(win.preview.frames) >= 10, timeout=20000)

    first_scale = win.graph.nodes[resize].params.get("scale", 1.0)
    assert first_scale != 0.5
    win.stack.push(SetParam(resize, "scale", 0.5))
    with qtbot.waitSignal(win.runner.run_done, timeout=60000):
        win.run_all()
    again = win.runner.last_result
    assert camera in again.cached and resize in again.executed
    assert items[camera].state == "cached"

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(videos[0]))])
    enter = QDragEnterEvent(QPoint(200, 200), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(win.view.viewport(), enter)
    drop = QDropEvent(QPointF(200, 200), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(win.view.viewport(), drop)
    assert any("embedded" in e for e in win.log.entries())
    assert f"from {videos[0].name}" in win.windowTitle()  # which video the open graph came from
    assert {n.type for n in win.graph.nodes.values()} >= set(NEEDED)
    # The dropped video carries the workflow of the first run, not the edited one.
    assert win.graph.nodes[resize].params.get("scale", 1.0) == first_scale


def test_screenshot_command_runs_and_saves_a_picture(real_registry, tmp_path, qtbot):
    from gui.command import COMMAND

    parser = argparse.ArgumentParser()
    COMMAND.add_arguments(parser)
    png = tmp_path / "shot.png"
    args = parser.parse_args([str(pipeline_file(tmp_path)), "--screenshot", str(png), "--run",
                              "--output-dir", str(tmp_path / "out")])
    assert COMMAND.run(args) == 0
    image = QImage(str(png))
    assert image.width() >= 1200 and image.height() >= 800


def test_the_screenshot_command_exits_cleanly_while_the_preview_still_decodes(tmp_path):
    """As a process: a preview decoder still running at exit used to abort it ('terminate called without an
    active exception', exit 134) after the picture was saved. The full-length default clip keeps it busy."""
    import os
    import subprocess
    import sys

    workflow = tmp_path / "animate.json"
    workflow.write_text(DEFAULT.read_text().replace('"../images/', f'"{DEFAULT.parent.parent}/images/'))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.pop("DISPLAY", None)
    done = subprocess.run([sys.executable, "-m", "nodegraph.cli", "gui", str(workflow), "--run", "--screenshot",
                           str(tmp_path / "shot.png"), "--output-dir", str(tmp_path / "out")],
                          capture_output=True, text=True, env=env, timeout=180)
    assert done.returncode == 0, done.stderr[-600:]
    assert (tmp_path / "shot.png").stat().st_size > 10_000
