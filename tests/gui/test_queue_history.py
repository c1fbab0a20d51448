"""A queue with history (issue 20): Run while a run goes queues a snapshot, Run ×N queues N with seeds one
apart, finished runs are listed with their files and open again, also after a restart."""

from __future__ import annotations

from PySide6.QtCore import QPointF
from test_window import chain

from gui.main_window import MainWindow
from nodegraph.edits import SetParam


def wait_idle(win, qtbot, timeout=30000):
    qtbot.waitUntil(lambda: not win.runner.busy and not win.runner.pending, timeout=timeout)
    qtbot.wait(50)


def test_run_during_a_run_queues_the_graph_as_it_was_then(window, qtbot):
    src, anim, sink = chain(window, frames=30, delay=0.01)
    assert window.run_all()
    window.stack.push(SetParam(anim, "frames", 5))  # edited while the first run goes
    assert window.run_all()
    assert len(window.runner.pending) == 1 and "1 waiting" in window.queue_panel.queue_label.text()
    wait_idle(window, qtbot)
    entries = window.history.entries()
    assert [e.status for e in entries] == ["succeeded", "succeeded"]
    assert window.runner.last_result.outputs[sink]["count"] == 5  # the second run ran the edited graph
    assert window.queue_panel.finished.count() == 2


def test_run_many_queues_copies_with_seeds_one_apart(window, qtbot):
    src, anim, sink = chain(window, frames=4)
    window.stack.push(SetParam(src, "seed", 7))
    seeds = []
    window.runner.run_started.connect(lambda job: seeds.append(job.graph.nodes[src].params["seed"]))
    assert window.run_many(3) == 3
    wait_idle(window, qtbot)
    assert seeds == [7, 8, 9] and window.graph.nodes[src].params["seed"] == 7
    assert [e.name for e in window.history.entries()][0].endswith("#3 of 3")


def test_a_finished_run_opens_again_after_a_restart(window, qtbot, registry, tmp_path):
    src, anim, sink = chain(window, frames=6)
    window.stack.push(SetParam(anim, "speed", 2.5))
    window.run_all()
    wait_idle(window, qtbot)
    window.stack.set_clean()
    later = MainWindow(registry, output_dir=tmp_path / "out", restore_layout=False)  # a new session
    qtbot.addWidget(later)
    assert later.queue_panel.finished.count() == 1
    item = later.queue_panel.finished.item(0)
    assert "succeeded" not in item.text() and "✓" in item.text() and not item.icon().isNull()
    later.queue_panel.finished.itemActivated.emit(item)
    assert set(later.graph.nodes) == {src, anim, sink}
    assert later.graph.nodes[anim].params["speed"] == 2.5 and later.path is None
    later.stack.set_clean()


def test_a_queued_run_can_be_taken_out_before_it_starts(window, qtbot):
    chain(window, frames=30, delay=0.01)
    window.run_all()
    window.run_all()
    window.run_all()
    assert len(window.runner.pending) == 2
    window.queue_panel.queued.setCurrentRow(2)
    window.queue_panel.remove_button.click()
    assert len(window.runner.pending) == 1
    wait_idle(window, qtbot)
    assert len(window.history.entries()) == 2


def test_new_document_drops_the_queue(window, qtbot):
    chain(window, frames=40, delay=0.01)
    window.run_all()
    window.run_all()
    window.new_file()
    assert not window.runner.pending
    window.add_node("test.source", QPointF(0, 0))
