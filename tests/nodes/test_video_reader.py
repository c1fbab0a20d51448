"""The one PyAV reader: what `kinograph eval`, the quality check and the editor's preview get from the rules that
`video.load` had (exact counts, memory checked from the header, damaged files read up to the damage), and the
reverse (an empty file named as such)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from nodegraph.errors import UsageError
from nodegraph.registry import NodeRegistry
from nodegraph.scheduler import Scheduler
from nodes.io.video_reader import open_video
from tests.nodes.test_hostile_files import cut_short_mp4, graph


def write_mkv(path, frames: int = 20):
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("ffv1", rate=24)
        stream.width, stream.height, stream.pix_fmt = 32, 24, "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.full((24, 32, 3), i * 10, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def test_a_matroska_clip_has_its_exact_frame_count_before_it_is_decoded(tmp_path):
    video = open_video(write_mkv(tmp_path / "clip.mkv", frames=20))
    assert (video.frame_count, video.width, video.height, video.fps) == (20, 32, 24, 24.0)
    assert len(video.to_array()) == 20


def test_eval_refuses_frames_too_large_to_hold_before_decoding_any(tmp_path, monkeypatch):
    path = write_mkv(tmp_path / "clip.mkv", frames=2)
    monkeypatch.setenv("KINOGRAPH_MEMORY_LIMIT", "1K")
    with pytest.raises(UsageError, match="32x24 frames.*memory limit"):
        open_video(path)


def test_a_clip_cut_short_gives_the_frames_it_holds_and_says_so(tmp_path, caplog):
    clip = cut_short_mp4(tmp_path / "short.mp4")
    with caplog.at_level(logging.WARNING, logger="kinograph.nodes.io"):
        frames = open_video(clip).to_array()
    assert 0 < len(frames) < 30
    assert f"holds {len(frames)} decodable frame(s), not the 30 its header says" in caplog.text


def test_video_load_names_an_empty_file(tmp_path):
    import nodes.io

    registry = NodeRegistry()
    nodes.io.register(registry)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    result = Scheduler(registry, output_dir=tmp_path).run(graph(("load", "video.load", {"path": str(empty)})), ["load"])
    assert result.error.node_id == "load" and "is empty (0 bytes)" in result.error.message


def test_a_clip_filmed_upright_on_a_phone_loads_upright(tmp_path):
    """A phone stores a portrait clip as landscape frames plus a display matrix; players turn it, and so do we."""
    import av

    picture = np.zeros((16, 32, 3), np.uint8)
    picture[:8, :8] = 255  # a white block top left of the stored frame
    path = tmp_path / "portrait.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 32, 16, "yuv420p"
        if not hasattr(stream, "set_display_rotation"):
            pytest.skip("this PyAV cannot write a display matrix")
        stream.set_display_rotation(90)  # shown turned a quarter counterclockwise
        for _ in range(3):
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    video = open_video(path)
    assert (video.width, video.height, video.frame_count) == (16, 32, 3)
    shown = video.to_array()[0].mean(axis=2) > 128
    assert shown[-8:, :8].all() and shown.sum() == 64  # the block is bottom left, as a player shows it
    registry = NodeRegistry()
    import nodes.io

    nodes.io.register(registry)
    result = Scheduler(registry, output_dir=tmp_path).run(graph(("load", "video.load", {"path": str(path)})), ["load"])
    assert result.outputs["load"]["video"].to_array().shape == (3, 32, 16, 3)


def test_a_file_written_again_is_read_again(tmp_path):
    """What a file holds is remembered for the editor's repeated checks, but only for that version of it."""
    path = write_mkv(tmp_path / "clip.mkv", frames=20)
    assert open_video(path).frame_count == 20
    write_mkv(path, frames=7)
    assert open_video(path).frame_count == 7
    path.unlink()
    with pytest.raises(UsageError, match="does not exist"):
        open_video(path)
