"""Right-click menus on the canvas, nodes, wires and groups (issue 20), driven through their actions."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from test_window import chain


def action(menu, *path):
    """The action at `path` ("Add Node", "Dynamics", "Test Animate") in a menu."""
    for name in path[:-1]:
        menu = next(a.menu() for a in menu.actions() if a.menu() and a.text() == name)
    return next(a for a in menu.actions() if a.text().split("\t")[0] == path[-1])


def centre(win, node_id):
    return win.scene.node_items[node_id].sceneBoundingRect().center()


def test_the_canvas_menu_adds_a_node_where_it_was_opened_and_pastes_there(window):
    where = QPointF(500, 300)
    menu = window.context_menu_at(where)
    action(menu, "Add Node", "Dynamics", "Test Animate").trigger()
    (node_id,) = window.graph.nodes
    assert window.graph.nodes[node_id].ui == {"x": 500, "y": 300}
    window.copy_selected()
    action(window.context_menu_at(QPointF(900, 600)), "Paste Here").trigger()
    assert len(window.graph.nodes) == 2
    pasted = next(n for n in window.graph.nodes.values() if n.id != node_id)
    assert (pasted.ui["x"], pasted.ui["y"]) == (900, 600)
    action(window.context_menu_at(QPointF(-900, -900)), "Select All").trigger()
    assert len(window.scene.selected_ids()) == 2


def test_the_node_menu_mutes_renames_colours_exposes_params_and_undoes(window, qtbot):
    src, anim, sink = chain(window)
    window.select_nodes([src])
    menu = window.context_menu_at(centre(window, anim))
    assert window.scene.selected_ids() == [anim]  # right-click selects what it points at
    action(menu, "Mute").trigger()
    assert window.graph.nodes[anim].mode == "mute"
    assert action(window.context_menu_at(centre(window, anim)), "Mute").isChecked()
    window.ask_text = lambda title, label, text: "Slide it"
    action(window.context_menu_at(centre(window, anim)), "Rename…").trigger()
    assert window.graph.nodes[anim].title == "Slide it" and window.scene.node_items[anim].title == "Slide it"
    action(window.context_menu_at(centre(window, anim)), "Colour", "Green").trigger()
    assert window.graph.nodes[anim].ui["color"] == "#2e7d32"
    assert window.scene.node_items[anim].colour.name() == "#2e7d32"
    action(window.context_menu_at(centre(window, anim)), "Params as Inputs", "frames").trigger()
    assert any(r.name == "frames" and r.is_param for r in window.scene.node_items[anim].inputs)
    for _ in range(4):
        window.stack.undo()
    node = window.graph.nodes[anim]
    assert node.mode == "normal" and not node.title and "color" not in node.ui and "inputs" not in node.ui


def test_run_to_here_runs_only_what_the_node_needs(window, qtbot):
    src, anim, sink = chain(window)
    menu = window.context_menu_at(centre(window, anim))
    with qtbot.waitSignal(window.runner.run_done, timeout=20000):
        action(menu, "Run to Here").trigger()
    qtbot.waitUntil(lambda: window.runner.idle, timeout=20000)
    assert set(window.runner.last_result.executed) == {src, anim}


def test_the_wire_menu_inserts_a_node_on_the_wire_or_deletes_it(window, qtbot):
    src, anim, sink = chain(window)
    wire = next(w for link, w in window.scene.wire_items.items() if link.dst == sink)
    middle = wire.path().pointAtPercent(0.5)
    menu = window.context_menu_at(middle)
    action(menu, "Insert Node…").trigger()
    assert window.search.isVisible() and window.search.type_ids() == ["test.sink"]  # VIDEO in, VIDEO out
    QTest.keyClick(window.search.field, Qt.Key_Return)
    new = next(n for n in window.graph.nodes if n not in (src, anim, sink))
    links = {(lk.src, lk.dst) for lk in window.graph.links}
    assert (anim, new) in links and (new, sink) in links and (anim, sink) not in links
    boxes = [window.scene.node_items[n].sceneBoundingRect() for n in (anim, new, sink)]
    assert boxes[0].right() < boxes[1].left() and boxes[1].right() < boxes[2].left()  # room was made
    window.stack.undo()  # one step takes it all back
    assert set(window.graph.nodes) == {src, anim, sink}
    assert (anim, sink) in {(lk.src, lk.dst) for lk in window.graph.links}
    wire = next(w for link, w in window.scene.wire_items.items() if link.dst == sink)
    action(window.context_menu_at(wire.path().pointAtPercent(0.5)), "Delete Wire").trigger()
    assert not any(lk.dst == sink for lk in window.graph.links)


def test_the_group_menu_renames_selects_and_removes_a_group(window):
    src, anim, _ = chain(window)
    window.select_nodes([src, anim])
    window.group_selected("Camera")
    group = window.scene.group_items[0]
    corner = group.sceneBoundingRect().topLeft() + QPointF(8, 8)
    window.ask_text = lambda title, label, text: "Shot one"
    action(window.context_menu_at(corner), "Rename Group…").trigger()
    assert window.graph.groups[0].title == "Shot one"
    window.select_nodes([])
    action(window.context_menu_at(corner), "Select Its Nodes").trigger()
    assert set(window.scene.selected_ids()) == {src, anim}
    action(window.context_menu_at(corner), "Remove Group (Keep Nodes)").trigger()
    assert not window.graph.groups and src in window.graph.nodes


def test_help_for_a_node_shows_its_description_and_params(window):
    _, anim, _ = chain(window)
    action(window.context_menu_at(centre(window, anim)), "Help for This Node").trigger()
    text = window._help_box.text()
    assert "test.animate" in text and "Slides a picture sideways" in text and "frames" in text
    window._help_box.close()
