"""The smaller things a new user hits (issue 14, item 11): a saved file plays on its Save node, drawn play and
pause icons, a tall inspector without a horizontal scrollbar, nodes added by a wire drop land in sight."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, QPointF, QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from test_rerun import saver_chain
from test_window import run_and_wait

from gui.canvas.node_item import WIDTH
from gui.node_search import on_screen
from nodegraph.media import Video

ROOT = Path(__file__).resolve().parents[2]


def test_the_save_node_plays_the_file_it_wrote_with_open_and_show_in_folder(window, qtbot):
    opened = []

    def open_media(path):
        opened.append(Path(path))
        from nodes.io import open_media as real

        return real(ROOT / "resources" / "videos" / "sample.mp4")  # the test saver writes text, not video

    window.preview.open_media = open_media
    _, _, save = saver_chain(window)
    result = run_and_wait(window, qtbot)
    window.select_nodes([save])
    qtbot.waitUntil(lambda: len(window.preview.frames) > 10, timeout=10000)
    assert set(opened) == set(result.files)
    assert window.preview.file_bar.isVisible() and window.preview.file_label.text() == "clip.txt"
    assert window.preview.open_button.isEnabled() and window.preview.folder_button.isEnabled()


def test_a_written_file_that_is_no_picture_still_gets_its_buttons(window, qtbot):
    _, _, save = saver_chain(window)
    run_and_wait(window, qtbot)
    window.select_nodes([save])
    assert window.preview.file_bar.isVisible() and window.preview.file == Path(window.runner.outputs[save]["path"])
    assert "file is below" in window.preview.picture.text()
    QTest.mouseClick(window.preview.copy_path_button, Qt.LeftButton)
    assert QGuiApplication.clipboard().text() == window.runner.outputs[save]["path"]


def test_open_media_reads_saved_videos_and_pictures():
    from nodes.io import open_media

    video = open_media(ROOT / "resources" / "videos" / "sample.mp4")
    assert isinstance(video, Video) and next(iter(video.chunks(2))).shape[0] == 2
    picture = open_media(ROOT / "resources" / "images" / "sample.png")
    assert picture.array.ndim == 3
    assert open_media(ROOT / "README.md") is None


def test_play_and_pause_are_drawn_icons_not_font_glyphs(window, qtbot):
    panel = window.preview
    panel.show_live("n", __import__("numpy").zeros((6, 8, 8, 3), "uint8"), 12)
    assert panel.play_button.text() == "" and not panel.play_button.icon().isNull()
    before = panel.play_button.icon().cacheKey()
    QTest.mouseClick(panel.play_button, Qt.LeftButton)
    assert panel.playing and panel.play_button.icon().cacheKey() != before
    QTest.mouseClick(panel.play_button, Qt.LeftButton)


def test_the_inspector_is_taller_than_the_preview_and_never_scrolls_sideways(window, qtbot):
    assert window.inspector.horizontalScrollBarPolicy() == Qt.ScrollBarAlwaysOff
    qtbot.waitUntil(lambda: window.inspector_dock.height() > window.preview_dock.height(), timeout=2000)


def test_a_node_added_from_a_wire_dragged_out_of_an_input_lands_left_of_the_drop_and_in_sight(window, qtbot):
    anim = window.add_node("test.animate", QPointF(0, 0))
    row = next(r for r in window.scene.node_items[anim].inputs if r.name == "image")
    drop = QPointF(-50, 2000)  # far below what the view shows
    window._add_and_focus("test.source", drop, (anim, row))
    src = next(n for n in window.graph.nodes if n != anim)
    item = window.scene.node_items[src]
    assert item.pos().x() + WIDTH < drop.x()  # left of the drop: its output meets the wire
    assert window.graph.links and window.graph.links[0].src == src
    shown = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    assert shown.contains(item.sceneBoundingRect().center())


def test_the_search_popup_stays_on_the_screen():
    area = QGuiApplication.primaryScreen().availableGeometry()
    corner = on_screen(QPoint(area.right() - 5, area.bottom() - 5), QSize(300, 340))
    assert corner.x() + 300 <= area.right() + 1 and corner.y() + 340 <= area.bottom() + 1


def test_the_save_picker_names_a_file_inside_the_output_folder(window, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    _, _, save = saver_chain(window)
    window.select_nodes([save])
    out = Path(window.inspector.output_dir).resolve()
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(out / "shots" / "take1.txt"), "")))
    param = window.registry.get("test.save").param("filename")
    line = window.inspector.editors["filename"]
    window.inspector._browse(param, line)
    assert window.graph.nodes[save].params["filename"] == "shots/take1.txt"  # what validation accepts
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: ("/tmp/elsewhere.txt", "")))
    window.inspector._browse(param, window.inspector.editors["filename"])
    assert window.graph.nodes[save].params["filename"] == "shots/take1.txt"
    assert "output folder" in window.inspector.problems["filename"].text()
