"""The editor shows what validation finds while editing, before Run (issue 14, items 7 and 10): a cycle's wires
in red above the nodes with the nodes named by title, and a model that is not downloaded."""

from __future__ import annotations

import json

from PySide6.QtCore import QPointF

from gui.canvas.wire_item import ERROR_COLOUR
from nodegraph.edits import Connect, SetParam
from nodegraph.graph import Link


def test_a_cycle_in_a_loaded_file_is_drawn_in_red_over_the_nodes_and_named_by_title(window, qtbot, tmp_path):
    flow = {"format": "kinograph.workflow", "version": 1, "name": "loop",
            "nodes": [{"id": "a", "type": "value.int", "title": "Start", "ui": {"x": 0, "y": 0}},
                      {"id": "b", "type": "value.int", "ui": {"x": 300, "y": 0}},
                      {"id": "c", "type": "value.int", "title": "End", "ui": {"x": 600, "y": 0}}],
            "links": [{"from": "a.value", "to": "b.value"}, {"from": "b.value", "to": "c.value"},
                      {"from": "c.value", "to": "a.value"}]}
    path = tmp_path / "loop.json"
    path.write_text(json.dumps(flow))
    assert window.open_file(path)
    qtbot.waitUntil(lambda: any(w.problem for w in window.scene.wire_items.values()), timeout=3000)
    wires = window.scene.wire_items
    assert all(w.problem and w.zValue() > window.scene.node_items["a"].zValue() for w in wires.values())
    assert all(w.pen().color().name() == ERROR_COLOUR.lower() for w in wires.values())
    back = next(w for link, w in wires.items() if link.src == "c")
    lowest_node = max(i.sceneBoundingRect().bottom() for i in window.scene.node_items.values())
    assert back.path().boundingRect().bottom() > lowest_node  # the way back runs under the nodes, not behind
    problems = [p for item in window.scene.node_items.values() for p in item.problems]
    assert len(problems) == 1 and "End (c) -> Start (a)" in problems[0] and "Integer (b)" in problems[0]
    back_link = next(link for link in wires if link.src == "c")
    from nodegraph.edits import Disconnect

    window.stack.push(Disconnect(back_link))
    window.check_graph()
    assert not any(w.problem for w in window.scene.wire_items.values())
    assert not any(item.problems for item in window.scene.node_items.values())


def test_a_node_with_a_problem_shows_it_before_run_and_loses_it_when_fixed(window, qtbot):
    anim = window.add_node("test.animate", QPointF(0, 0))
    window.check_graph()
    assert "required input 'image'" in window.scene.node_items[anim].problems[0]
    src = window.add_node("test.source", QPointF(-300, 0))
    window.stack.push(Connect(Link(src, "image", anim, "image")))
    window.stack.push(SetParam(anim, "frames", 3))
    qtbot.waitUntil(lambda: not window.scene.node_items[anim].problems, timeout=3000)


def test_a_model_that_is_not_downloaded_is_marked_before_run(qtbot, tmp_path, monkeypatch):
    from gui.app import make_app
    from gui.main_window import MainWindow
    from nodegraph.registry import default_registry

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    make_app()
    win = MainWindow(default_registry(), output_dir=tmp_path / "out", restore_layout=False)
    qtbot.addWidget(win)
    node = win.add_node("model.load", QPointF(0, 0))
    win.stack.push(SetParam(node, "source", "kinograph-tests/no-such-model"))
    win.check_graph()
    notices = win.scene.node_items[node].notices
    assert notices and notices[0].startswith("not downloaded: source 'kinograph-tests/no-such-model'")
    assert "hf download kinograph-tests/no-such-model" in notices[0]
    assert not win.scene.node_items[node].problems  # a note, not a problem: the first run may download it
    win.stack.set_clean()
