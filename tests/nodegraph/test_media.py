"""Video.computed_once: a costly stream computed by its first full pull only."""

from __future__ import annotations

import numpy as np

from nodegraph.cache import value_nbytes
from nodegraph.media import Video


def counted_clip(frames: int = 20, size: int = 8):
    pulls = []

    def source():
        pulls.append(1)
        for i in range(frames):
            yield np.full((1, size, size, 3), i, np.uint8)

    return Video(source, fps=10, width=size, height=size, frame_count=frames), pulls


def test_later_pulls_read_the_frames_the_first_full_pull_kept():
    video, pulls = counted_clip()
    once = video.computed_once(1 << 20)
    first = once.to_array()
    assert np.array_equal(once.to_array(), first)
    assert np.array_equal(np.concatenate(list(once.chunks(7))), first)
    assert len(pulls) == 1 and first[:, 0, 0, 0].tolist() == list(range(20))


def test_a_pull_that_stops_early_keeps_nothing():
    video, pulls = counted_clip()
    once = video.computed_once(1 << 20)
    assert once.first_frame()[0, 0, 0] == 0
    frames = once.to_array()
    once.to_array()
    assert len(pulls) == 2 and len(frames) == 20


def test_writing_into_a_pulled_chunk_does_not_change_the_kept_frames():
    video, _ = counted_clip()
    once = video.computed_once(1 << 20)
    for chunk in once.chunks(4):
        chunk[:] = 255
    assert once.to_array()[:, 0, 0, 0].tolist() == list(range(20))


def test_a_clip_larger_than_the_limit_streams_as_before():
    video, pulls = counted_clip()
    once = video.computed_once(20 * 8 * 8 * 3 - 1)
    once.to_array()
    once.to_array()
    assert len(pulls) == 2 and value_nbytes(once) == 0


def test_the_cache_budget_counts_the_frames_a_clip_will_keep():
    video, _ = counted_clip()
    assert value_nbytes({"video": video.computed_once(1 << 20)}) == 20 * 8 * 8 * 3
    assert value_nbytes(Video.from_array(np.zeros((4, 8, 8, 3), np.uint8), fps=10)) == 4 * 8 * 8 * 3
