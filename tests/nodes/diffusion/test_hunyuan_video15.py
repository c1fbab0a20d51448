"""HunyuanVideo 1.5 through the node graph gives the frames of its diffusers pipelines called directly with the same
settings: text to video and image to video (guidance set on the pipeline's guider, as diffusers takes it)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import add_image_source, max_level_diff, moving_texture, pipeline_graph, run_frames
from helpers import to_uint8 as float_to_uint8

from nodegraph import Scheduler
from nodes.diffusion.loading import pipeline_dtype

SAMPLE = dict(width=32, height=32, frames=5, steps=2, guidance=4.0, seed=3)


def direct(cls_name: str, folder, **kwargs) -> np.ndarray:
    import diffusers

    pipe = getattr(diffusers, cls_name).from_pretrained(str(folder), **pipeline_dtype(torch.float32))
    pipe.set_progress_bar_config(disable=True)
    pipe.guider = pipe.guider.new(guidance_scale=4.0)
    out = pipe(prompt="a cat dances", negative_prompt="blurry", num_frames=5, num_inference_steps=2,
               generator=torch.Generator("cpu").manual_seed(3), output_type="np", **kwargs)
    return float_to_uint8(out.frames[0])


def test_text_to_video_matches_direct_call(registry, tiny_model, tmp_path):
    folder = tiny_model("hunyuan_video15")
    frames = run_frames(Scheduler(registry, output_dir=tmp_path), pipeline_graph({"source": str(folder)}, SAMPLE))
    expected = direct("HunyuanVideo15Pipeline", folder, width=32, height=32)
    assert frames.shape == (5, 32, 32, 3)
    assert max_level_diff(frames, expected) <= 1
    assert frames.std() > 1.0


def test_image_to_video_matches_direct_call(registry, tiny_model, tmp_path):
    from PIL import Image as PILImage

    folder = tiny_model("hunyuan_video15_i2v")
    (first,) = moving_texture(1, 32, 32, seed=2)
    graph = pipeline_graph({"source": str(folder)}, SAMPLE)
    add_image_source(registry, graph, "hy_first", first, "sample", "image")
    frames = run_frames(Scheduler(registry, output_dir=tmp_path), graph)
    expected = direct("HunyuanVideo15ImageToVideoPipeline", folder, image=PILImage.fromarray(first))
    assert max_level_diff(frames, expected) <= 1


def test_image_to_video_says_which_size_the_image_makes(registry, tiny_model, tmp_path):
    folder = tiny_model("hunyuan_video15_i2v")
    graph = pipeline_graph({"source": str(folder)}, dict(SAMPLE, width=48))
    add_image_source(registry, graph, "hy_wrong", np.zeros((32, 32, 3), np.uint8), "sample", "image")
    result = Scheduler(registry, output_dir=tmp_path).run(graph, ["decode"])
    with pytest.raises(Exception, match="makes 32x32 from a 32x32 image .* set width 32 and height 32"):
        result.raise_for_status()


def test_a_text_to_video_model_fed_an_image_fails_validation(registry, tiny_model):
    from nodegraph import ValidationError, validate

    graph = pipeline_graph({"source": str(tiny_model("hunyuan_video15"))}, SAMPLE)
    add_image_source(registry, graph, "hy_still", np.zeros((32, 32, 3), np.uint8), "sample", "image")
    with pytest.raises(ValidationError, match="HunyuanVideo 1.5 model does text-to-video, not image-to-video"):
        validate(graph, registry)
