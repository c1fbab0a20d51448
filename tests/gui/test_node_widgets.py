"""Params on the nodes themselves (issue 20): shown for the params a node type lists, edited in place through
undo, a seed's dice and its after-run rule, hidden when a wire feeds the param."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from test_window import chain, run_and_wait

from gui.canvas.node_item import WIDTH
from nodegraph.edits import Connect
from nodegraph.graph import Link
from nodegraph.registry import default_registry


def click_widget(win, node_id, name, part="value"):
    item = win.scene.node_items[node_id]
    row = next(r for r in item.widget_rows if r.param.name == name)
    rect = {"value": row.value_rect, "dice": row.dice_rect, "after": row.after_rect,
            "browse": row.browse_rect}[part](WIDTH)
    where = win.view.mapFromScene(item.mapToScene(rect.center()))
    QTest.mouseClick(win.view.viewport(), Qt.LeftButton, Qt.NoModifier, where)


def test_widgets_show_the_listed_params_and_edit_them_in_place_with_undo(window, qtbot):
    src, anim, sink = chain(window)
    window.view.centerOn(window.scene.node_items[anim])
    item = window.scene.node_items[anim]
    assert [r.param.name for r in item.widget_rows] == ["prompt", "frames", "speed"]
    click_widget(window, anim, "frames")
    editor = window.inline_editor.editor
    assert editor is not None and editor.text() == "12"
    editor.selectAll()
    QTest.keyClicks(editor, "30")
    QTest.keyClick(editor, Qt.Key_Return)
    assert window.graph.nodes[anim].params["frames"] == 30 and window.inline_editor.editor is None
    click_widget(window, anim, "frames")
    window.inline_editor.editor.selectAll()
    QTest.keyClicks(window.inline_editor.editor, "9999")  # above the max: refused, not clamped
    QTest.keyClick(window.inline_editor.editor, Qt.Key_Return)
    assert window.graph.nodes[anim].params["frames"] == 30 and window.inline_editor.editor is not None
    assert "frames" in window.statusBar().currentMessage()
    QTest.keyClick(window.inline_editor.editor, Qt.Key_Escape)
    click_widget(window, anim, "prompt")
    QTest.keyClicks(window.inline_editor.editor, "a red fox")
    QTest.keyClick(window.inline_editor.editor, Qt.Key_Return, Qt.ControlModifier)
    assert window.graph.nodes[anim].params["prompt"] == "a red fox"
    window.stack.undo()
    window.stack.undo()
    assert "prompt" not in window.graph.nodes[anim].params and window.graph.nodes[anim].params["frames"] == 12


def test_a_choice_widget_opens_its_list_and_the_dice_rolls_a_seed(window, qtbot):
    src = window.add_node("test.source", QPointF(0, 0))
    window.view.centerOn(window.scene.node_items[src])
    click_widget(window, src, "look")
    combo = window.inline_editor.editor
    combo.setCurrentIndex(1)
    combo.activated.emit(1)
    assert window.graph.nodes[src].params["look"] == "fancy"
    before = window.graph.nodes[src].params.get("seed", 1)
    click_widget(window, src, "seed", "dice")
    assert window.graph.nodes[src].params["seed"] != before


def test_the_after_run_rule_changes_the_seed_for_the_next_run_only(window, qtbot):
    src, anim, sink = chain(window, frames=3)
    window.view.centerOn(window.scene.node_items[src])
    click_widget(window, src, "seed", "after")
    assert window.graph.nodes[src].ui["seed_after"] == "increment"
    ran = []
    window.runner.run_started.connect(lambda job: ran.append(job.graph.nodes[src].params.get("seed", 1)))
    run_and_wait(window, qtbot)
    assert ran == [1] and window.graph.nodes[src].params["seed"] == 2  # the run kept 1; the next one gets 2
    click_widget(window, src, "seed", "after")
    click_widget(window, src, "seed", "after")
    assert "seed_after" not in window.graph.nodes[src].ui  # back to fixed


def test_a_param_fed_by_a_wire_has_no_widget(window, qtbot):
    src, anim, sink = chain(window)
    number = window.add_node("value.int", QPointF(0, 300))
    window.stack.push(Connect(Link(number, "value", anim, "frames")))
    assert "frames" not in [r.param.name for r in window.scene.node_items[anim].widget_rows]


def test_every_widget_a_shipped_node_lists_is_one_of_its_params():
    for cls in default_registry():
        for name in cls.widgets:
            assert cls.param(name) is not None, f"{cls.type_id} lists widget {name!r}, which is not a param"


def register_io(window) -> None:
    import nodes.io

    for cls in nodes.io.NODES:
        if window.registry.get(cls.type_id) is None:
            window.registry.register(cls)


def test_a_file_widget_browses_for_its_file_with_undo(window, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from nodegraph.graph import NodeInstance

    picture = tmp_path / "still.png"
    picture.write_bytes(b"")
    asked = []

    def pick(parent, title, start, filters=""):
        asked.append((title, start))
        return str(picture), ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(pick))
    register_io(window)
    window.graph.add_node(NodeInstance("img", "image.load", {}, ui={"x": 0, "y": 0}))
    window.set_graph(window.graph)
    window.view.centerOn(window.scene.node_items["img"])
    click_widget(window, "img", "path", "browse")
    assert asked and asked[0][0] == "path"
    assert window.graph.nodes["img"].params["path"] == str(picture) and window.inline_editor.editor is None
    window.stack.undo()
    assert "path" not in window.graph.nodes["img"].params


def test_a_save_widget_refuses_a_name_outside_the_output_folder(window, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from nodegraph.graph import NodeInstance

    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(tmp_path / "elsewhere" / "x.mp4"), "")))
    register_io(window)
    window.graph.add_node(NodeInstance("out", "video.save", {}, ui={"x": 0, "y": 0}))
    window.set_graph(window.graph)
    window.view.centerOn(window.scene.node_items["out"])
    click_widget(window, "out", "filename", "browse")
    assert "filename" not in window.graph.nodes["out"].params
    assert "output folder" in window.statusBar().currentMessage()
