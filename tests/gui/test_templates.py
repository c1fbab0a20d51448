"""File → Browse Workflows (issue 20): the shipped workflows and the user's folder as cards with the models
they need and whether they are here; opening one makes an untitled copy."""

from __future__ import annotations

import json

import pytest

from gui.files import user_workflows_dir
from gui.main_window import MainWindow
from nodegraph.registry import default_registry


@pytest.fixture
def real_window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    win = MainWindow(default_registry(), output_dir=tmp_path / "out", restore_layout=False)
    qtbot.addWidget(win)
    yield win
    win.stack.set_clean()


def test_the_browser_lists_shipped_and_own_workflows_with_their_models(real_window, tmp_path):
    own = user_workflows_dir()
    own.mkdir(parents=True)
    (own / "mine.json").write_text(json.dumps({
        "format": "kinograph.workflow", "version": 1, "name": "My clip", "meta": {"description": "mine"},
        "nodes": [{"id": "n", "type": "value.int", "ui": {"x": 0, "y": 0}}], "links": []}))
    (own / "broken.json").write_text("{not json")  # left out, not fatal
    browser = real_window.browse_workflows()
    names = [t.name for t in browser.templates]
    assert "Animate an image" in names and "My clip" in names and len(names) == browser.cards.count()
    wan = next(t for t in browser.templates if t.name == "Wan 2.1 text to video")
    assert wan.models == [("Wan-AI/Wan2.1-T2V-1.3B-Diffusers", False)]  # offline, never downloaded here
    assert "not downloaded" in browser.cards.item(names.index("Wan 2.1 text to video")).text()
    assert not wan.miniature.isNull() and wan.miniature.width() == 220
    animate = next(t for t in browser.templates if t.name == "Animate an image")
    assert animate.models == [] and "needs no model" in browser.cards.item(names.index("Animate an image")).text()
    browser.close()


def test_opening_a_card_makes_an_untitled_copy(real_window):
    browser = real_window.browse_workflows()
    names = [t.name for t in browser.templates]
    assert browser.open_card(browser.cards.item(names.index("Animate an image")))
    assert real_window.path is None and "Untitled (from animate_image.json)" in real_window.windowTitle()
    assert {n.type for n in real_window.graph.nodes.values()} >= {"image.load", "video.save"}
