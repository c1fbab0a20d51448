"""Reroute points on wires and the wire style (issue 20)."""

from __future__ import annotations

import json

from PySide6.QtCore import QPointF
from test_context_menus import action
from test_window import chain

from gui.canvas.wire_item import RerouteDot


def wire_into(win, node_id):
    return next(w for link, w in win.scene.wire_items.items() if link.dst == node_id)


def test_a_reroute_is_added_from_the_wire_menu_moved_removed_and_saved(window, tmp_path):
    src, anim, sink = chain(window)
    wire = wire_into(window, sink)
    where = wire.path().pointAtPercent(0.5) + QPointF(0, 0)
    action(window.context_menu_at(where), "Add Reroute Here").trigger()
    wire = wire_into(window, sink)
    assert len(wire.via) == 1 and window.graph.nodes[sink].ui["reroutes"] == {"video": [[round(where.x()),
                                                                                          round(where.y())]]}
    (dot,) = [c for c in wire.childItems() if isinstance(c, RerouteDot)]
    low = QPointF(where.x(), where.y() + 300)
    window.scene.move_reroute(wire.link, 0, low)  # as a drag of the dot ends
    wire = wire_into(window, sink)
    assert wire.path().boundingRect().bottom() >= low.y() - 1  # the wire now passes through the moved point
    path = tmp_path / "rerouted.json"
    window.save_to(path)
    saved = next(n for n in json.loads(path.read_text())["nodes"] if n["id"] == sink)
    assert saved["ui"]["reroutes"] == {"video": [[round(low.x()), round(low.y())]]}
    action(window.context_menu_at(low), "Remove Reroute").trigger()
    assert "reroutes" not in window.graph.nodes[sink].ui and not wire_into(window, sink).via
    window.stack.undo()
    assert len(wire_into(window, sink).via) == 1


def test_a_second_reroute_goes_in_order_along_the_wire(window):
    src, anim, sink = chain(window)
    wire = wire_into(window, sink)
    late, early = wire.path().pointAtPercent(0.8), wire.path().pointAtPercent(0.2)
    window.scene.add_reroute(wire.link, late)
    window.scene.add_reroute(wire.link, early)
    via = wire_into(window, sink).via
    assert via[0].x() < via[1].x()


def test_the_wire_style_changes_every_wire_and_is_remembered(window, qtbot, registry, tmp_path):
    chain(window)
    wire = next(iter(window.scene.wire_items.values()))
    window.wire_style_actions["straight"].trigger()
    assert wire.path().elementCount() == 2  # one straight line
    window.wire_style_actions["orthogonal"].trigger()
    path = wire.path()
    corners = [path.elementAt(i) for i in range(path.elementCount())]
    assert all(a.x == b.x or a.y == b.y for a, b in zip(corners, corners[1:], strict=False))  # right angles only
    from gui.main_window import MainWindow

    later = MainWindow(registry, output_dir=tmp_path / "o", restore_layout=False)
    qtbot.addWidget(later)
    assert later.wire_style_actions["orthogonal"].isChecked()
    later.set_wire_style("spline")
