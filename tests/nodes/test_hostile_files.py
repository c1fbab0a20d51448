"""Files that lie or break: only decoded frames are trusted, sizes are checked before memory is taken, and a
library's error reaches the user with the file's name."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

import nodes.io
import nodes.video.resize
from nodegraph import events as ev
from nodegraph import find_issues, media
from nodegraph.errors import ValidationError
from nodegraph.graph import Graph, Link, NodeInstance
from nodegraph.media import Video
from nodegraph.registry import NodeRegistry
from nodegraph.scheduler import Scheduler
from nodes.io.video_reader import probe_video


@pytest.fixture()
def registry() -> NodeRegistry:
    reg = NodeRegistry()
    nodes.io.register(reg)
    return reg


def graph(*specs: tuple[str, str, dict], links: tuple[str, ...] = ()) -> Graph:
    g = Graph("test")
    for node_id, type_id, params in specs:
        g.add_node(NodeInstance(node_id, type_id, dict(params)))
    for text in links:
        src, dst = text.split("->")
        g.connect(Link(*src.split("."), *dst.split(".")))
    return g


def run_capturing(registry, out: Path, g: Graph):
    scheduler = Scheduler(registry, output_dir=out)
    messages: list[str] = []
    scheduler.subscribe(lambda e: messages.append(e.message) if isinstance(e, ev.NodeMessage) else None)
    return scheduler.run(g), messages


def cut_short_mp4(path: Path, frames: int = 30) -> Path:
    """An mp4 whose header (moov first) promises `frames` frames, with most of its media data cut off."""
    import av

    rng = np.random.default_rng(0)
    with av.open(str(path), "w", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.options = {"g": "1", "crf": "30"}
        for _ in range(frames):
            frame = av.VideoFrame.from_ndarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    data = path.read_bytes()
    media = data.index(b"mdat")
    path.write_bytes(data[:media + (len(data) - media) // 5])
    return path


def test_a_clip_that_ends_before_its_header_says_is_never_padded(registry, tmp_path):
    clip = cut_short_mp4(tmp_path / "short.mp4")
    assert probe_video(str(clip)).frame_count == 30  # the header's promise
    g = graph(("load", "video.load", {"path": str(clip)}), ("save", "video.save", {"filename": "copy.mp4"}),
              links=("load.video->save.video",))
    result, messages = run_capturing(registry, tmp_path / "out", g)
    assert result.ok, result.error
    real = probe_video(result.outputs["save"]["path"]).frame_count
    assert 0 < real < 30
    assert any(f"holds {real} decodable frame(s), not the 30 its header says" in m for m in messages), messages


def test_validation_refuses_frames_that_cannot_fit_and_names_node_size_and_limit(registry, tmp_path, monkeypatch):
    from tests.nodes.test_io import SyntheticClip

    registry.register(SyntheticClip)
    registry.register(nodes.video.resize.ResizeVideo)
    g = graph(("clip", "test.clip", {"frames": 4, "width": 32, "height": 32}),
              ("big", "video.resize", {"width": 16384, "height": 16384}),
              ("save", "video.save", {"filename": "big.mp4"}), links=("clip.video->big.video", "big.video->save.video"))
    monkeypatch.setenv("KINOGRAPH_MEMORY_LIMIT", "256M")
    with pytest.raises(ValidationError) as info:
        Scheduler(registry, output_dir=tmp_path).run(g)
    (issue,) = info.value.issues  # said once, not again for the save node it feeds
    assert issue.node_id == "big" and "16384x16384 frames" in issue.message
    assert "above the memory limit of 256 MiB ($KINOGRAPH_MEMORY_LIMIT)" in issue.message
    monkeypatch.setenv("KINOGRAPH_MEMORY_LIMIT", "64G")  # raised: validation lets it through
    assert find_issues(g, registry) == []


def test_a_chunk_of_large_frames_holds_fewer_of_them(monkeypatch):
    monkeypatch.setattr(media, "CHUNK_BUDGET", 4 * 512 * 512 * 3)
    small = Video.from_array(np.zeros((16, 8, 8, 3), np.uint8), 24.0)
    pulled: list[int] = []

    def grow(block):
        pulled.append(len(block))
        return np.zeros((len(block), 512, 512, 3), np.uint8)

    big = small.map_chunks(grow, width=512, height=512)
    assert [len(b) for b in big.chunks(16)] == [4, 4, 4, 4] and pulled == [4, 4, 4, 4]


def test_an_image_header_too_large_is_refused_before_decoding(registry, tmp_path, monkeypatch):
    monkeypatch.setenv("KINOGRAPH_MEMORY_LIMIT", "512M")
    bomb = tmp_path / "bomb.png"
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    header = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr
    bomb.write_bytes(header + struct.pack(">I", zlib.crc32(header[12:])) + b"\x00" * 64)
    g = graph(("load", "image.load", {"path": str(bomb)}), ("save", "image.save", {}),
              links=("load.image->save.image",))
    issues = find_issues(g, registry)
    assert [i.node_id for i in issues] == ["load"] and "20000x20000 frames" in issues[0].message
    result = Scheduler(registry, output_dir=tmp_path).run(g, validate_first=False)
    assert "20000x20000 frames, 1.12 GiB each, above the memory limit of 512 MiB" in str(result.error)


def test_an_encoder_error_names_the_file_it_was_writing(registry, tmp_path):
    from tests.nodes.test_io import SyntheticClip

    registry.register(SyntheticClip)
    g = graph(("clip", "test.clip", {"frames": 2, "width": 8, "height": 8}),
              ("save", "video.save", {"filename": "tiny.mp4", "codec": "h265"}), links=("clip.video->save.video",))
    result = Scheduler(registry, output_dir=tmp_path).run(g)
    assert result.status == "failed" and "cannot write 'tiny.mp4' (h265 with libx265, 8x8)" in str(result.error)
    assert list(tmp_path.iterdir()) == []
