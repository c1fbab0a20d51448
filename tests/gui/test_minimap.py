"""The minimap (issue 20): toggled from the View menu, shows every node, and a click moves the view there."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest


def test_the_minimap_toggles_and_a_click_centres_the_view_on_that_part_of_the_graph(window, qtbot):
    far = window.add_node("test.source", QPointF(4000, 3000))
    window.add_node("test.source", QPointF(0, 0))
    window.view.centerOn(QPointF(0, 0))
    assert not window.view.minimap.isVisible()
    window.minimap_action.trigger()
    minimap = window.view.minimap
    assert minimap.isVisible() and window.view.viewport().rect().contains(minimap.geometry())
    target = window.scene.node_items[far].sceneBoundingRect().center()
    world = minimap.world()
    s, offset = minimap._scale(world)
    spot = QPoint(round(offset.x() + (target.x() - world.left()) * s),
                  round(offset.y() + (target.y() - world.top()) * s))
    QTest.mouseClick(minimap, Qt.LeftButton, Qt.NoModifier, spot)
    shown = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    assert shown.contains(target)
    window.minimap_action.trigger()
    assert not minimap.isVisible()
