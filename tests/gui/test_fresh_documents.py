"""New and Open start clean, and the editor refuses what `kinograph validate` refuses (issue 14, items 1 and 2)."""

from __future__ import annotations

import json

from PySide6.QtCore import QPointF
from test_window import chain, run_and_wait

from nodegraph.edits import RemoveNodes


def test_new_and_open_start_with_no_results_previews_log_or_status_of_the_previous_graph(window, qtbot, tmp_path):
    src, anim, sink = chain(window, frames=24)
    assert run_and_wait(window, qtbot).ok
    window.select_nodes([sink])
    qtbot.waitUntil(lambda: len(window.preview.frames) == 24, timeout=5000)
    window.preview.slider.setValue(20)
    assert window.preview.counter.text() == "21 / 24" and window.log.count()

    window.new_file()
    assert window.preview.counter.text() == "0 / 0" and not window.preview.frames
    assert window.log.count() == 0 and window.run_status.text() == "Idle"
    fresh = window.add_node("test.sink", QPointF(0, 0))  # takes the old sink's id
    assert fresh == sink
    window.select_nodes([fresh])
    assert not window.preview.frames and window.preview.source_id is None
    assert "no picture" not in window.preview.picture.text().lower()  # it never ran: nothing to show

    other = tmp_path / "other.json"
    window.save_to(other)
    window.new_file()
    chain(window)
    assert run_and_wait(window, qtbot).ok
    assert window.open_file(other)
    assert not window.runner.outputs and window.log.count() == 0 and window.run_status.text() == "Idle"


def test_a_deleted_node_leaves_no_results_for_the_next_node_with_its_id(window, qtbot):
    src, anim, sink = chain(window)
    assert run_and_wait(window, qtbot).ok
    window.stack.push(RemoveNodes([src]))
    again = window.add_node("test.source", QPointF(0, 0))
    assert again == src and again not in window.runner.outputs


def test_a_run_cancelled_by_new_reports_nothing_into_the_new_document(window, qtbot):
    chain(window, frames=200, delay=0.02)
    assert window.run_all()
    qtbot.waitUntil(lambda: window.run_status.text() == "Running…", timeout=3000)
    window.new_file()
    qtbot.wait(300)
    assert window.log.count() == 0 and not window.runner.outputs
    assert window.run_action.isEnabled() and not window.cancel_action.isEnabled()


def test_a_workflow_that_validate_rejects_is_not_run_in_the_editor(window, qtbot, tmp_path):
    flow = {"format": "kinograph.workflow", "version": 1, "name": "twins",
            "nodes": [{"id": "src", "type": "test.source"}, {"id": "src", "type": "test.source"},
                      {"id": "anim", "type": "test.animate"}, {"id": "sink", "type": "test.sink"}],
            "links": [{"from": "src.image", "to": "anim.image"}, {"from": "anim.video", "to": "sink.video"}]}
    path = tmp_path / "twins.json"
    path.write_text(json.dumps(flow))
    assert window.open_file(path)
    assert any("duplicate node id" in line for line in window.log.entries())  # said on opening
    assert window.graph.copy().load_issues  # the run's snapshot keeps them
    result = run_and_wait(window, qtbot)
    assert result is None or not result.ok
    assert window.run_status.text() == "Not run: the graph has problems"
    assert window.scene.node_items["src"].state == "failed"

    window.save_to(tmp_path / "fixed.json")  # what the editor shows is now the file: it runs
    assert run_and_wait(window, qtbot).ok
