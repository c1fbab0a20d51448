"""Mask nodes: made from pictures and boxes, grown, blurred and inverted, frame by frame."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from nodegraph.errors import UsageError
from nodegraph.mask import Mask
from nodegraph.media import Image, Video
from nodes.io.images import LoadImage
from nodes.masks import BlurMask, GrowMask, InvertMask, MaskBox, MaskFromImage, MaskToVideo

try:
    from .run_node import run_node
except ImportError:  # tests/nodes is not a package yet
    from run_node import run_node


def square_mask(size: int = 64, lo: int = 24, hi: int = 40, frames: int = 3) -> Mask:
    array = np.zeros((frames, size, size), np.uint8)
    array[:, lo:hi, lo:hi] = 255
    return Mask.from_array(array, fps=8)


def marked_box(frame: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(frame >= 128)
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def test_luminance_marks_white_and_threshold_makes_it_hard():
    frames = np.zeros((5, 16, 16, 3), np.uint8)
    frames[:, 4:8, 4:8] = 255
    frames[:, 10:12, 10:12] = 100
    mask = run_node(MaskFromImage, video=Video.from_array(frames, 10))["mask"]
    got = mask.to_array()
    assert (mask.frame_count, mask.fps) == (5, 10) and got[0, 5, 5] == 255 and got[0, 0, 0] == 0
    assert got[0, 10, 10] == 100
    hard = run_node(MaskFromImage, video=Video.from_array(frames, 10), threshold=128)["mask"].to_array()
    assert hard[0, 10, 10] == 0 and hard[0, 5, 5] == 255 and set(np.unique(hard)) == {0, 255}


def test_a_channel_and_a_colour_key_mark_what_they_name():
    picture = np.zeros((8, 8, 3), np.uint8)
    picture[:, :4] = (0, 250, 10)  # a green screen on the left
    picture[:, 4:] = (200, 30, 40)  # a red subject on the right
    image = Image(picture)
    keyed = run_node(MaskFromImage, image=image, source="colour key", key_colour="#00ff00", tolerance=20)["mask"]
    assert keyed.frame_count == 1
    assert (keyed.to_array()[0, :, :4] == 255).all() and (keyed.to_array()[0, :, 4:] == 0).all()
    red = run_node(MaskFromImage, image=image, source="red")["mask"].to_array()[0]
    assert red[0, 0] == 0 and red[0, 7] == 200
    assert MaskFromImage.check({"source": "colour key", "key_colour": "green"})[0].startswith("key_colour:")


def test_alpha_and_transparency_from_a_png_with_transparency(tmp_path):
    bgra = np.full((10, 12, 4), 255, np.uint8)
    bgra[2:5, 3:9, 3] = 0  # a hole erased for inpainting
    cv2.imwrite(str(tmp_path / "erased.png"), bgra)
    image = run_node(LoadImage, path=str(tmp_path / "erased.png"))["image"]
    holes = run_node(MaskFromImage, image=image, source="transparency")["mask"].to_array()[0]
    assert marked_box(holes) == (3, 2, 8, 4) and holes.sum() == 18 * 255
    opaque = run_node(MaskFromImage, image=image, source="alpha")["mask"].to_array()[0]
    assert (opaque == 255 - holes).all()
    cv2.imwrite(str(tmp_path / "opaque.png"), bgra[..., :3])
    with pytest.raises(UsageError, match="no alpha channel"):
        run_node(MaskFromImage, image=run_node(LoadImage, path=str(tmp_path / "opaque.png"))["image"], source="alpha")
    with pytest.raises(UsageError, match="videos carry none"):
        run_node(MaskFromImage, video=Video.from_array(bgra[None, ..., :3].copy(), 5), source="alpha")


def test_mask_from_image_wants_exactly_one_picture():
    with pytest.raises(UsageError, match="connect an IMAGE"):
        run_node(MaskFromImage)
    with pytest.raises(UsageError, match="both are connected"):
        run_node(MaskFromImage, image=Image(np.zeros((4, 4, 3), np.uint8)),
            video=Video.from_array(np.zeros((1, 4, 4, 3), np.uint8), 5))


def test_a_box_marks_exactly_its_rectangle_for_the_whole_clip_without_decoding_it():
    pulled = []

    def source():
        pulled.append(1)
        yield np.zeros((40, 30, 50, 3), np.uint8)

    video = Video(source, fps=15, width=50, height=30, frame_count=40)
    mask = run_node(MaskBox, video=video, x=10, y=5, width=20, height=8)["mask"]
    frames = mask.to_array()
    assert frames.shape == (40, 30, 50) and mask.fps == 15 and not pulled
    assert (frames[:, 5:13, 10:30] == 255).all() and frames.sum() == 40 * 20 * 8 * 255


def test_a_box_outside_the_frame_is_refused_before_and_while_running():
    with pytest.raises(ValueError, match="outside the 50x30 frame"):
        MaskBox.frame_size({"x": 40, "y": 0, "width": 20, "height": 8}, {"video": (50, 30)})
    with pytest.raises(UsageError, match="x \\+ width at most 50"):
        run_node(MaskBox, image=Image(np.zeros((30, 50, 3), np.uint8)), x=40, width=20)


@pytest.mark.parametrize("pixels", [1, 5, 10])
def test_grow_by_n_moves_every_edge_out_by_n_and_shrink_moves_it_in(pixels):
    mask = square_mask(lo=20, hi=44)  # marked 20..43 on both axes
    grown = run_node(GrowMask, mask=mask, pixels=pixels)["mask"].to_array()
    assert marked_box(grown[0]) == (20 - pixels, 20 - pixels, 43 + pixels, 43 + pixels)
    assert grown[0, 32, 20 - pixels] == 255 and grown[0, 32, 19 - pixels] == 0  # the edge moved n, not n + 1
    shrunk = run_node(GrowMask, mask=mask, pixels=-pixels)["mask"].to_array()
    assert marked_box(shrunk[-1]) == (20 + pixels, 20 + pixels, 43 - pixels, 43 - pixels)


def test_shrinking_a_mask_does_not_eat_in_from_the_frame_edge():
    full = Mask.filled(255, width=20, height=10, frame_count=2, fps=8)
    assert (run_node(GrowMask, mask=full, pixels=-3)["mask"].to_array() == 255).all()


def test_blur_softens_edges_over_about_the_radius_and_leaves_the_rest():
    blurred = run_node(BlurMask, mask=square_mask(), radius=6)["mask"].to_array()[0]
    row = blurred[32]
    assert row[0] == 0 and row[32] == 255  # far from any edge: unchanged
    soft = np.nonzero((row > 5) & (row < 250))[0]
    assert soft.min() >= 24 - 6 and soft.max() <= 39 + 6 and len(soft) >= 6
    assert run_node(BlurMask, mask=(mask := square_mask()), radius=0)["mask"] is mask


def test_invert_swaps_marked_and_unmarked_and_to_video_shows_it_grey():
    mask = Mask.from_array(np.array([[[0, 255, 100]]], np.uint8), fps=4)
    inverted = run_node(InvertMask, mask=mask)["mask"]
    assert inverted.to_array().tolist() == [[[255, 0, 155]]]
    video = run_node(MaskToVideo, mask=inverted)["video"]
    assert video.to_array()[0, 0].tolist() == [[255] * 3, [0] * 3, [155] * 3]


def test_a_mask_node_without_its_mask_says_so():
    with pytest.raises(UsageError, match="mask.grow needs a mask"):
        run_node(GrowMask)


def test_a_soft_mask_grows_and_shrinks_by_the_same_distances():
    soft = square_mask(lo=20, hi=44).to_array()
    soft[soft == 255] = 200  # soft levels take the kernel path
    grown = run_node(GrowMask, mask=Mask.from_array(soft, 8), pixels=5)["mask"].to_array()[0]
    assert grown[32, 15] == 200 and grown[32, 14] == 0 and grown.max() == 200
    shrunk = run_node(GrowMask, mask=Mask.from_array(soft, 8), pixels=-5)["mask"].to_array()[0]
    assert shrunk[32, 25] == 200 and shrunk[32, 24] == 0
