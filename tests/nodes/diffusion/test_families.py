"""LTX-Video and CogVideoX through the node graph match direct diffusers calls with the same settings."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import add_image_source, add_video_source, max_level_diff, moving_texture, pipeline_graph, run_frames
from helpers import to_uint8 as float_to_uint8

from nodegraph import Scheduler
from nodes.diffusion.loading import pipeline_dtype


def direct(cls_name: str, folder, seed: int, **kwargs) -> np.ndarray:
    import diffusers

    pipe = getattr(diffusers, cls_name).from_pretrained(str(folder), **pipeline_dtype(torch.float32))
    pipe.set_progress_bar_config(disable=True)
    out = pipe(generator=torch.Generator("cpu").manual_seed(seed), output_type="np", **kwargs)
    return float_to_uint8(out.frames[0])


CASES = {
    # name: (tiny model, pipeline class, size, extra direct kwargs, input kind)
    "ltx_t2v": ("ltx", "LTXPipeline", 32, {}, None),
    "ltx_i2v": ("ltx_i2v", "LTXImageToVideoPipeline", 32, {}, "image"),
    "cogvideox_t2v": ("cogvideox", "CogVideoXPipeline", 16, {"max_sequence_length": 16}, None),
    "cogvideox_v2v": ("cogvideox", "CogVideoXVideoToVideoPipeline", 16, {"max_sequence_length": 16}, "video"),
    "cogvideox_i2v": ("cogvideox_i2v", "CogVideoXImageToVideoPipeline", 16, {"max_sequence_length": 16}, "image"),
    "svd_i2v": ("svd", "StableVideoDiffusionPipeline", 32, {}, "image"),
    "animatediff_t2v": ("animatediff", "AnimateDiffPipeline", 16, {}, None),
    "animatediff_v2v": ("animatediff", "AnimateDiffVideoToVideoPipeline", 16, {}, "video"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_graph_matches_direct_call(registry, tiny_model, tmp_path, case):
    from PIL import Image as PILImage

    name, cls_name, size, extra, kind = CASES[case]
    folder = tiny_model(name)
    sample = dict(width=size, height=size, frames=9, steps=2, guidance=3.0, seed=11, strength=0.7)
    graph = pipeline_graph({"source": str(folder)}, sample)
    direct_kwargs = dict(prompt="a cat dances", negative_prompt="blurry", width=size, height=size,
                         num_inference_steps=2, guidance_scale=3.0, **extra)
    if name == "svd":  # no text; `guidance` is the top of SVD's guidance ramp
        for key in ("prompt", "negative_prompt", "guidance_scale"):
            direct_kwargs.pop(key)
        direct_kwargs["max_guidance_scale"] = 3.0
    clip = moving_texture(9, size, size)
    if kind == "image":
        add_image_source(registry, graph, f"img_{case}", clip[0], "sample", "image")
        direct_kwargs["image"] = PILImage.fromarray(clip[0])
    if kind == "video":
        add_video_source(registry, graph, f"vid_{case}", clip, "sample", "video")
        direct_kwargs.update(video=[PILImage.fromarray(f) for f in clip], strength=0.7)
    else:
        direct_kwargs["num_frames"] = 9
    frames = run_frames(Scheduler(registry, output_dir=tmp_path), graph)
    expected = direct(cls_name, folder, 11, **direct_kwargs)
    assert frames.shape == (9, size, size, 3)
    assert max_level_diff(frames, expected) <= 1
    assert frames.std() > 1.0


def test_svd_without_an_image_fails_validation(registry, tiny_model):
    from nodegraph import ValidationError, validate

    graph = pipeline_graph({"source": str(tiny_model("svd"))}, dict(width=32, height=32, frames=4))
    with pytest.raises(ValidationError, match="image-to-video: connect an image"):
        validate(graph, registry)


def test_animatediff_frame_limit_is_a_validation_error(registry, tiny_model):
    from nodegraph import ValidationError, validate

    graph = pipeline_graph({"source": str(tiny_model("animatediff"))}, dict(width=16, height=16, frames=40))
    with pytest.raises(ValidationError, match="frames 40 does not suit AnimateDiff"):
        validate(graph, registry)


def test_image_and_video_together_is_a_validation_error(registry, tiny_model):
    from helpers import add_image_source, add_video_source

    from nodegraph import ValidationError, validate

    graph = pipeline_graph({"source": str(tiny_model("wan"))}, dict(width=32, height=32, frames=9, strength=0.5))
    rgb = np.zeros((32, 32, 3), np.uint8)
    add_image_source(registry, graph, "still", rgb, "sample", "image")
    add_video_source(registry, graph, "clip", np.zeros((9, 32, 32, 3), np.uint8), "sample", "video")
    with pytest.raises(ValidationError, match="both image and video are connected"):
        validate(graph, registry)


@pytest.mark.parametrize("index, modes", [
    ({"_class_name": "WanPipeline", "transformer_2": [None, None]}, ("t2v", "v2v")),  # Wan 2.1 T2V
    ({"_class_name": "WanPipeline", "expand_timesteps": True}, ("t2v", "i2v")),  # Wan 2.2 TI2V-5B
    ({"_class_name": "WanPipeline", "transformer_2": ["diffusers", "WanTransformer3DModel"],
      "boundary_ratio": 0.875}, ("t2v",)),  # Wan 2.2 T2V-A14B: two transformers
    ({"_class_name": "WanImageToVideoPipeline"}, ("i2v",)),
])
def test_wan_models_offer_only_the_modes_diffusers_can_run_them_in(index, modes):
    from nodes.diffusion.families.wan import ADAPTER

    configs = {"transformer": {"in_channels": 16, "out_channels": 16}}
    assert ADAPTER.model_modes(index, configs) == modes
