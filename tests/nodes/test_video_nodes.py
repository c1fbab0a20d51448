"""video.resize / interpolate / trim / concat: sizes, counts, measured quality, streaming memory."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from nodegraph.errors import UsageError
from nodegraph.media import Video
from nodegraph.node import NodeContext
from nodes.video import ConcatVideo, InterpolateVideo, ResizeVideo, TrimVideo

try:
    from .synth import bouncing_shape, moving_texture, psnr, texture_frame
except ImportError:  # tests/nodes is not a package yet
    from synth import bouncing_shape, moving_texture, psnr, texture_frame


def ctx(messages: list | None = None) -> NodeContext:
    emit = (lambda node, level, text: messages.append(text)) if messages is not None else None
    return NodeContext("n", "test", _emit_message=emit)


def run(cls, **kwargs) -> Video:
    params = cls.defaults()
    params.update({k: v for k, v in kwargs.items() if k in params})
    inputs = {k: v for k, v in kwargs.items() if k not in params}
    return cls().run(ctx(), **inputs, **params)["video"]


def drain(video: Video, chunk: int = 7) -> np.ndarray:
    """Pull a clip in odd-sized chunks and check it matches its declared shape and count."""
    blocks = list(video.chunks(chunk))
    frames = np.concatenate(blocks) if blocks else np.zeros((0, video.height, video.width, 3), np.uint8)
    assert frames.shape == (video.frame_count, video.height, video.width, 3)
    return frames


def clip(frames: int = 10, height: int = 32, width: int = 48, fps: float = 24.0) -> Video:
    return Video.from_array(moving_texture(frames, height, width, (1.5, 0.5)), fps)


def inner(a: np.ndarray, margin: int = 10) -> np.ndarray:
    return a[..., margin:-margin, margin:-margin, :]


# -- resize -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "size"),
    [({"scale": 2.0}, (96, 64)), ({"scale": 0.5, "method": "area"}, (24, 16)), ({"width": 72}, (72, 48)),
     ({"height": 48, "scale": 5.0}, (72, 48)), ({"width": 50, "height": 20}, (50, 20)),
     ({"scale": 1.25, "method": "nearest"}, (60, 40))],
)
def test_resize_sizes_keep_count_and_fps(params, size):
    out = run(ResizeVideo, video=clip(fps=12.5), **params)
    assert (out.width, out.height) == size
    assert out.frame_count == 10 and out.fps == 12.5
    drain(out)


def smooth(height: int, width: int, scale: float) -> np.ndarray:
    """A band-limited picture sampled so that pixel centres line up the way cv2.resize maps them."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    x, y = (x + 0.5) / scale - 0.5, (y + 0.5) / scale - 0.5  # in low-resolution pixel units
    img = np.stack([np.sin(x / 3.1 + c) * np.cos(y / 4.3 - c) + 0.5 * np.sin((x + y) / 5.0 + 2 * c)
                    for c in range(3)], axis=-1)
    return np.clip(np.rint(127.5 + 80 * img), 0, 255).astype(np.uint8)


def test_lanczos_upscale_of_a_smooth_image_is_close_to_the_truth():
    low, truth = smooth(40, 56, 1.0), smooth(120, 168, 3.0)
    video = Video.from_array(np.stack([low] * 3), 24)
    scores = {m: psnr(inner(drain(run(ResizeVideo, video=video, scale=3.0, method=m))[1]), inner(truth))
              for m in ("lanczos", "bicubic", "nearest")}
    assert scores["lanczos"] > 38, scores
    assert scores["lanczos"] > scores["nearest"] + 8, scores


def test_resize_rejects_a_size_beyond_the_limit_before_pulling_anything():
    never = Video(lambda: iter(()), fps=24, width=2000, height=1000, frame_count=5)
    with pytest.raises(UsageError, match="2000x1000 gives 32000x16000"):
        run(ResizeVideo, video=never, scale=16.0)


# -- interpolate --------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["fast", "quality"])
@pytest.mark.parametrize(("n", "factor"), [(1, 2), (2, 2), (5, 3), (17, 2), (4, 8)])
def test_interpolate_counts_fps_and_originals_in_place_and_keeps_the_duration(method, n, factor):
    source = Video.from_array(moving_texture(n, 24, 32, (1.2, 0.4)), 10.0)
    out = run(InterpolateVideo, video=source, factor=factor, method=method)
    assert out.fps == 10.0 * factor
    assert out.frame_count == n * factor and out.duration == pytest.approx(source.duration)  # sound still fits
    frames = drain(out, chunk=5)
    np.testing.assert_array_equal(frames[::factor], source.to_array())
    np.testing.assert_array_equal(frames[-factor:], np.repeat(source.to_array()[-1:], factor, axis=0))


def true_clip(frames: int, factor: int, shift: tuple[float, float], size=(96, 128)) -> np.ndarray:
    """The panning texture at every output time k / factor: the ground truth of interpolation."""
    return np.stack([texture_frame(*size, (shift[0] * k / factor, shift[1] * k / factor))
                     for k in range((frames - 1) * factor + 1)])


def blend(frames: np.ndarray, factor: int) -> np.ndarray:
    """Plain cross-fade interpolation, the baseline a motion-aware method must beat."""
    out = []
    for a, b in zip(frames[:-1], frames[1:], strict=True):
        for k in range(factor):
            t = k / factor
            out.append(np.rint((1 - t) * a + t * b).astype(np.uint8))
    out.append(frames[-1])
    return np.stack(out)


@pytest.mark.parametrize("method", ["fast", "quality"])
def test_interpolated_pan_beats_a_cross_fade(method):
    shift, factor = (4.6, -2.3), 2
    source = moving_texture(6, 96, 128, shift)
    truth = true_clip(6, factor, shift)
    out = drain(run(InterpolateVideo, video=Video.from_array(source, 24), factor=factor, method=method))
    out = out[:len(truth)]  # the rest holds the last frame
    mid = slice(1, None, factor)
    ours = np.mean([psnr(inner(a), inner(b)) for a, b in zip(out[mid], truth[mid], strict=True)])
    fade = np.mean([psnr(inner(a), inner(b)) for a, b in zip(blend(source, factor)[mid], truth[mid], strict=True)])
    assert ours > fade + 8, (ours, fade)
    assert ours > (38 if method == "fast" else 30), ours


@pytest.mark.parametrize("method", ["fast", "quality"])
def test_in_between_frames_land_at_the_right_times(method):
    shift, factor = (6.0, 2.0), 4
    source = moving_texture(3, 96, 128, shift)
    truth = true_clip(3, factor, shift)
    out = drain(run(InterpolateVideo, video=Video.from_array(source, 24), factor=factor, method=method))
    out = out[:len(truth)]  # the rest holds the last frame
    for k in range(1, len(out) - 1):
        scores = [psnr(inner(out[k]), inner(t)) for t in truth]
        assert int(np.argmax(scores)) == k, (k, np.round(scores, 1))


def test_fast_interpolation_of_a_moving_disc_has_no_ghosts():
    velocity = (5.2, 3.1)
    frames, centres = bouncing_shape(12, 64, 96, radius=9, velocity=velocity, seed=3)
    truth, half_centres = bouncing_shape(23, 64, 96, radius=9, velocity=(velocity[0] / 2, velocity[1] / 2), seed=3)
    np.testing.assert_allclose(half_centres[::2], centres)  # the half-speed clip holds the true midpoints
    out = drain(run(InterpolateVideo, video=Video.from_array(frames, 24), factor=2, method="fast"))
    fade = blend(frames, 2)
    steps = np.diff(np.sign(np.diff(centres, axis=0)), axis=0)
    straight = [2 * i + 1 for i in range(1, len(frames) - 2) if not steps[i - 1].any()]  # no bounce around pair i
    assert len(straight) >= 4
    ours = np.mean([psnr(out[k], truth[k]) for k in straight])
    base = np.mean([psnr(fade[k], truth[k]) for k in straight])
    assert ours > base + 8 and ours > 32, (ours, base)


def square_over_background(x: int) -> np.ndarray:
    """A textured square at column x sliding over a still textured background (occludes and reveals)."""
    frame = texture_frame(96, 128, seed=1)
    frame[30:70, x:x + 40] = texture_frame(40, 40, seed=7)
    return frame


def test_fast_interpolation_handles_occlusion_at_a_moving_edge():
    frames = np.stack([square_over_background(10 + 6 * i) for i in range(7)])
    truth = np.stack([square_over_background(10 + 3 * k) for k in range(13)])
    out = drain(run(InterpolateVideo, video=Video.from_array(frames, 24), factor=2, method="fast"))
    fade = blend(frames, 2)
    ours = np.mean([psnr(out[k], truth[k]) for k in range(1, 13, 2)])
    base = np.mean([psnr(fade[k], truth[k]) for k in range(1, 13, 2)])
    assert ours > base + 5 and ours > 30, (ours, base)


def test_interpolate_rejects_frames_too_small_for_motion_estimation():
    tiny = Video.from_array(np.zeros((3, 10, 40, 3), np.uint8), 24)
    with pytest.raises(UsageError, match="40x10.*video.resize"):
        run(InterpolateVideo, video=tiny)


# -- trim and concat ----------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "end", "expect"), [(0, 0, (0, 40)), (3, 0, (3, 40)), (0, 17, (0, 17)),
                                                      (15, 33, (15, 33)), (39, 40, (39, 40))])
def test_trim_keeps_exactly_the_range(start, end, expect):
    source = moving_texture(40, 16, 24, (1.0, 0.0))
    out = run(TrimVideo, video=Video.from_array(source, 30), start=start, end=end)
    assert out.frame_count == expect[1] - expect[0] and out.fps == 30
    np.testing.assert_array_equal(drain(out), source[expect[0]:expect[1]])


def test_trim_stops_pulling_its_input_after_the_range():
    pulled = []

    def frames():
        for i in range(1000):
            pulled.append(i)
            yield np.full((8, 8, 3), i % 256, np.uint8)

    source = Video.from_frames(frames, fps=24, width=8, height=8, frame_count=1000)
    out = drain(run(TrimVideo, video=source, start=5, end=20))
    assert out[0, 0, 0, 0] == 5 and len(out) == 15
    assert len(pulled) <= 20 + 16


@pytest.mark.parametrize(("start", "end"), [(40, 0), (10, 41), (0, 100)])
def test_trim_outside_the_clip_names_its_frame_count(start, end):
    with pytest.raises(UsageError, match="has 40 frames"):
        run(TrimVideo, video=Video.from_array(moving_texture(40, 16, 16), 24), start=start, end=end)


def test_trim_check_rejects_an_empty_range_up_front():
    assert TrimVideo.check({"start": 5, "end": 5})
    assert "end (3)" in TrimVideo.check({"start": 5, "end": 3})[0]
    assert TrimVideo.check({"start": 5, "end": 0}) == []


def test_concat_adds_frame_counts_in_order_at_the_first_clip_fps():
    a, b = moving_texture(7, 16, 24, (1, 0), seed=1), moving_texture(12, 16, 24, (0, 1), seed=2)
    messages: list[str] = []
    out = ConcatVideo().run(ctx(messages), first=Video.from_array(a, 24), second=Video.from_array(b, 30))["video"]
    assert out.frame_count == 19 and out.fps == 24
    np.testing.assert_array_equal(drain(out, chunk=5), np.concatenate([a, b]))
    assert messages and "30 fps" in messages[0]


def test_concat_of_different_sizes_names_both_and_suggests_resize():
    a, b = Video.from_array(np.zeros((2, 16, 24, 3), np.uint8), 24), Video.from_array(np.zeros((2, 20, 24, 3),
                                                                                           np.uint8), 24)
    with pytest.raises(UsageError, match=r"24x16.*24x20.*video\.resize"):
        run(ConcatVideo, first=a, second=b)


# -- streaming memory ---------------------------------------------------------------------------


def test_long_clip_streams_through_resize_interpolate_trim_in_bounded_memory():
    count, side = 1500, 256
    base = texture_frame(side, side * 2, seed=5)

    def frames():
        for i in range(count):
            x = (3 * i) % side
            yield base[:, x:x + side]

    source = Video.from_frames(frames, fps=24, width=side, height=side, frame_count=count)
    clip_bytes = count * side * side * 3
    tracemalloc.start()
    try:
        small = run(ResizeVideo, video=source, scale=0.25, method="area")
        smooth_clip = run(InterpolateVideo, video=small, factor=2, method="fast")
        out = run(TrimVideo, video=smooth_clip, start=10, end=2990)
        pulled = 0
        for block in out.chunks(16):
            pulled += len(block)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert pulled == out.frame_count == 2980
    assert peak < clip_bytes / 25, f"peak {peak / 1e6:.1f} MB for a {clip_bytes / 1e6:.0f} MB clip"
