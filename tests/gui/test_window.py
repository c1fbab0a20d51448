"""The window around the canvas: inspector, files, runs (states, previews, cache, cancel, failure), recovery."""

from __future__ import annotations

import numpy as np
from conftest import Source, texture
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from nodegraph.edits import Connect, SetParam
from nodegraph.graph import Link
from nodegraph.workflow import dumps_workflow


def chain(win, frames: int = 12, delay: float = 0.0) -> tuple[str, str, str]:
    src = win.add_node("test.source", QPointF(0, 0))
    anim = win.add_node("test.animate", QPointF(300, 0))
    sink = win.add_node("test.sink", QPointF(600, 0))
    win.stack.push(Connect(Link(src, "image", anim, "image")))
    win.stack.push(Connect(Link(anim, "video", sink, "video")))
    win.stack.push(SetParam(anim, "frames", frames))
    win.stack.push(SetParam(anim, "delay", delay))
    return src, anim, sink


def run_and_wait(win, qtbot, timeout=20000, to_selected=False):
    with qtbot.waitSignal(win.runner.run_done, timeout=timeout):
        assert (win.run_to_selected() if to_selected else win.run_all())
    qtbot.waitUntil(lambda: win.runner.idle, timeout=timeout)
    return win.runner.last_result


def test_inspector_builds_typed_editors_and_edits_go_through_undo(window, qtbot):
    src, anim, _ = chain(window)
    window.select_nodes([anim])
    editors = window.inspector.editors
    assert type(editors["frames"]).__name__ == "QSpinBox" and editors["frames"].maximum() == 400
    assert type(editors["speed"]).__name__ == "QDoubleSpinBox" and hasattr(editors["speed"], "slider")
    assert type(editors["prompt"]).__name__ == "QPlainTextEdit"
    spin = editors["speed"]
    spin.setFocus()
    spin.selectAll()
    QTest.keyClicks(spin, "2.5")
    QTest.keyClick(spin, Qt.Key_Return)
    assert window.graph.nodes[anim].params["speed"] == 2.5
    assert spin.slider.value() == round(2.5 / 8 * 1000)
    prompt = editors["prompt"]
    prompt.setFocus()
    QTest.keyClicks(prompt, "a cat")
    assert window.graph.nodes[anim].params["prompt"] == "a cat"
    window.stack.undo()  # typing merged into one step
    assert window.graph.nodes[anim].params.get("prompt", "") == ""
    window.stack.undo()
    assert "speed" not in window.graph.nodes[anim].params
    window.select_nodes([src])
    editors = window.inspector.editors
    assert type(editors["look"]).__name__ == "QComboBox"
    editors["look"].setCurrentIndex(1)
    assert window.graph.nodes[src].params["look"] == "fancy"
    before = editors["seed"].value()
    for _ in range(3):
        QTest.mouseClick(editors["seed"].dice, Qt.LeftButton)
        if window.graph.nodes[src].params.get("seed", before) != before:
            break
    assert window.graph.nodes[src].params["seed"] != before


def test_seeds_beyond_32_bits_show_type_and_randomise(window, qtbot):
    src = window.add_node("test.source", QPointF(0, 0))
    window.stack.push(SetParam(src, "seed", 2**40))
    window.select_nodes([src])
    seed = window.inspector.editors["seed"]
    assert seed.value() == 2**40 and seed.lineEdit().text() == str(2**40)
    seed.setFocus()
    seed.lineEdit().selectAll()
    QTest.keyClicks(seed.lineEdit(), str(2**62 + 5))
    QTest.keyClick(seed.lineEdit(), Qt.Key_Return)
    assert window.graph.nodes[src].params["seed"] == 2**62 + 5
    QTest.keyClick(seed, Qt.Key_Up)
    assert window.graph.nodes[src].params["seed"] == 2**62 + 6
    seed.lineEdit().selectAll()
    QTest.keyClicks(seed.lineEdit(), "-3")  # below the minimum 0: refused as it is typed
    QTest.keyClick(seed.lineEdit(), Qt.Key_Return)
    assert window.graph.nodes[src].params["seed"] == 2**62 + 6
    picks = set()
    for _ in range(5):
        QTest.mouseClick(seed.dice, Qt.LeftButton)
        picks.add(window.graph.nodes[src].params["seed"])
    assert all(0 <= p <= 2**63 - 1 for p in picks) and max(picks) > 2**31  # the whole range, not 32 bits


def test_param_shown_as_input_port_takes_a_wire(window, qtbot):
    _, anim, _ = chain(window)
    num = window.add_node("value.int", QPointF(0, 300))
    window.select_nodes([anim])
    QTest.mouseClick(window.inspector.input_toggles["frames"], Qt.LeftButton)
    item = window.scene.node_items[anim]
    assert any(r.name == "frames" and r.is_param for r in item.inputs)
    window.stack.push(Connect(Link(num, "value", anim, "frames")))
    window.select_nodes([anim])
    assert "fed by" in window.inspector.editors["frames"].text()


def test_save_and_reopen_gives_the_same_workflow(window, qtbot, tmp_path):
    chain(window)
    window.select_all()
    window.group_selected("Everything")
    path = tmp_path / "flow.json"
    assert window.save_to(path)
    assert not window.isWindowModified() and "flow.json" in window.windowTitle()
    saved = dumps_workflow(window.graph)
    window.new_file()
    assert not window.graph.nodes
    assert window.open_file(path)
    assert dumps_workflow(window.graph) == saved
    assert window.recent_files()[0] == str(path.resolve())
    assert set(window.scene.node_items) == set(window.graph.nodes) and len(window.scene.group_items) == 1


def test_run_shows_states_thumbnails_previews_and_reruns_only_what_changed(window, qtbot):
    src, anim, sink = chain(window, frames=24)
    result = run_and_wait(window, qtbot)
    assert result.ok and result.outputs[sink]["count"] == 24
    items = window.scene.node_items
    assert [items[n].state for n in (src, anim, sink)] == ["done", "done", "done"]
    assert items[sink].seconds is not None and items[anim].thumbnail is not None  # live frame on the node
    assert any(sink in e and "done" in e for e in window.log.entries())
    window.select_nodes([sink])
    qtbot.waitUntil(lambda: len(window.preview.frames) == 24, timeout=5000)
    first = window.preview.frames[0]
    assert np.array_equal(first, texture(32, 1))
    QTest.mouseClick(window.preview.play_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: window.preview.index > 2, timeout=3000)
    QTest.mouseClick(window.preview.play_button, Qt.LeftButton)
    assert not window.preview.playing
    window.preview.slider.setValue(10)
    assert window.preview.counter.text() == "11 / 24"

    window.stack.push(SetParam(anim, "speed", 3.0))
    runs = _source_runs()
    result = run_and_wait(window, qtbot)
    assert result.cached == [src] and result.executed == [anim, sink]
    assert items[src].state == "cached" and items[anim].state == "done"
    assert _source_runs() == runs


def test_cancel_stops_a_run(window, qtbot):
    _, anim, sink = chain(window, frames=400, delay=0.01)
    window.run_all()
    qtbot.waitUntil(lambda: window.scene.node_items[sink].state == "running", timeout=5000)
    assert window.cancel_action.isEnabled()
    with qtbot.waitSignal(window.runner.run_done, timeout=5000) as blocker:
        window.cancel_action.trigger()
    assert blocker.args[0].status == "cancelled"
    qtbot.waitUntil(lambda: window.runner.idle)
    # the sink and the clip it was pulling were cut off: "stopped" (not "done", nor "running" for ever), with why
    # in their tooltips, and no bar claims half of them
    for node_id in (anim, sink):
        assert window.scene.node_items[node_id].state == "stopped"
        assert "cancelled while it ran" in window.scene.node_items[node_id].toolTip()
    assert all(item.progress is None for item in window.scene.node_items.values())
    assert any("cancelled" in e for e in window.log.entries())


def test_failing_node_turns_red_with_its_message_and_the_log_jumps_to_it(window, qtbot):
    src = window.add_node("test.source", QPointF(0, 0))
    bad = window.add_node("test.fail", QPointF(300, 0))
    window.stack.push(Connect(Link(src, "image", bad, "image")))
    result = run_and_wait(window, qtbot)
    assert result.status == "failed"
    item = window.scene.node_items[bad]
    assert item.state == "failed" and "on purpose" in item.toolTip()
    log = window.log
    row = next(i for i in range(log.count()) if "on purpose" in log.item(i).text())
    window.scene.clearSelection()
    log.setCurrentRow(row)
    log.setFocus()
    QTest.keyClick(log, Qt.Key_Return)
    assert window.scene.selected_ids() == [bad]


def test_invalid_graph_marks_the_nodes_with_problems(window, qtbot):
    sink = window.add_node("test.sink", QPointF(0, 0))
    run_and_wait(window, qtbot)
    assert window.scene.node_items[sink].state == "failed"
    assert "not connected" in window.scene.node_items[sink].toolTip()


def test_autosave_is_offered_back_after_a_crash(window, qtbot, registry, tmp_path):
    from gui.main_window import MainWindow

    chain(window)
    saved = window.autosave()
    assert saved is not None and saved.exists()
    crashed = saved.with_name("autosave-999999-1.json")  # as if left by a process that died
    saved.rename(crashed)
    other = MainWindow(registry, restore_layout=False)
    qtbot.addWidget(other)
    other.ask_recover = lambda path: True
    assert other.offer_recovery()
    assert set(other.graph.nodes) == set(window.graph.nodes) and other.isWindowModified()
    assert not crashed.exists()
    other.stack.set_clean()


def test_a_corrupt_newest_autosave_does_not_lose_an_older_good_one(window, qtbot, registry):
    import os

    from gui.main_window import MainWindow

    chain(window)
    good = window.autosave().rename(window.autosave_path().with_name("autosave-999998-1.json"))
    corrupt = good.with_name("autosave-999999-1.json")
    corrupt.write_text('{"format": "kinograph.workf')  # cut off mid-write
    os.utime(good, (1, 1))  # the older of the two
    other = MainWindow(registry, restore_layout=False)
    qtbot.addWidget(other)
    offered = []
    other.ask_recover = lambda path: offered.append(path.name) or True
    assert other.offer_recovery()
    assert offered == ["autosave-999998-1.json"] and set(other.graph.nodes) == set(window.graph.nodes)
    assert corrupt.exists() and not good.exists()  # nothing deleted unasked
    declined = MainWindow(registry, restore_layout=False)
    qtbot.addWidget(declined)
    declined.ask_recover = lambda path: False
    assert not declined.offer_recovery() and corrupt.exists()
    corrupt.unlink()
    other.stack.set_clean()


def test_kinograph_gui_with_a_file_still_offers_the_crashed_work_first(window, qtbot, tmp_path, monkeypatch):
    import argparse

    from PySide6.QtWidgets import QApplication

    from gui.command import COMMAND
    from gui.main_window import MainWindow

    chain(window)
    crashed = window.autosave().rename(tmp_path / "recovery" / "autosave-999999-1.json")
    other = tmp_path / "other.json"
    other.write_text('{"format": "kinograph.workflow", "version": 1, "nodes": []}')
    shown = []
    monkeypatch.setattr(MainWindow, "ask_recover", lambda self, path: True)
    monkeypatch.setattr(MainWindow, "show", lambda self: shown.append(self))
    monkeypatch.setattr(QApplication, "exec", lambda self: 0)
    parser = argparse.ArgumentParser()
    COMMAND.add_arguments(parser)
    assert COMMAND.run(parser.parse_args([str(other)])) == 0
    (opened,) = shown
    qtbot.addWidget(opened)
    assert set(opened.graph.nodes) == set(window.graph.nodes) and not crashed.exists()  # the work came back
    assert any("other.json was not opened" in e for e in opened.log.entries())
    opened.stack.set_clean()


def test_a_workflow_dropped_on_the_inspector_opens_too(window, qtbot, tmp_path):
    from PySide6.QtCore import QMimeData, QPoint, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    chain(window)
    path = tmp_path / "dropped.json"
    assert window.save_to(path)
    window.new_file()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    target = window.inspector.viewport()  # not the canvas: the drop travels up to the window
    spot = QPoint(20, 20)
    enter = QDragEnterEvent(spot, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(target, enter)
    QApplication.sendEvent(target, QDropEvent(QPointF(spot), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))
    assert len(window.graph.nodes) == 3 and "dropped.json" in window.windowTitle()


def test_a_cached_metrics_node_shows_its_table_and_curves(window, qtbot, registry):
    import nodes.evaluation

    nodes.evaluation.register(registry)
    _, anim, _ = chain(window, frames=12)
    metrics = window.add_node("eval.temporal", QPointF(600, 300))
    window.stack.push(Connect(Link(anim, "video", metrics, "video")))
    assert run_and_wait(window, qtbot).ok
    window.set_graph(window.graph)  # fresh items, as after reopening: no live previews this time
    again = run_and_wait(window, qtbot)
    assert metrics in again.cached
    item = window.scene.node_items[metrics]
    shape = item.thumbnail.width() / item.thumbnail.height()
    assert abs(shape - 512 / (8 + 4 * 96)) < 0.02  # the four-curve plot, not a (square) frame of the clip
    assert item.metrics and "warp_psnr" in item.metrics


def test_closing_with_unsaved_changes_asks(window, qtbot):
    from PySide6.QtWidgets import QMessageBox

    chain(window)
    asked = []
    window.ask_save_changes = lambda: asked.append(1) or QMessageBox.Cancel
    assert not window.close()
    assert asked and window.isVisible()


def test_shortcut_list_in_help(window):
    window.show_shortcuts()
    assert "Ctrl+Z" in window._shortcuts_box.text()
    window._shortcuts_box.close()
    QApplication.processEvents()


def _source_runs() -> int:
    return Source.runs


def test_a_preview_sent_as_a_renderer_is_drawn_on_the_node(window, registry, qtbot):
    """Nodes may hand over a renderer (diffusion sampling does): the editor renders it when it shows it."""
    from nodegraph.node import Node, Port
    from nodegraph.types import IMAGE

    renders = []

    class Steps(Node):
        """Three preview steps, each a renderer over its own value."""

        type_id = "test.render_steps"
        outputs = (Port("image", IMAGE),)
        is_output = True

        def run(self, ctx):
            from nodegraph.media import Image

            for step in range(3):
                def render(step=step):
                    renders.append(step)
                    return np.full((4, 16, 16, 3), 80 * step, np.uint8)
                ctx.preview(render, 8.0)
            return {"image": Image(np.zeros((16, 16, 3), np.uint8))}

    registry.register(Steps)
    node = window.add_node("test.render_steps", QPointF(0, 0))
    assert run_and_wait(window, qtbot).ok
    item = window.scene.node_items[node]
    qtbot.waitUntil(lambda: item.thumbnail is not None, timeout=5000)
    assert renders and renders[-1] == 2 and len(renders) <= 3  # the newest step shown; stale ones skipped
    assert item.thumbnail.pixelColor(0, 0).red() == 160


def test_an_autosave_the_person_discards_is_deleted_and_not_offered_again(window, qtbot, registry):
    from gui.main_window import MainWindow

    chain(window)
    saved = window.autosave().rename(window.autosave_path().with_name("autosave-999997-1.json"))
    first = MainWindow(registry, restore_layout=False)
    qtbot.addWidget(first)
    first.ask_recover = lambda path: False  # keep it for later
    assert not first.offer_recovery() and saved.exists()
    second = MainWindow(registry, restore_layout=False)
    qtbot.addWidget(second)
    second.ask_recover = lambda path: "discard"
    assert not second.offer_recovery() and not saved.exists()
    assert any("Discarded the autosave" in line for line in second.log.entries())

