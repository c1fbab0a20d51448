"""video.crop / video.pad / video.color / image.crop / image.resize: what lands where, and clear refusals."""

from __future__ import annotations

import numpy as np
import pytest

from nodegraph.errors import UsageError
from nodegraph.media import Image, Video
from nodes.video import ColorVideo, CropImage, CropVideo, PadVideo, ResizeImage

try:
    from .run_node import run_node
    from .synth import moving_texture
except ImportError:  # tests/nodes is not a package yet
    from run_node import run_node
    from synth import moving_texture


def clip(frames: int = 6, height: int = 24, width: int = 40) -> Video:
    return Video.from_array(moving_texture(frames, height, width), 12)


def test_crop_keeps_exactly_the_rectangle_of_every_frame():
    video = clip()
    out = run_node(CropVideo, video=video, x=5, y=3, width=20, height=10)["video"]
    assert (out.width, out.height, out.frame_count, out.fps) == (20, 10, 6, 12)
    assert np.array_equal(out.to_array(), video.to_array()[:, 3:13, 5:25])


def test_a_crop_outside_the_frame_is_refused_with_the_frame_size():
    with pytest.raises(UsageError, match=r"reaches \(45, 13\), outside the 40x24 frame"):
        run_node(CropVideo, video=clip(), x=25, y=3, width=20, height=10)
    with pytest.raises(ValueError, match="outside the 40x24 frame"):  # before a run: validation asks frame_size
        CropVideo.frame_size({"x": 0, "y": 20, "width": 40, "height": 10}, {"video": (40, 24)})
    assert CropVideo.frame_size({"x": 0, "y": 0, "width": 16, "height": 8}, {"video": (40, 24)}) == (16, 8)


@pytest.mark.parametrize("fill", ["colour", "edge", "mirror"])
def test_the_pad_mask_covers_exactly_the_padding_and_the_picture_is_untouched(fill):
    video = clip()
    out = run_node(PadVideo, video=video, left=7, top=2, right=3, bottom=5, fill=fill)
    padded, mask = out["video"], out["mask"]
    assert (padded.width, padded.height) == (50, 31) == (mask.width, mask.height)
    assert mask.frame_count == padded.frame_count == 6 and mask.fps == 12
    frames, marks = padded.to_array(), mask.to_array()
    assert np.array_equal(frames[:, 2:26, 7:47], video.to_array())
    inside = np.zeros((31, 50), bool)
    inside[2:26, 7:47] = True
    assert (marks[:, inside] == 0).all() and (marks[:, ~inside] == 255).all()
    if fill == "colour":
        assert (frames[:, ~inside] == 128).all()  # mid grey, #808080
    if fill == "edge":
        assert np.array_equal(frames[:, 2:26, 0], frames[:, 2:26, 7])


def test_pad_refuses_a_mirror_wider_than_the_frame_and_a_bad_colour():
    with pytest.raises(UsageError, match="smaller than the frame"):
        run_node(PadVideo, video=clip(), left=40, fill="mirror")
    assert PadVideo.check({"fill": "colour", "colour": "grey"})[0].startswith("colour:")
    out = run_node(PadVideo, video=clip(), top=4, colour="255, 0, 0")["video"].to_array()
    assert out[0, 0, 0].tolist() == [255, 0, 0]


def test_colour_defaults_pass_the_clip_through_and_each_control_does_what_it_says():
    video = clip()
    assert run_node(ColorVideo, video=video)["video"] is video
    frames = video.to_array().astype(int)
    grey = run_node(ColorVideo, video=video, saturation=0.0)["video"].to_array().astype(int)
    assert (np.abs(grey[..., 0] - grey[..., 1]) <= 1).all() and (np.abs(grey[..., 1] - grey[..., 2]) <= 1).all()
    flat = run_node(ColorVideo, video=video, contrast=0.0)["video"].to_array()
    assert (flat == 128).all()
    brighter = run_node(ColorVideo, video=video, brightness=0.1)["video"].to_array().astype(int)
    unclipped = frames < 200
    assert (np.abs(brighter[unclipped] - frames[unclipped] - 26) <= 1).all()
    ramp = Video.from_array(np.repeat(np.array([0, 64, 128, 255], np.uint8), 3).reshape(1, 1, 4, 3), 12)
    lifted = run_node(ColorVideo, video=ramp, gamma=2.0)["video"].to_array()[0, 0, :, 0]
    assert lifted.tolist() == [0, 128, 181, 255]  # mid-tones up, black and white stay


def test_image_crop_and_resize_carry_the_alpha_along():
    picture = np.zeros((20, 30, 3), np.uint8)
    picture[5:10, 10:20] = 255
    alpha = np.zeros((20, 30), np.uint8)
    alpha[5:10, 10:20] = 255
    image = Image(picture, alpha=alpha)
    cropped = run_node(CropImage, image=image, x=10, y=5, width=10, height=5)["image"]
    assert (cropped.array == 255).all() and (cropped.alpha == 255).all()
    with pytest.raises(UsageError, match="outside the 30x20 frame"):
        run_node(CropImage, image=image, x=25, y=0, width=10, height=5)
    resized = run_node(ResizeImage, image=image, scale=2.0, method="nearest")["image"]
    assert (resized.width, resized.height) == (60, 40) and resized.alpha.shape == (40, 60)
    assert np.array_equal(resized.alpha, resized.array[..., 0])
    assert run_node(ResizeImage, image=Image(picture), width=15)["image"].array.shape == (10, 15, 3)


def test_a_crop_outside_a_loaded_picture_is_found_when_the_workflow_is_checked(tmp_path):
    import cv2

    from nodegraph import Graph, Link, NodeInstance, NodeRegistry
    from nodegraph.errors import ValidationError
    from nodegraph.validate import validate
    from nodes import register

    cv2.imwrite(str(tmp_path / "photo.png"), np.zeros((30, 50, 3), np.uint8))
    registry = NodeRegistry()
    register(registry)
    graph = Graph("crop")
    graph.add_node(NodeInstance("load", "image.load", {"path": str(tmp_path / "photo.png")}))
    graph.add_node(NodeInstance("crop", "image.crop", {"x": 40, "y": 0, "width": 20, "height": 10}))
    graph.connect(Link("load", "image", "crop", "image"))
    with pytest.raises(ValidationError, match="crop: the crop 20x10 at \\(40, 0\\) .* outside the 50x30 frame"):
        validate(graph, registry)
    graph.nodes["crop"].params["x"] = 30
    validate(graph, registry)
