"""video.interpolate: the rife method on RIFE 4.x weights in the published layouts, and scene cuts held (not
morphed) for every method."""

from __future__ import annotations

import numpy as np
import pytest

from nodegraph.cache import ResourceCache
from nodegraph.errors import UsageError
from nodegraph.media import Video
from nodegraph.node import NodeContext
from nodes.video import InterpolateVideo
from nodes.video.scene_cut import DEFAULT_THRESHOLD, CutScorer, thumbnail

try:
    from .synth import moving_texture, texture_frame
    from .tiny_rife import LAYOUTS, save_rife
except ImportError:  # tests/nodes is not a package
    from synth import moving_texture, texture_frame
    from tiny_rife import LAYOUTS, save_rife


def interpolate(video: Video, **params) -> np.ndarray:
    settings = InterpolateVideo.defaults() | params
    ctx = NodeContext("interp", "test", device="cpu", resources=ResourceCache())
    out = InterpolateVideo().run(ctx, video=video, **settings)["video"]
    frames = np.concatenate(list(out.chunks(7)))
    assert frames.shape == (out.frame_count, out.height, out.width, 3)
    return frames


def cut_clip(before: int = 4, after: int = 4, size: int = 64) -> np.ndarray:
    """A pan over one texture, then a hard cut to a pan over another."""
    first = moving_texture(before, size, size, (1.5, 0.5), seed=1)
    second = moving_texture(after, size, size, (-1.0, 1.0), seed=7)
    return np.concatenate([first, second])


@pytest.mark.parametrize("version", sorted(LAYOUTS))
def test_rife_layouts_load_and_keep_the_originals(tmp_path, version):
    frames = moving_texture(3, 40, 56, (1.0, 0.5))
    path = save_rife(tmp_path, version)
    out = interpolate(Video.from_array(frames, 12.0), method="rife", model=str(path), factor=3)
    assert out.shape == (9, 40, 56, 3)  # 3 frames x 3, the last held so the clip lasts as long
    assert np.array_equal(out[::3], frames)


def test_rife_with_no_flow_and_an_even_mask_averages_the_two_frames(tmp_path):
    """Checks the warp and the blend: zero flow samples every pixel where it is, an even mask mixes half and half."""
    a, b = texture_frame(40, 40, seed=2), texture_frame(40, 40, seed=5)
    path = save_rife(tmp_path, "4.7", suffix=".safetensors", zero_output=True)
    out = interpolate(Video.from_array(np.stack([a, b]), 12.0), method="rife", model=str(path), scene_cut=0.0)
    average = (a.astype(np.float32) + b.astype(np.float32)) / 2
    assert np.abs(out[1].astype(np.float32) - average).max() <= 1.0


def test_rife_needs_a_model_and_names_a_file_that_is_not_rife(tmp_path):
    assert InterpolateVideo.check({"method": "rife", "model": ""}) == [
        "method rife needs a RIFE 4.x weights file in model (for instance rife47.pth); set model"]
    import torch

    other = tmp_path / "esrgan.pth"
    torch.save({"conv_first.weight": torch.zeros(8, 3, 3, 3)}, other)
    with pytest.raises(UsageError, match=r"esrgan.pth is not a RIFE 4.x model \(no ResConv flow blocks\)"):
        interpolate(Video.from_array(moving_texture(2, 32, 32), 12.0), method="rife", model=str(other))


def test_rife_weights_that_pickle_code_are_refused(tmp_path):
    import torch

    path = tmp_path / "flownet.pkl"
    torch.save({"block0.conv0.0.0.weight": torch.zeros(1), "x": _Payload()}, path)
    with pytest.raises(UsageError, match="flownet.pkl holds more than tensors and is not unpickled"):
        interpolate(Video.from_array(moving_texture(2, 32, 32), 12.0), method="rife", model=str(path))


class _Payload:
    def __reduce__(self):
        return (print, ("unpickled code ran",))


# -- scene cuts -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("natural", [False, True])
def test_a_hard_cut_scores_far_above_a_fast_pan(natural):
    def frame(seed, shift=0.0):
        return thumbnail(texture_frame(96, 128, offset=(shift, shift / 2), seed=seed, natural=natural))

    scorer = CutScorer()
    pan = max(scorer.score(frame(1), frame(1, shift)) for shift in (1.5, 3.0, 6.0))  # up to 5% of the width
    cut = min(scorer.score(frame(1), frame(seed)) for seed in (2, 3, 7))
    assert pan < DEFAULT_THRESHOLD * 0.7 and cut > DEFAULT_THRESHOLD * 1.4


@pytest.mark.parametrize("method", ["fast", "quality", "rife"])
def test_a_cut_gets_no_blended_frame(tmp_path, method):
    frames = cut_clip()
    extra = {"model": str(save_rife(tmp_path, "4.7", zero_output=True))} if method == "rife" else {}
    out = interpolate(Video.from_array(frames, 12.0), method=method, factor=2, **extra)
    assert out.shape[0] == 2 * len(frames)
    at_cut = out[2 * 3 + 1]  # between frame 3 (last of the first shot) and frame 4 (first of the second)
    assert np.array_equal(at_cut, frames[3])
    inside = out[2 * 1 + 1]  # within the first shot: a real in-between
    assert not np.array_equal(inside, frames[1]) and not np.array_equal(inside, frames[2])
    blended = interpolate(Video.from_array(frames, 12.0), method=method, factor=2, scene_cut=0.0, **extra)
    assert not np.array_equal(blended[2 * 3 + 1], frames[3])  # detection off: the two shots are morphed
