"""Subgraphs in the editor: make one of a selection, enter it by double-click, leave by the breadcrumb, unpack it;
one undo stack covers all of it, and a run shows on the inner nodes inside and on the instance outside."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from nodegraph.edits import Connect, SetParam
from nodegraph.graph import Link
from nodegraph.workflow import workflow_to_dict


def node_point(win, node_id: str):
    item = win.scene.node_items[node_id]
    return win.view.mapFromScene(item.mapToScene(QPointF(60, 8)))


def build(win) -> None:
    for node_id, type_id, x in (("source", "test.source", 0), ("animate", "test.animate", 260),
                                ("sink", "test.sink", 520)):
        assert win.add_node(type_id, QPointF(x, 0)) == node_id
    win.stack.push(SetParam("animate", "frames", 6))
    win.stack.push(Connect(Link("source", "image", "animate", "image")))
    win.stack.push(Connect(Link("animate", "video", "sink", "video")))
    win.view.resetTransform()
    win.view.centerOn(260, 60)
    QApplication.processEvents()


def run(win, qtbot) -> dict:
    assert win.run_all()
    qtbot.waitUntil(lambda: win.runner.idle, timeout=20000)
    return {k: v["count"] for k, v in win.runner.last_result.outputs.items() if k.endswith("sink")}


def test_make_enter_leave_unpack_with_undo_and_runs_inside_and_out(window, qtbot):
    build(window)
    original = workflow_to_dict(window.document, window.registry)
    assert run(window, qtbot) == {"sink": 6}

    window.select_nodes(["animate"])

    def choose(dialog):
        dialog.name_edit.setText("slide")
        for i in range(dialog.params.count()):
            if dialog.params.item(i).data(Qt.UserRole) == ("animate", "frames"):
                dialog.params.item(i).setCheckState(Qt.Checked)
        return True

    window.ask_promote = choose
    assert window.make_subgraph() == "slide"
    item = window.scene.node_items["slide"]
    assert [r.name for r in item.outputs] == ["video"] and item.cls.param("frames").default == 6
    assert {(lk.from_ref, lk.to_ref) for lk in window.document.links} == {
        ("source.image", "slide.image"), ("slide.video", "sink.video")}
    assert len(window.scene.wire_items) == 2
    made = workflow_to_dict(window.document, window.registry)

    window.stack.push(SetParam("slide", "frames", 4))  # the promoted param, set on the instance
    shown = []
    item.set_progress = lambda done, total: shown.append((done, total))
    assert run(window, qtbot) == {"sink": 4}
    assert item.state == "done" and shown[-1] == (1, 1)  # the aggregate of what is inside

    QTest.mouseDClick(window.view.viewport(), Qt.LeftButton, Qt.NoModifier, node_point(window, "slide"))
    assert window.level_path == ("slide",) and set(window.scene.node_items) == {"animate"}
    assert window.breadcrumb.isVisible() and [b.text() for b in window.breadcrumb.buttons] == ["Untitled", "slide"]
    assert run(window, qtbot) == {"sink": 4}
    assert window.scene.node_items["animate"].state == "cached"  # progress shows on the inner node, inside

    window.stack.push(SetParam("animate", "speed", 2.0))  # an edit inside the definition
    assert window.document.subgraphs["slide"].graph.nodes["animate"].params["speed"] == 2.0
    window.stack.undo()
    assert "speed" not in window.document.subgraphs["slide"].graph.nodes["animate"].params

    window.breadcrumb.buttons[0].click()
    assert window.level_path == () and "slide" in window.scene.node_items
    window.stack.undo()  # the promoted value
    assert workflow_to_dict(window.document, window.registry) == made

    window.select_nodes(["slide"])
    placed = window.unpack_selected()
    assert placed == ["animate"] and window.document.subgraphs == {}
    assert run(window, qtbot) == {"sink": 6}
    window.stack.undo()
    assert workflow_to_dict(window.document, window.registry) == made
    window.stack.undo()
    assert workflow_to_dict(window.document, window.registry) == original
    assert set(window.scene.node_items) == {"source", "animate", "sink"}


def test_undoing_the_make_while_inside_goes_back_to_the_workflow(window, qtbot):
    build(window)
    window.select_nodes(["source", "animate"])
    assert window.make_subgraph("pair", []) == "pair"
    assert window.enter_subgraph("pair") and set(window.scene.node_items) == {"source", "animate"}
    window.stack.undo()
    assert window.level_path == () and set(window.scene.node_items) == {"source", "animate", "sink"}


def test_a_subgraph_saved_to_my_subgraphs_is_offered_in_the_palette_and_tab_search(window, qtbot, tmp_path):
    from nodegraph.graph import Graph

    build(window)
    window.select_nodes(["animate"])
    assert window.make_subgraph("slide", [("animate", "frames")]) == "slide"
    path = window.save_to_library("slide")
    assert path.name == "slide.kgsub.json" and path.parent == tmp_path / "subgraphs"
    assert "subgraph:slide" in window.palette.items

    window.set_graph(Graph("Fresh"))
    window.search.open_at(window.mapToGlobal(window.rect().center()), QPointF(0, 0))
    window.search.field.setText("slide")
    assert window.search.type_ids()[0] == "subgraph:slide"
    window.search.hide()
    for node_id, type_id, x in (("source", "test.source", 0), ("sink", "test.sink", 520)):
        assert window.add_node(type_id, QPointF(x, 0)) == node_id
    assert window.add_node("subgraph:slide", QPointF(260, 0)) == "slide"
    assert window.document.subgraphs["slide"].path is None  # its content, not a reference to the user's folder
    window.stack.push(Connect(Link("source", "image", "slide", "image")))
    window.stack.push(Connect(Link("slide", "video", "sink", "video")))
    assert run(window, qtbot) == {"sink": 6}
    window.stack.undo()
    window.stack.undo()
    window.stack.undo()
    assert "slide" not in window.document.nodes and window.document.subgraphs == {}


def test_a_copied_subgraph_node_pastes_into_another_workflow_with_its_definition(window, qtbot):
    from nodegraph.graph import Graph

    build(window)
    window.select_nodes(["animate"])
    window.make_subgraph("slide", [("animate", "frames")])
    window.select_nodes(["slide"])
    assert window.copy_selected()
    window.set_graph(Graph("Other"))
    assert window.paste(QPointF(0, 0)) == ["slide"]
    assert set(window.document.subgraphs) == {"slide"}
    assert [r.name for r in window.scene.node_items["slide"].outputs] == ["video"]
    window.stack.undo()  # one step takes both away
    assert window.document.nodes == {} and window.document.subgraphs == {}


def test_entering_and_leaving_an_instance_after_a_run_shows_what_the_run_did_there(window, qtbot):
    build(window)
    window.select_nodes(["source", "animate"])
    assert window.make_subgraph("pair", []) == "pair"
    window.stack.push(SetParam("sink", "chunk", 2))
    assert run(window, qtbot) == {"sink": 6}
    window.stack.push(SetParam("sink", "chunk", 3))  # the inner nodes come from the cache now
    assert run(window, qtbot) == {"sink": 6}
    assert window.scene.node_items["pair"].state == "done"
    assert window.enter_subgraph("pair")
    assert {n: i.state for n, i in window.scene.node_items.items()} == {"source": "cached", "animate": "cached"}
    window.leave_subgraph()
    assert window.scene.node_items["pair"].state == "done" and window.scene.node_items["sink"].state == "done"


def test_bypassing_a_subgraph_node_lets_the_run_through_it_and_b_again_turns_it_back(window, qtbot):
    for node_id, type_id, x in (("source", "test.source", 0), ("fail", "test.fail", 200),
                                ("animate", "test.animate", 400), ("sink", "test.sink", 600)):
        assert window.add_node(type_id, QPointF(x, 0)) == node_id
    window.stack.push(SetParam("animate", "frames", 6))
    for link in (Link("source", "image", "fail", "image"), Link("fail", "image", "animate", "image"),
                 Link("animate", "video", "sink", "video")):
        window.stack.push(Connect(link))
    window.select_nodes(["fail"])
    window.ask_promote = lambda dialog: (dialog.name_edit.setText("broken"), True)[1]
    assert window.make_subgraph() == "broken"
    assert run(window, qtbot) == {} and window.runner.last_result.status == "failed"

    window.select_nodes(["broken"])
    window.set_mode_selected("bypass")  # B, as on any node
    assert window.document.nodes["broken"].mode == "bypass"
    assert window.check_graph() == [] and window.scene.node_items["broken"].problems == []
    assert run(window, qtbot) == {"sink": 6}
    assert window.runner.last_result.status == "succeeded"
    inner = window.document.subgraphs["broken"].graph.nodes
    assert all(node.mode == "normal" for node in inner.values())  # the definition is as it was
    window.set_mode_selected("bypass")
    assert window.document.nodes["broken"].mode == "normal"
    window.stack.undo()
    assert window.document.nodes["broken"].mode == "bypass"
