"""Wan through the node graph gives the frames of a direct diffusers call with the same settings."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import (
    add_image_source,
    add_video_source,
    max_level_diff,
    moving_texture,
    pipeline_graph,
    run_frames,
    to_uint8,
)

from nodegraph import Scheduler
from nodes.diffusion.loading import pipeline_dtype

SAMPLE = dict(width=32, height=32, frames=9, steps=2, guidance=4.0, seed=7)


def direct(cls_name: str, folder, components: dict | None = None, **kwargs) -> np.ndarray:
    import diffusers

    pipe = getattr(diffusers, cls_name).from_pretrained(str(folder), **pipeline_dtype(torch.float32),
                                                        **(components or {}))
    pipe.set_progress_bar_config(disable=True)
    if cls_name != "WanPipeline":  # their prompt cleaners need ftfy; the text path is WanPipeline's
        text = diffusers.WanPipeline(tokenizer=pipe.tokenizer, text_encoder=pipe.text_encoder, vae=pipe.vae,
                                     scheduler=pipe.scheduler)
        embeds = text.encode_prompt(kwargs.pop("prompt"), kwargs.pop("negative_prompt"), max_sequence_length=512)
        kwargs.update(prompt_embeds=embeds[0], negative_prompt_embeds=embeds[1])
    out = pipe(generator=torch.Generator("cpu").manual_seed(kwargs.pop("seed")), output_type="np", **kwargs)
    return to_uint8(out.frames[0])


def test_text_to_video_matches_direct_call(registry, tiny_model, tmp_path):
    folder = tiny_model("wan")
    graph = pipeline_graph({"source": str(folder)}, SAMPLE)
    frames = run_frames(Scheduler(registry, output_dir=tmp_path), graph)
    expected = direct("WanPipeline", folder, prompt="a cat dances", negative_prompt="blurry", width=32, height=32,
                      num_frames=9, num_inference_steps=2, guidance_scale=4.0, seed=7)
    assert frames.shape == (9, 32, 32, 3)
    assert max_level_diff(frames, expected) <= 1
    assert frames.std() > 1.0  # not a blank clip


def test_image_to_video_with_last_frame_matches_direct_call(registry, tiny_model, tmp_path):
    from PIL import Image as PILImage

    folder = tiny_model("wan_i2v")
    first, last = moving_texture(2, 32, 32, seed=1)
    graph = pipeline_graph({"source": str(folder)}, SAMPLE)
    add_image_source(registry, graph, "first", first, "sample", "image")
    add_image_source(registry, graph, "last", last, "sample", "last_image")
    frames = run_frames(Scheduler(registry, output_dir=tmp_path), graph)
    expected = direct("WanImageToVideoPipeline", folder, image=PILImage.fromarray(first),
                      last_image=PILImage.fromarray(last), prompt="a cat dances", negative_prompt="blurry",
                      width=32, height=32, num_frames=9, num_inference_steps=2, guidance_scale=4.0, seed=7)
    assert max_level_diff(frames, expected) <= 1


def test_video_to_video_matches_direct_call(registry, tiny_model, tmp_path):
    from PIL import Image as PILImage

    folder = tiny_model("wan")
    clip = moving_texture(9, 32, 32)
    graph = pipeline_graph({"source": str(folder)}, dict(SAMPLE, strength=0.6, steps=3))
    add_video_source(registry, graph, "clip", clip, "sample", "video")
    frames = run_frames(Scheduler(registry, output_dir=tmp_path), graph)
    expected = direct("WanVideoToVideoPipeline", folder, video=[PILImage.fromarray(f) for f in clip],
                      prompt="a cat dances", negative_prompt="blurry", width=32, height=32, strength=0.6,
                      num_inference_steps=3, guidance_scale=4.0, seed=7)
    assert frames.shape == (9, 32, 32, 3)
    assert max_level_diff(frames, expected) <= 1


def test_wan22_ti2v_text_and_image_to_video_match_direct_calls(registry, tiny_model, tmp_path):
    """TI2V-5B's layout: a patchified 16x VAE and per-token timesteps; one model does both modes."""
    from PIL import Image as PILImage

    folder = tiny_model("wan22_ti2v")
    settings = dict(prompt="a cat dances", negative_prompt="blurry", width=32, height=32, num_frames=9,
                    num_inference_steps=2, guidance_scale=4.0, seed=7)
    text = run_frames(Scheduler(registry, output_dir=tmp_path), pipeline_graph({"source": str(folder)}, SAMPLE))
    assert max_level_diff(text, direct("WanPipeline", folder, **dict(settings))) <= 1

    (first,) = moving_texture(1, 32, 32, seed=2)
    graph = pipeline_graph({"source": str(folder)}, SAMPLE)
    add_image_source(registry, graph, "first22", first, "sample", "image")
    frames = run_frames(Scheduler(registry, output_dir=tmp_path), graph)
    expected = direct("WanImageToVideoPipeline", folder, dict(image_encoder=None, image_processor=None),
                      image=PILImage.fromarray(first), **settings)
    assert max_level_diff(frames, expected) <= 1
    assert max_level_diff(frames, text) > 1  # the image took part


def test_wan22_two_experts_match_direct_call(registry, tiny_model, tmp_path):
    """A14B's layout: the second transformer takes over below the boundary, as in the direct call."""
    folder = tiny_model("wan22_a14b")
    graph = pipeline_graph({"source": str(folder)}, dict(SAMPLE, steps=4))
    frames = run_frames(Scheduler(registry, output_dir=tmp_path), graph)
    expected = direct("WanPipeline", folder, prompt="a cat dances", negative_prompt="blurry", width=32, height=32,
                      num_frames=9, num_inference_steps=4, guidance_scale=4.0, seed=7)
    assert max_level_diff(frames, expected) <= 1
    single = run_frames(Scheduler(registry, output_dir=tmp_path),
                        pipeline_graph({"source": str(tiny_model("wan"))}, dict(SAMPLE, steps=4)))
    assert max_level_diff(frames, single) > 1  # the second expert did run


@pytest.mark.parametrize("bad, message", [
    (dict(width=40), "multiples of 16"),
    (dict(frames=10), r"4k\+1 frames \(for example 5, 9, 13"),
])
def test_sizes_the_family_cannot_take_fail_validation(registry, tiny_model, bad, message):
    from nodegraph import ValidationError, validate

    graph = pipeline_graph({"source": str(tiny_model("wan"))}, dict(SAMPLE, **bad))
    with pytest.raises(ValidationError, match=message):
        validate(graph, registry)


def test_image_to_video_model_without_image_fails_validation(registry, tiny_model):
    from nodegraph import ValidationError, validate

    graph = pipeline_graph({"source": str(tiny_model("wan_i2v"))}, SAMPLE)
    with pytest.raises(ValidationError, match="connect an image"):
        validate(graph, registry)
