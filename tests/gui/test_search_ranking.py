"""Search ranks what a person typed: exact and prefix title matches first, then fuzzy ones (issue 14, item 3)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from gui.node_search import NodeSearch
from gui.palette import Palette
from gui.search_rank import rank
from nodegraph.registry import default_registry


@pytest.fixture(scope="module")
def real_registry():
    return default_registry()


def titles(registry, type_ids):
    return [registry.get(t).display_name() for t in type_ids]


def test_tab_search_puts_the_exact_title_first_and_enter_adds_it(real_registry, qtbot):
    search = NodeSearch(real_registry)
    qtbot.addWidget(search)
    chosen = []
    search.chosen.connect(lambda type_id, pos, origin: chosen.append(type_id))
    search.open_at(QPoint(0, 0), QPointF(0, 0))
    QTest.keyClicks(search.field, "save video")
    assert search.type_ids()[0] == "video.save"
    QTest.keyClick(search.field, Qt.Key_Return)
    assert chosen == ["video.save"]


@pytest.mark.parametrize(("typed", "first"), [
    ("save video", "video.save"), ("Save Frames", "video.save_frames"), ("load im", "image.load"),
    ("camera", "motion.camera"), ("interp", "video.interpolate"), ("sav vido", "video.save"),
])
def test_prefix_and_misspelled_titles_rank_first(real_registry, typed, first):
    classes = [cls for _, group in real_registry.by_category() for cls in group]
    assert rank(classes, typed)[0].type_id == first


def test_title_matches_come_before_description_matches_and_nonsense_finds_nothing(real_registry):
    classes = [cls for _, group in real_registry.by_category() for cls in group]
    ranked = rank(classes, "save video")
    in_title = [i for i, cls in enumerate(ranked) if {"save", "video"} <= set(cls.display_name().lower().split())]
    others = [i for i, cls in enumerate(ranked) if i not in in_title]
    assert in_title and others and max(in_title) < min(others)  # Save Frames (video only in its tooltip) after
    assert not rank(classes, "zzqqxx")


def test_the_palette_ranks_the_same_way_and_enter_adds_the_best(real_registry, qtbot):
    palette = Palette(real_registry)
    qtbot.addWidget(palette)
    palette.show()
    added = []
    palette.node_activated.connect(added.append)
    QTest.keyClicks(palette.search, "save video")
    assert palette.visible_type_ids()[0] == "video.save" and palette.results.isVisible()
    assert not palette.tree.isVisible()
    QTest.keyClick(palette.search, Qt.Key_Return)
    assert added == ["video.save"]
    palette.search.clear()
    assert palette.tree.isVisible() and not palette.results.isVisible()
