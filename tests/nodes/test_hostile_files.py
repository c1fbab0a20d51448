"""Files that lie or break: only decoded frames are trusted, sizes are checked before memory is taken, and a
library's error reaches the user with the file's name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import nodes.io
from nodegraph import events as ev
from nodegraph.graph import Graph, Link, NodeInstance
from nodegraph.registry import NodeRegistry
from nodegraph.scheduler import Scheduler
from nodes.io.video_read import probe_video


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
