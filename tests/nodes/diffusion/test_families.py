"""LTX-Video and CogVideoX through the node graph match direct diffusers calls with the same settings."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import add_image_source, add_video_source, max_level_diff, moving_texture, pipeline_graph, run_frames
from helpers import to_uint8 as float_to_uint8

from nodegraph import Scheduler


def direct(cls_name: str, folder, seed: int, **kwargs) -> np.ndarray:
    import diffusers

    pipe = getattr(diffusers, cls_name).from_pretrained(str(folder), torch_dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    out = pipe(generator=torch.Generator("cpu").manual_seed(seed), output_type="np", **kwargs)
    return float_to_uint8(out.frames[0])


CASES = {
    # name: (tiny model, pipeline class, size, extra direct kwargs, input kind)
    "ltx_t2v": ("ltx", "LTXPipeline", 32, {}, None),
    "ltx_i2v": ("ltx_i2v", "LTXImageToVideoPipeline", 32, {}, "image"),
    "cogvideox_t2v": ("cogvideox", "CogVideoXPipeline", 16, {"max_sequence_length": 16}, None),
    "cogvideox_v2v": ("cogvideox", "CogVideoXVideoToVideoPipeline", 16, {"max_sequence_length": 16}, "video"),
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
