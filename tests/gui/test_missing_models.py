"""File → Missing Models (issue 20): the models a workflow names that are not here, their sizes, and a download
with progress and cancel, served by a fake of the Hub's HTTP endpoints on a loopback port."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QMessageBox

from gui.main_window import MainWindow
from nodegraph.edits import SetParam
from nodegraph.registry import default_registry

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "nodes" / "diffusion"))
from fake_hub import FakeHub  # noqa: E402

REPO = {"model_index.json": b'{"_class_name": "WanPipeline"}', "vae/config.json": b"{}",
        "vae/diffusion_pytorch_model.safetensors": b"w" * 600_000,
        "wan_full.safetensors": b"not fetched: a pipeline repo's top-level checkpoint" * 10}


@pytest.fixture
def hub(tmp_path, monkeypatch):
    # a second id for a second test: huggingface_hub fixes its cache folder on first import, so a model one test
    # downloaded stays found in the next one
    with FakeHub({"someone/tiny-wan": REPO, "someone/tiny-wan-two": REPO}) as fake:
        monkeypatch.setenv("HF_ENDPOINT", fake.url)
        monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub-cache"))
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        yield fake


@pytest.fixture
def wan_window(qtbot, tmp_path):
    win = MainWindow(default_registry(), output_dir=tmp_path / "out", restore_layout=False)
    win.ask_save_changes = lambda: QMessageBox.Discard
    qtbot.addWidget(win)
    node = win.add_node("model.load", QPointF(0, 0))
    win.stack.push(SetParam(node, "source", "someone/tiny-wan"))
    yield win
    win.stack.set_clean()


def test_the_dialog_lists_the_missing_model_with_its_size_and_downloads_it(wan_window, hub, qtbot):
    dialog = wan_window.show_missing_models()
    assert [m for _, m in dialog.models] == ["someone/tiny-wan"]
    qtbot.waitUntil(lambda: dialog.table.item(0, 2).text() != "…", timeout=20000)
    assert dialog.table.item(0, 2).text() == "600.0 KB"  # component folders only, not the top-level checkpoint
    dialog.download_button.click()
    qtbot.waitUntil(lambda: dialog.status.get("someone/tiny-wan") == "done", timeout=30000)
    assert dialog.bars["someone/tiny-wan"].format() == "downloaded"
    cache = Path(os.environ["HF_HUB_CACHE"])
    files = sorted(p.name for p in cache.rglob("*") if p.is_file() and "snapshots" in p.parts)
    assert files == ["config.json", "diffusion_pytorch_model.safetensors", "model_index.json"]
    assert not any("wan_full" in r for r in hub.requests if r.startswith("GET /someone"))
    dialog.close()


def test_a_download_can_be_cancelled(wan_window, hub, qtbot, monkeypatch):
    node = next(iter(wan_window.graph.nodes))
    wan_window.stack.push(SetParam(node, "source", "someone/tiny-wan-two"))
    dialog = wan_window.show_missing_models()
    dialog._cancel.set()  # as the Cancel button does, before the first block arrives
    real = dialog.fetch

    def fetch_after_cancel(model, progress, cancelled):
        dialog._cancel.set()
        return real(model, progress, cancelled)

    dialog.fetch = fetch_after_cancel
    dialog.download_all()
    qtbot.waitUntil(lambda: "someone/tiny-wan-two" in dialog.status, timeout=30000)
    assert dialog.status["someone/tiny-wan-two"] == "cancelled" and dialog.download_button.isEnabled()
    dialog.close()


def test_an_unknown_model_gets_one_line_and_no_traceback(qtbot, tmp_path, hub):
    win = MainWindow(default_registry(), output_dir=tmp_path / "out", restore_layout=False)
    win.ask_save_changes = lambda: QMessageBox.Discard
    qtbot.addWidget(win)
    node = win.add_node("model.load", QPointF(0, 0))
    win.stack.push(SetParam(node, "source", "nobody/no-such-model"))
    dialog = win.show_missing_models()
    qtbot.waitUntil(lambda: dialog.table.item(0, 2).text() != "…", timeout=20000)
    assert dialog.table.item(0, 2).text() == "unknown"
    assert "nobody/no-such-model" in dialog.table.item(0, 2).toolTip()
    dialog.download_all()
    qtbot.waitUntil(lambda: "nobody/no-such-model" in dialog.status, timeout=20000)
    assert dialog.status["nobody/no-such-model"].count("\n") == 0
    win.stack.set_clean()
    dialog.close()
