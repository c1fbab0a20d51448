"""The canvas driven with real mouse and key events: palette drops, wiring, undo, clipboard, groups."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from gui.canvas import NODE_MIME
from nodegraph.edits import Connect
from nodegraph.graph import Link
from nodegraph.workflow import dumps_workflow


def vp(win):
    return win.view.viewport()


def port_point(win, node_id: str, port: str, is_output: bool) -> QPoint:
    item = win.scene.node_items[node_id]
    return win.view.mapFromScene(item.port_scene_pos(port, is_output))


def node_point(win, node_id: str, dx: float = 60, dy: float = 8) -> QPoint:
    item = win.scene.node_items[node_id]
    return win.view.mapFromScene(item.mapToScene(QPointF(dx, dy)))


def drag(a: QPoint, b: QPoint, widget, modifier=Qt.NoModifier) -> None:
    QTest.mousePress(widget, Qt.LeftButton, modifier, a)
    for t in (0.25, 0.5, 0.75, 1.0):
        QTest.mouseMove(widget, QPoint(int(a.x() + (b.x() - a.x()) * t), int(a.y() + (b.y() - a.y()) * t)))
    QTest.mouseRelease(widget, Qt.LeftButton, modifier, b)


def add(win, type_id: str, x: float, y: float) -> str:
    node_id = win.add_node(type_id, QPointF(x, y))
    win.view.resetTransform()
    win.view.centerOn(300, 150)
    QApplication.processEvents()
    return node_id


def key(win, seq: str) -> None:
    from PySide6.QtGui import QKeySequence

    combo = QKeySequence(seq)[0]
    QTest.keyClick(win.view, combo.key(), combo.keyboardModifiers())


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_palette_item_dropped_on_the_canvas_adds_that_node_where_it_lands(window):
    palette = window.palette
    palette.search.setFocus()
    QTest.keyClicks(palette.search, "slides")
    assert palette.visible_type_ids() == ["test.animate"]
    mime = palette.tree.mimeData([palette.items["test.animate"]])
    assert bytes(mime.data(NODE_MIME)) == b"test.animate"
    where = QPoint(300, 200)
    enter = QDragEnterEvent(where, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(vp(window), enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(where), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(vp(window), drop)
    assert [n.type for n in window.graph.nodes.values()] == ["test.animate"]
    node = next(iter(window.graph.nodes.values()))
    landed = window.view.mapToScene(where)
    assert abs(node.ui["x"] - landed.x()) <= 1 and abs(node.ui["y"] - landed.y()) <= 1
    QTest.keyClick(palette.search, Qt.Key_Return)  # Enter adds the first match too
    assert len(window.graph.nodes) == 2


def test_dragging_between_compatible_ports_wires_them_and_refuses_incompatible(window):
    src = add(window, "test.source", 0, 0)
    anim = add(window, "test.animate", 320, 0)
    num = add(window, "value.int", 0, 200)
    drag(port_point(window, src, "image", True), port_point(window, anim, "image", False), vp(window))
    assert window.graph.links == [Link(src, "image", anim, "image")]
    assert Link(src, "image", anim, "image") in window.scene.wire_items

    drag(port_point(window, num, "value", True), port_point(window, anim, "image", False), vp(window))
    assert window.graph.links == [Link(src, "image", anim, "image")]
    assert "INT" in window.scene.last_refusal and "IMAGE" in window.scene.last_refusal
    assert "Cannot connect" in window.statusBar().currentMessage()


def test_dragging_a_connected_input_away_disconnects_it(window):
    src = add(window, "test.source", 0, 0)
    anim = add(window, "test.animate", 320, 0)
    window.scene.stack.push(Connect(Link(src, "image", anim, "image")))
    start = port_point(window, anim, "image", False)
    drag(start, start + QPoint(0, 300), vp(window))
    assert window.graph.links == []


def test_wire_dropped_on_empty_canvas_offers_compatible_nodes_and_connects_the_choice(window, qtbot):
    src = add(window, "test.source", 0, 0)
    start = port_point(window, src, "image", True)
    drag(start, start + QPoint(250, 120), vp(window))
    assert window.search.isVisible()
    assert set(window.search.type_ids()) == {"test.animate", "test.fail"}  # only nodes that take an IMAGE
    QTest.keyClicks(window.search.field, "slides")
    QTest.keyClick(window.search.field, Qt.Key_Return)
    new = [n for n in window.graph.nodes if n != src][0]
    assert window.graph.nodes[new].type == "test.animate"
    assert window.graph.links == [Link(src, "image", new, "image")]
    window.stack.undo()  # adding and connecting is one step
    assert list(window.graph.nodes) == [src]


def test_an_empty_canvas_says_how_to_start_until_a_node_is_added(window, qtbot):
    assert window.view.empty_hint.isVisible() and "Tab" in window.view.empty_hint.text()
    a = add(window, "test.source", 0, 0)
    assert not window.view.empty_hint.isVisible()
    window.stack.undo()
    assert a not in window.graph.nodes and window.view.empty_hint.isVisible()


def test_a_wire_dropped_back_on_its_own_node_does_nothing(window, qtbot):
    src = add(window, "test.source", 0, 0)
    drag(port_point(window, src, "image", True), node_point(window, src), vp(window))
    assert not window.search.isVisible() and window.graph.links == [] and not window.scene.last_refusal


def test_hovering_a_muted_wire_keeps_it_dotted(window, qtbot):
    a = add(window, "test.source", 0, 0)
    b = add(window, "test.animate", 320, 0)
    drag(port_point(window, a, "image", True), port_point(window, b, "image", False), vp(window))
    window.select_nodes([b])
    window.view.setFocus()
    key(window, "M")
    (wire,) = window.scene.wire_items.values()
    assert wire.pen().style() == Qt.DotLine
    wire.set_hot(True)
    assert wire.pen().style() == Qt.DotLine and wire.pen().widthF() > 4
    wire.set_hot(False)
    assert wire.pen().style() == Qt.DotLine


def test_tab_opens_node_search(window):
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key_Tab)
    assert window.search.isVisible() and len(window.search.type_ids()) == 9


def test_edits_undo_and_redo_back_to_the_same_model_with_keys(window):
    states = [dumps_workflow(window.graph)]
    a = add(window, "test.source", 0, 0)
    states.append(dumps_workflow(window.graph))
    b = add(window, "test.animate", 320, 0)
    states.append(dumps_workflow(window.graph))
    drag(port_point(window, a, "image", True), port_point(window, b, "image", False), vp(window))
    states.append(dumps_workflow(window.graph))
    window.select_nodes([b])
    drag(node_point(window, b), node_point(window, b) + QPoint(90, 60), vp(window))  # one drag, one step
    states.append(dumps_workflow(window.graph))
    assert window.graph.nodes[b].ui["x"] > 320
    window.select_nodes([a])
    window.view.setFocus()
    key(window, "M")
    assert window.graph.nodes[a].mode == "mute"
    states.append(dumps_workflow(window.graph))
    key(window, "Delete")
    assert a not in window.graph.nodes
    states.append(dumps_workflow(window.graph))
    assert window.isWindowModified()
    for expected in reversed(states[:-1]):
        key(window, "Ctrl+Z")
        assert dumps_workflow(window.graph) == expected
    assert not window.scene.node_items and not window.isWindowModified()
    for i, expected in enumerate(states[1:]):
        key(window, "Ctrl+Shift+Z" if i % 2 else "Ctrl+Y")
        assert dumps_workflow(window.graph) == expected
    assert set(window.scene.node_items) == set(window.graph.nodes)


def test_copy_paste_goes_through_the_clipboard_as_workflow_json(window):
    a = add(window, "test.source", 0, 0)
    b = add(window, "test.animate", 320, 0)
    drag(port_point(window, a, "image", True), port_point(window, b, "image", False), vp(window))
    window.select_all()
    window.view.setFocus()
    key(window, "Ctrl+C")
    text = QApplication.clipboard().text()
    assert json.loads(text)["format"] == "kinograph.workflow"
    key(window, "Ctrl+V")
    assert len(window.graph.nodes) == 4 and len(window.graph.links) == 2
    new = set(window.scene.selected_ids())
    assert len(new) == 2 and not new & {a, b}
    key(window, "Ctrl+D")
    assert len(window.graph.nodes) == 6 and len(window.graph.links) == 3
    key(window, "Ctrl+X")
    assert len(window.graph.nodes) == 4


def test_group_carries_its_nodes_and_collapse_bypass_change_the_look(window):
    a = add(window, "test.source", 0, 0)
    b = add(window, "test.animate", 320, 0)
    window.select_nodes([a, b])
    window.view.setFocus()
    key(window, "Ctrl+G")
    assert set(window.graph.groups[0].nodes) == {a, b}
    group_item = window.scene.group_items[0]
    window.scene.clearSelection()
    title = window.view.mapFromScene(group_item.mapToScene(QPointF(100, 10)))
    drag(title, title + QPoint(50, 40), vp(window))
    assert window.graph.groups[0].ui["x"] == group_item.x()
    ax, bx = window.graph.nodes[a].ui["x"], window.graph.nodes[b].ui["x"]
    assert (round(ax), round(bx)) == (50, 370)
    window.stack.undo()
    assert (window.graph.nodes[a].ui["x"], window.graph.nodes[b].ui["x"]) == (0, 320)
    item = window.scene.node_items[b]
    tall = item.height
    window.select_nodes([b])
    key(window, "H")
    assert window.graph.nodes[b].ui["collapsed"] is True and item.height < tall
    key(window, "B")
    assert window.graph.nodes[b].mode == "bypass" and item.mode == "bypass"


def test_dropping_a_lone_node_onto_a_wire_inserts_it(window):
    a = add(window, "test.source", 0, 0)
    dst = add(window, "test.fail", 700, 0)
    anim = add(window, "test.animate", 300, 300)
    drag(port_point(window, a, "image", True), port_point(window, dst, "image", False), vp(window))
    assert window.graph.links == [Link(a, "image", dst, "image")]
    wire = window.scene.wire_items[window.graph.links[0]]
    middle = window.view.mapFromScene(wire.path().pointAtPercent(0.5))
    window.scene.clearSelection()
    drag(node_point(window, anim), middle + QPoint(0, -2), vp(window))
    # test.animate takes IMAGE but gives VIDEO, which cannot feed test.fail's IMAGE input: no insertion
    assert window.graph.links == [Link(a, "image", dst, "image")]
    mid = add(window, "test.fail", 300, 500)
    window.scene.clearSelection()
    drag(node_point(window, mid), middle + QPoint(0, -2), vp(window))
    assert set(window.graph.links) == {Link(a, "image", mid, "image"), Link(mid, "image", dst, "image")}
    window.stack.undo()  # moving and splicing are one step
    assert window.graph.links == [Link(a, "image", dst, "image")]
    assert window.graph.nodes[mid].ui == {"x": 300, "y": 500}


def test_view_zooms_to_the_cursor_pans_and_frames(window):
    a = add(window, "test.source", 0, 0)
    add(window, "test.animate", 2000, 1200)
    view = window.view
    cursor = QPoint(200, 150)
    under = view.mapToScene(cursor)
    view.zoom_by(2.0, cursor)
    assert abs(view.zoom - 2.0) < 1e-6
    after = view.mapToScene(cursor)
    assert abs(after.x() - under.x()) < 1 and abs(after.y() - under.y()) < 1  # the point under the cursor stays
    before = view.mapToScene(QPoint(0, 0))
    view.setFocus()
    QTest.keyPress(view, Qt.Key_Space)
    drag(QPoint(300, 300), QPoint(200, 250), vp(window))
    QTest.keyRelease(view, Qt.Key_Space)
    moved = view.mapToScene(QPoint(0, 0)) - before
    assert abs(moved.x() - 100 / view.zoom) < 2 and abs(moved.y() - 50 / view.zoom) < 2
    assert window.graph.nodes[a].ui == {"x": 0, "y": 0}  # panning moved no node
    key(window, "Home")
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    assert all(shown.contains(item.sceneBoundingRect()) for item in window.scene.node_items.values())
    window.select_nodes([a])
    key(window, "F")
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    assert shown.contains(window.scene.node_items[a].sceneBoundingRect()) and shown.width() < 1500


def test_metrics_show_as_a_table_and_far_zoom_draws_blocks(window):
    from PySide6.QtGui import QColor

    a = add(window, "test.source", 0, 0)
    item = window.scene.node_items[a]
    plain = item.height
    item.set_metrics({"psnr": 31.5, "flicker": 0.02})
    assert item.height == plain + 2 * 14
    from gui import theme

    block = QColor(theme.category_colour(item.category)).rgb()
    window.scene.clearSelection()  # a selected block takes the selection colour
    seen = {}
    for zoom in (1.0, 0.1):  # full detail, then far out: the node becomes one block of its category colour
        window.view.resetTransform()
        window.view.zoom_by(zoom)
        window.view.centerOn(item.sceneBoundingRect().center())
        QApplication.processEvents()
        image = window.view.viewport().grab().toImage()
        centre = window.view.mapFromScene(item.mapToScene(QPointF(item.boundingRect().width() / 2,
                                                                  item.height / 2)))
        seen[zoom] = image.pixel(centre)
    assert seen[0.1] == block and seen[1.0] != block
