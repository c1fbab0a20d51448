"""control.edges and control.depth: what the control videos show, and models loaded as users keep them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nodegraph.errors import UsageError
from nodegraph.media import Video
from nodes.control import DepthVideo, EdgesVideo

try:
    from .run_node import run_node
    from .synth import moving_texture
    from .tiny_depth import save_tiny_depth
except ImportError:  # tests/nodes is not a package yet
    from run_node import run_node
    from synth import moving_texture
    from tiny_depth import save_tiny_depth


def square_clip(frames: int = 4) -> Video:
    array = np.zeros((frames, 40, 60, 3), np.uint8)
    for t in range(frames):
        array[t, 10:30, 10 + 2 * t:30 + 2 * t] = 220
    return Video.from_array(array, 12)


def test_edges_outline_the_shape_in_white_and_leave_flat_areas_black():
    edges = run_node(EdgesVideo, video=square_clip())["video"]
    frames = edges.to_array()
    assert frames.shape == (4, 40, 60, 3) and edges.fps == 12
    first = frames[0, ..., 0]
    assert set(np.unique(first)) == {0, 255} and (frames[..., 0] == frames[..., 2]).all()
    assert first[20, 9:11].max() == 255 and first[20, 29:31].max() == 255  # left and right sides of the square
    assert first[20, 14:26].max() == 0 and first[:, 40:].max() == 0  # inside it and the empty right part
    assert frames[3, 20, 15:17].max() == 255  # it follows the square as it moves


def test_edges_refuse_a_low_threshold_above_the_high_one():
    assert "set low at or below high" in EdgesVideo.check({"low": 300, "high": 100})[0]
    with pytest.raises(UsageError, match="low \\(300\\) is above high \\(100\\)"):
        run_node(EdgesVideo, video=square_clip(), low=300, high=100)


@pytest.fixture(scope="module")
def depth_folder(tmp_path_factory):
    return save_tiny_depth(tmp_path_factory.mktemp("depth") / "Depth-Anything-V2-Tiny")


def direct_depth(folder, frames: np.ndarray) -> np.ndarray:
    """Depth Anything through transformers called directly, stretched to 0..255 per frame."""
    import torch
    from transformers import AutoImageProcessor, AutoModelForDepthEstimation

    processor = AutoImageProcessor.from_pretrained(folder)
    model = AutoModelForDepthEstimation.from_pretrained(folder).eval()
    out = []
    for frame in frames:
        with torch.no_grad():
            outputs = model(**processor(images=frame, return_tensors="pt"))
        depth = processor.post_process_depth_estimation(outputs, target_sizes=[frame.shape[:2]])[0]
        depth = depth["predicted_depth"].numpy()
        out.append(np.rint((depth - depth.min()) / (depth.max() - depth.min()) * 255))
    return np.stack(out)


def test_depth_equals_transformers_called_directly_within_one_level(depth_folder):
    video = Video.from_array(moving_texture(5, 36, 50), 10)
    depth = run_node(DepthVideo, video=video, model=str(depth_folder), batch=2)["video"]
    frames = depth.to_array()
    assert frames.shape == (5, 36, 50, 3) and depth.fps == 10
    assert (frames[..., 0] == frames[..., 1]).all() and (frames[..., 1] == frames[..., 2]).all()
    assert all(f.min() == 0 and f.max() == 255 for f in frames[..., 0])  # each frame spans the full range
    expected = direct_depth(depth_folder, video.to_array())
    assert np.abs(frames[..., 0].astype(int) - expected).max() <= 1


def test_depth_loads_from_the_weights_file_inside_its_folder(depth_folder):
    video = Video.from_array(moving_texture(2, 28, 28), 10)
    by_file = run_node(DepthVideo, video=video, model=str(depth_folder / "model.safetensors"))["video"].to_array()
    assert np.array_equal(by_file, run_node(DepthVideo, video=video, model=str(depth_folder))["video"].to_array())


def test_depth_refuses_what_is_not_a_depth_anything_folder_with_the_fix(tmp_path, depth_folder):
    video = square_clip(1)
    lone = tmp_path / "lone" / "depth.safetensors"
    lone.parent.mkdir()
    lone.write_bytes((depth_folder / "model.safetensors").read_bytes())
    with pytest.raises(UsageError, match="without its config.json beside it"):
        run_node(DepthVideo, video=video, model=str(lone))
    other = tmp_path / "other"
    other.mkdir()
    (other / "config.json").write_text(json.dumps({"model_type": "dpt"}))
    with pytest.raises(UsageError, match="holds a 'dpt' model, not Depth Anything"):
        run_node(DepthVideo, video=video, model=str(other))
    with pytest.raises(UsageError, match="neither a folder, a file nor a Hugging Face id"):
        run_node(DepthVideo, video=video, model=str(tmp_path / "nowhere"))


def test_a_depth_model_not_downloaded_is_named_before_the_run_node(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    notices = DepthVideo.notices({"model": "depth-anything/Depth-Anything-V2-Small-hf"})
    assert notices and notices[0].startswith("not downloaded: model 'depth-anything/Depth-Anything-V2-Small-hf'")
    assert "hf download depth-anything/Depth-Anything-V2-Small-hf" in notices[0]
