"""Tabs (issue 20): several workflows open at once, each with its own undo stack, file and run results; copy and
paste between them; a run keeps going when its tab goes to the back and shows only on its own tab; closing a tab
with unsaved work asks first."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox
from test_window import chain

from nodegraph.edits import SetParam


def trigger(window, text: str) -> None:
    """Use a menu action as a person would (by its shortcut's action)."""
    actions = window.findChildren(type(window.undo_action))
    action = next(a for a in actions if a.text().replace("&", "").startswith(text))
    action.trigger()


def test_each_tab_has_its_own_graph_and_undo(window, qtbot):
    first = window.add_node("test.source", QPointF(0, 0))
    assert window.tab_bar.tabText(0) == "Untitled *"
    trigger(window, "New Tab")
    assert window.tab_bar.count() == 2 and window.tab_bar.currentIndex() == 1
    assert not window.graph.nodes and window.windowTitle().startswith("Untitled")
    second = window.add_node("test.animate", QPointF(0, 0))
    sink = window.add_node("test.sink", QPointF(300, 0))
    trigger(window, "Undo")
    assert list(window.graph.nodes) == [second]  # only this tab's last edit was undone
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key_Tab, Qt.ControlModifier)  # Ctrl+Tab on the canvas: the first tab again
    assert window.tab_bar.currentIndex() == 0 and list(window.graph.nodes) == [first]
    assert set(window.scene.node_items) == {first}
    trigger(window, "Undo")
    assert not window.graph.nodes and window.tab_bar.tabText(0) == "Untitled"
    trigger(window, "Redo")
    window.next_tab()
    trigger(window, "Redo")  # the second tab's redo brings its sink back
    assert set(window.graph.nodes) == {second, sink}


def test_copy_in_one_tab_and_paste_in_another(window, qtbot):
    src, anim, _ = chain(window)
    window.select_nodes([src, anim])
    assert window.copy_selected()
    window.new_tab()
    assert len(window.paste()) == 2
    assert {window.graph.nodes[n].type for n in window.graph.nodes} == {"test.source", "test.animate"}
    assert len(window.graph.links) == 1  # the wire between them came along
    trigger(window, "Undo")
    assert not window.graph.nodes
    window.next_tab()
    assert len(window.graph.nodes) == 3  # the first tab is as it was


def test_a_run_goes_on_in_its_tab_and_shows_only_there(window, qtbot):
    src, anim, sink = chain(window, frames=24, delay=0.03)
    first = window.tab
    with qtbot.waitSignal(window.runner.run_started, timeout=5000):
        window.run_all()
    window.new_tab()
    twin = window.add_node("test.source", QPointF(0, 0))  # the same id as the running tab's source
    assert twin == src
    qtbot.waitUntil(lambda: window.runner.idle, timeout=20000)
    assert window.scene.node_items[twin].state == "idle"  # the other tab's run never painted this node
    assert not window.tab.outputs and sink in first.outputs
    assert any("its results are on that tab" in line for line in window.log.entries())
    window.next_tab()
    assert window.tab is first and window.scene.node_items[sink].state == "done"


def test_new_in_one_tab_does_not_stop_another_tabs_run(window, qtbot):
    src, anim, sink = chain(window, frames=24, delay=0.03)
    first = window.tab
    with qtbot.waitSignal(window.runner.run_started, timeout=5000):
        window.run_all()
    window.new_tab()
    window.add_node("test.source", QPointF(0, 0))
    window.new_file()  # replaces this tab's graph (its changes discarded by the test's answer)
    qtbot.waitUntil(lambda: window.runner.idle, timeout=20000)
    assert first.outputs[sink]["count"] == 24  # the first tab's run finished


def test_closing_a_tab_with_unsaved_work_asks(window, qtbot):
    window.add_node("test.source", QPointF(0, 0))
    window.new_tab()
    window.add_node("test.sink", QPointF(0, 0))
    kept = list(window.documents[0].graph.nodes)
    window.ask_save_changes = lambda: QMessageBox.Cancel
    assert not window.close_tab() and window.tab_bar.count() == 2
    window.ask_save_changes = lambda: QMessageBox.Discard
    trigger(window, "Close Tab")
    assert window.tab_bar.count() == 1 and list(window.graph.nodes) == kept
    assert window.close_tab()  # the last tab leaves a fresh Untitled one
    assert window.tab_bar.count() == 1 and not window.graph.nodes and window.stack.is_clean()


def test_open_in_new_tab_reuses_only_a_fresh_untitled_tab(window, qtbot, tmp_path, registry):
    from nodegraph.graph import Graph, NodeInstance
    from nodegraph.workflow import save_workflow

    for name in ("one", "two"):
        graph = Graph(name)
        graph.add_node(NodeInstance("n", "test.source", {}))
        save_workflow(graph, tmp_path / f"{name}.json", registry)
    assert window.open_in_new_tab(tmp_path / "one.json")
    assert window.tab_bar.count() == 1 and window.tab_bar.tabText(0) == "one.json"
    window.ask_open_path = lambda start: str(tmp_path / "two.json")
    trigger(window, "Open in New Tab…")
    assert window.tab_bar.count() == 2 and window.path.name == "two.json"
    window.next_tab()
    assert window.path.name == "one.json" and window.graph.name == "one"


def test_a_tab_inside_a_subgraph_comes_back_at_its_top_level_with_its_undo(window, qtbot):
    from test_subgraphs import build

    build(window)
    window.select_nodes(["animate"])
    window.ask_promote = lambda dialog: (dialog.name_edit.setText("slide"), True)[1]
    assert window.make_subgraph() == "slide"
    assert window.enter_subgraph("slide") and window.level_path == ("slide",)
    assert "animate" in window.graph.nodes and len(window.breadcrumb.buttons) == 2
    trigger(window, "New Tab")
    assert window.level_path == () and not window.graph.nodes and window.breadcrumb.isHidden()
    window.next_tab()
    assert window.level_path == () and window.graph is window.document and "slide" in window.graph.nodes
    assert set(window.scene.node_items) == {"source", "slide", "sink"}
    trigger(window, "Undo")  # the first tab's stack: making the subgraph is undone
    assert "animate" in window.document.nodes and "slide" not in window.document.nodes


def test_a_tab_that_comes_back_shows_its_last_runs_states(window, qtbot):
    src, anim, sink = chain(window)
    window.run_all()
    qtbot.waitUntil(lambda: window.runner.idle, timeout=20000)
    window.stack.push(SetParam(anim, "speed", 3.0))
    window.run_all()
    qtbot.waitUntil(lambda: window.runner.idle, timeout=20000)
    window.new_tab()
    window.next_tab()
    assert [window.scene.node_items[n].state for n in (src, anim, sink)] == ["cached", "done", "done"]
    assert window.scene.node_items[sink].seconds is not None
