"""Run again when a written file is gone, and Run Again (Force) (issue 14, item 5)."""

from __future__ import annotations

from PySide6.QtCore import QPointF
from test_window import run_and_wait

from nodegraph.edits import Connect
from nodegraph.graph import Link


def saver_chain(win):
    src = win.add_node("test.source", QPointF(0, 0))
    anim = win.add_node("test.animate", QPointF(300, 0))
    save = win.add_node("test.save", QPointF(600, 0))
    win.stack.push(Connect(Link(src, "image", anim, "image")))
    win.stack.push(Connect(Link(anim, "video", save, "video")))
    return src, anim, save


def test_a_deleted_output_file_is_written_again_on_the_next_run(window, qtbot):
    _, _, save = saver_chain(window)
    first = run_and_wait(window, qtbot)
    (path,) = first.files
    assert path.exists()
    path.unlink()
    second = run_and_wait(window, qtbot)
    assert second.executed == [save] and path.exists()
    assert any(f"Wrote {path}" in line for line in window.log.entries())
    assert window.scene.node_items[save].state == "done"


def test_run_again_force_recomputes_the_selection_and_what_it_feeds(window, qtbot):
    src, anim, save = saver_chain(window)
    run_and_wait(window, qtbot)
    assert run_and_wait(window, qtbot).executed == []
    window.select_nodes([anim])
    with qtbot.waitSignal(window.runner.run_done, timeout=20000):
        assert window.run_forced()
    qtbot.waitUntil(lambda: window.runner.idle, timeout=20000)
    result = window.runner.last_result
    assert result.ok and set(result.executed) == {anim, save} and src in result.cached
    window.select_nodes([])
    with qtbot.waitSignal(window.runner.run_done, timeout=20000):
        assert window.force_action.isEnabled() and window.run_forced()
    qtbot.waitUntil(lambda: window.runner.idle, timeout=20000)
    assert set(window.runner.last_result.executed) == {src, anim, save}


def test_a_muted_upstream_node_says_which_nodes_it_held_back(window, qtbot):
    src, anim, save = saver_chain(window)
    window.select_nodes([anim])
    window.view.setFocus()
    window.set_mode_selected("mute")
    result = run_and_wait(window, qtbot)
    assert result.skipped == [anim, save]
    item = window.scene.node_items[save]
    assert item.state == "skipped"
    assert item.message == "not run: it needs Test Animate (animate), which is muted: unmute it (M)"
    assert any(f"({save}) not run: it needs" in line and "muted" in line for line in window.log.entries())
