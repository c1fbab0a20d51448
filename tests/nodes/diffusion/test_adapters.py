"""The family adapter contract: a family writes only what differs from the base (the common pipeline call)."""

from __future__ import annotations

import numpy as np

from nodes.diffusion.families import FamilyAdapter


class PlainAdapter(FamilyAdapter):
    """A family that declares its pipelines and nothing of the call."""

    name = "plain"
    title = "Plain"
    pipelines = {"t2v": "WanPipeline", "i2v": "WanImageToVideoPipeline", "v2v": "WanVideoToVideoPipeline"}
    max_sequence_length = 77


def _call(fam, mode, **inputs):
    values = {"image": None, "last_image": None, "video": None, **inputs}
    return fam.call_kwargs(None, mode, width=32, height=16, frames=5, steps=3, guidance=4.0, strength=0.5, **values)


def test_a_family_gets_the_common_pipeline_call_without_writing_one():
    from nodegraph.media import Image, Video

    fam = PlainAdapter()
    common = dict(width=32, height=16, num_inference_steps=3, guidance_scale=4.0, max_sequence_length=77)
    assert _call(fam, "t2v") == dict(common, num_frames=5)

    first, last = Image(np.zeros((16, 32, 3), np.uint8)), Image(np.full((16, 32, 3), 255, np.uint8))
    called = _call(fam, "i2v", image=first, last_image=last)
    assert {k: v for k, v in called.items() if k not in ("image", "last_image")} == dict(common, num_frames=5)
    assert called["image"].size == (32, 16) and called["last_image"].getpixel((0, 0)) == (255, 255, 255)

    clip = Video.from_array(np.zeros((7, 16, 32, 3), np.uint8), fps=16)
    called = _call(fam, "v2v", video=clip)
    assert "num_frames" not in called and called["strength"] == 0.5  # the clip sets the frame count
    assert len(called["video"]) == 7 and called["video"][0].size == (32, 16)

    fam.max_sequence_length = None  # a pipeline whose call takes no prompt length (AnimateDiff's)
    assert "max_sequence_length" not in _call(fam, "t2v")
