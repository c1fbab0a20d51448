"""Mask: a one-channel clip that streams like a Video, and what the scheduler does with one."""

from __future__ import annotations

import numpy as np
import pytest

from nodegraph import Scheduler
from nodegraph.cache import value_nbytes
from nodegraph.events import NodePreview
from nodegraph.mask import Mask, as_float
from nodegraph.media import Video
from nodegraph.node import Node, Param, Port
from nodegraph.types import INT, MASK

from .fakes import make_graph


def ramp_mask(frames: int = 10, size: int = 6) -> Mask:
    return Mask.from_array(np.stack([np.full((size, size), i * 20, np.uint8) for i in range(frames)]), fps=12)


def test_a_mask_streams_one_channel_frames_in_the_chunks_asked_for():
    mask = ramp_mask()
    chunks = list(mask.chunks(4))
    assert [c.shape for c in chunks] == [(4, 6, 6), (4, 6, 6), (2, 6, 6)]
    assert mask.to_array()[:, 0, 0].tolist() == [i * 20 for i in range(10)]
    assert mask.frame_shape == (6, 6) and repr(mask) == "Mask(6x6, 10 frames @ 12 fps)"


def test_a_lazy_mask_keeps_its_type_through_map_chunks_and_computed_once():
    mask = ramp_mask()
    inverted = mask.map_chunks(lambda block: 255 - block)
    assert isinstance(inverted, Mask) and inverted.to_array()[3, 0, 0] == 255 - 60
    once = inverted.computed_once(1 << 20)
    assert isinstance(once, Mask) and once.kept_nbytes == 10 * 6 * 6  # one byte a pixel, not three


def test_rgb_frames_in_a_mask_stream_are_refused_with_the_shapes():
    bad = Mask(lambda: iter([np.zeros((2, 6, 6, 3), np.uint8)]), fps=12, width=6, height=6, frame_count=2)
    with pytest.raises(ValueError, match=r"expected \(6, 6\) uint8"):
        bad.to_array()
    with pytest.raises(TypeError, match=r"\(T, H, W\)"):
        Mask.from_array(np.zeros((2, 6, 6, 3), np.uint8), fps=12)
    with pytest.raises(TypeError, match="float32"):
        Mask.from_array(np.zeros((2, 6, 6), np.float32), fps=12)


def test_conversions_grey_video_floats_and_a_one_frame_mask_over_a_clip():
    mask = Mask.from_array(np.array([[[0, 255], [128, 0]]], np.uint8), fps=5)
    video = mask.to_video()
    assert type(video) is Video and video.to_array()[0, 0, 1].tolist() == [255, 255, 255]
    assert as_float(mask.to_array())[0, 0, 1] == 1.0 and list(mask.float_chunks())[0].dtype == np.float32
    long = mask.repeated(40)
    frames = long.to_array()
    assert frames.shape == (40, 2, 2) and (frames == mask.to_array()[0]).all()
    frames[0, 0, 0] = 9  # writing into a pulled frame changes no later pull
    assert long.first_frame()[0, 0] == 0
    with pytest.raises(ValueError, match="of one frame"):
        ramp_mask(3).repeated(5)


def test_a_filled_mask_is_lazy_and_exact():
    mask = Mask.filled(255, width=4, height=3, frame_count=37, fps=24)
    assert mask.nbytes == 0 and sum(len(c) for c in mask.chunks(8)) == 37
    assert (mask.to_array() == 255).all()
    with pytest.raises(ValueError, match="0..255"):
        Mask.filled(300, width=4, height=3, frame_count=1, fps=24)


class MaskFrames(Node):
    """A lazy mask whose level is the frame index."""

    type_id = "test.mask_frames"
    outputs = (Port("mask", MASK),)
    params = (Param("count", int, default=10, min=1, max=10000), Param("fail_at", int, default=-1, min=-1),)

    def run(self, ctx, *, count, fail_at):
        def frames():
            for i in range(count):
                if i == fail_at:
                    raise ValueError(f"mask frame {i} is unreadable")
                yield np.full((8, 12), i % 256, np.uint8)

        return {"mask": Mask.from_frames(frames, fps=24, width=12, height=8, frame_count=count)}


class MaskDrain(Node):
    """Counts a mask's frames."""

    type_id = "test.mask_drain"
    is_output = True
    inputs = (Port("mask", MASK),)
    outputs = (Port("count", INT),)

    def run(self, ctx, *, mask):
        return {"count": sum(len(block) for block in mask.chunks(4))}


@pytest.fixture
def mask_scheduler(registry, tmp_path):
    registry.register_all((MaskFrames, MaskDrain))
    return Scheduler(registry, output_dir=tmp_path)


def test_a_mask_stream_previews_as_grey_rgb_and_its_errors_name_its_node(mask_scheduler):
    graph = make_graph([("m", "test.mask_frames", {"count": 30}), ("d", "test.mask_drain", {})],
                       [("m.mask", "d.mask")])
    seen = []
    mask_scheduler.subscribe(seen.append)
    result = mask_scheduler.run(graph)
    assert result.ok and result.outputs["d"]["count"] == 30
    previews = [e.frames for e in seen if isinstance(e, NodePreview) and e.node_id == "m"]
    assert previews and previews[0].shape == (8, 12, 3) and previews[0].dtype == np.uint8

    graph.nodes["m"].params["fail_at"] = 17
    failed = mask_scheduler.run(graph)
    assert failed.error.node_id == "m" and "mask frame 17 is unreadable" in str(failed.error)


def test_the_cache_counts_a_held_mask_at_one_byte_a_pixel():
    assert value_nbytes({"mask": ramp_mask(10, 6)}) == 360
