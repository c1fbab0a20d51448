"""diffusion.sample's shift, sigmas, scheduler names and Wan 2.2 A14B expert switch: the schedule diffusers'
own arguments give, and a clear validation error where a family cannot take a setting."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import max_level_diff, pipeline_graph, run_frames, to_uint8

from nodegraph import Scheduler, ValidationError, validate
from nodes.diffusion.families import FAMILIES, adapter
from nodes.diffusion.loading import pipeline_dtype

SAMPLE = dict(width=32, height=32, frames=5, steps=3, guidance=4.0, seed=7)
PROMPT, NEGATIVE = "a cat dances", "blurry"


def direct(cls_name: str, folder, scheduler=None, **call) -> np.ndarray:
    import diffusers

    pipe = getattr(diffusers, cls_name).from_pretrained(str(folder), **pipeline_dtype(torch.float32))
    if scheduler is not None:
        pipe.scheduler = scheduler(pipe.scheduler.config)
    pipe.set_progress_bar_config(disable=True)
    settings = dict(width=32, height=32, num_frames=5, num_inference_steps=3, guidance_scale=4.0)
    settings.update(call)
    out = pipe(prompt=PROMPT, negative_prompt=NEGATIVE, generator=torch.Generator("cpu").manual_seed(7),
               output_type="np", **settings)
    return to_uint8(out.frames[0])


@pytest.fixture
def seen_timesteps(monkeypatch):
    """Every (transformer name, timestep) the Wan transformers are called with, in order."""
    from diffusers import WanTransformer3DModel, WanVACETransformer3DModel

    seen: list[tuple[str, float]] = []
    for cls in (WanTransformer3DModel, WanVACETransformer3DModel):
        def recording(self, hidden_states, timestep, *args, _forward=cls.forward, **kwargs):
            seen.append((getattr(self, "kinograph_test_name", "?"), float(timestep.flatten()[0])))
            return _forward(self, hidden_states, timestep, *args, **kwargs)

        monkeypatch.setattr(cls, "forward", recording)
    return seen


def test_shift_gives_the_frames_of_a_scheduler_built_with_that_shift(registry, tiny_model, tmp_path):
    from diffusers import FlowMatchEulerDiscreteScheduler

    folder = tiny_model("wan")  # its own shift is 7
    frames = run_frames(Scheduler(registry, output_dir=tmp_path), pipeline_graph({"source": str(folder)},
                                                                                 dict(SAMPLE, shift=2.0)))
    expected = direct("WanPipeline", folder, lambda c: FlowMatchEulerDiscreteScheduler.from_config(c, shift=2.0))
    assert max_level_diff(frames, expected) <= 1
    assert max_level_diff(frames, direct("WanPipeline", folder)) > 1


def test_shift_with_another_scheduler_sets_its_flow_shift(registry, tiny_model, tmp_path):
    from diffusers import UniPCMultistepScheduler

    folder = tiny_model("wan")
    graph = pipeline_graph({"source": str(folder)}, dict(SAMPLE, shift=3.0, scheduler="unipc"))
    frames = run_frames(Scheduler(registry, output_dir=tmp_path), graph)
    expected = direct("WanPipeline", folder, lambda c: UniPCMultistepScheduler.from_config(
        c, prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0))
    assert max_level_diff(frames, expected) <= 1


def test_sigmas_equal_the_pipelines_own_sigmas_argument(registry, tiny_model, tmp_path):
    """Stable Video Diffusion's pipeline takes sigmas itself (Karras-style levels)."""
    import diffusers
    from helpers import add_image_source, moving_texture
    from PIL import Image as PILImage

    folder = tiny_model("svd")
    (image,) = moving_texture(1, 32, 32, seed=3)
    sample = dict(width=32, height=32, frames=3, steps=3, guidance=3.0, seed=7)
    # two steps on these levels, where steps alone would make three on the model's own schedule
    graph = pipeline_graph({"source": str(folder)}, dict(sample, sigmas="700, 2.5"), prompt="", negative="")
    add_image_source(registry, graph, "first", image, "sample", "image")
    frames = run_frames(Scheduler(registry, output_dir=tmp_path), graph)
    pipe = diffusers.StableVideoDiffusionPipeline.from_pretrained(str(folder), **pipeline_dtype(torch.float32))
    pipe.set_progress_bar_config(disable=True)
    call = dict(image=PILImage.fromarray(image), width=32, height=32, num_frames=3, max_guidance_scale=3.0, fps=7,
                output_type="np")
    expected = to_uint8(pipe(**call, sigmas=[700.0, 2.5], num_inference_steps=2,
                             generator=torch.Generator("cpu").manual_seed(7)).frames[0])
    assert max_level_diff(frames, expected) <= 1


def test_sigmas_reach_a_pipeline_without_the_argument_through_its_scheduler(registry, tiny_model, tmp_path,
                                                                            seen_timesteps):
    """WanPipeline takes no sigmas: the transformer still sees the timesteps its scheduler makes of them."""
    from diffusers import FlowMatchEulerDiscreteScheduler

    folder = tiny_model("wan")
    levels = [1.0, 0.7, 0.3]
    graph = pipeline_graph({"source": str(folder)}, dict(SAMPLE, sigmas=", ".join(map(str, levels)), shift=1.0))
    run_frames(Scheduler(registry, output_dir=tmp_path), graph)
    reference = FlowMatchEulerDiscreteScheduler.from_config(
        FlowMatchEulerDiscreteScheduler.load_config(str(folder), subfolder="scheduler"), shift=1.0)
    reference.set_timesteps(sigmas=levels)
    steps = sorted({t for _, t in seen_timesteps}, reverse=True)
    assert steps == pytest.approx([float(t) for t in reference.timesteps])
    assert steps == pytest.approx([1000 * s for s in levels])  # shift 1 leaves them as given


@pytest.mark.parametrize("model", ["wan22_a14b", "wan22_vace_a14b"])
def test_wan22_low_noise_expert_takes_over_at_the_chosen_step(registry, tiny_model, tmp_path, seen_timesteps, model):
    folder = tiny_model(model)
    scheduler = Scheduler(registry, output_dir=tmp_path)
    sample = dict(SAMPLE, steps=4)
    run_frames(scheduler, pipeline_graph({"source": str(folder)}, sample))
    loaded = next(iter(scheduler.resources._items.values()))
    loaded.pipe.transformer.kinograph_test_name = "high"
    loaded.pipe.transformer_2.kinograph_test_name = "low"
    for switch in (1, 3, 4):
        seen_timesteps.clear()
        run_frames(scheduler, pipeline_graph({"source": str(folder)}, dict(sample, low_noise_from_step=switch)))
        order = [name for name, _ in dict.fromkeys(seen_timesteps)]  # one entry per step (guidance calls twice)
        assert order == ["high"] * switch + ["low"] * (4 - switch), (switch, seen_timesteps)
    assert loaded.pipe.config.boundary_ratio == 0.875  # the model's own boundary is back


@pytest.mark.parametrize("model, settings, message", [
    ("cogvideox", dict(shift=3.0), "shift applies to flow-matching models .*CogVideoX is not one"),
    ("cogvideox", dict(sigmas="1, 0.5"), "CogVideoX's schedulers take no custom sigmas"),
    ("wan", dict(low_noise_from_step=2), "Wan 2.2 A14B's two experts; this Wan 2.1 / 2.2 model has one"),
    ("wan22_a14b", dict(low_noise_from_step=9, steps=4), "past the 4 steps"),
    ("wan", dict(scheduler="ddim"), "'ddim' does not suit Wan"),
    ("wan", dict(scheduler="dpm++ 2m", sigmas="1, 0.5"), "'dpm\\+\\+ 2m' takes no custom sigmas for Wan"),
    ("wan", dict(sigmas="1, 0.6, 0.8"), "does not fall step by step"),
    ("wan", dict(sigmas="1, x"), "not a comma-separated list of numbers"),
    ("wan", dict(sigmas="3, 1"), "flow-matching model whose noise levels run from 1 down to 0"),
])
def test_settings_a_family_cannot_take_fail_validation(registry, tiny_model, model, settings, message):
    graph = pipeline_graph({"source": str(tiny_model(model))}, dict(SAMPLE, **settings))
    with pytest.raises(ValidationError, match=message):
        validate(graph, registry)


@pytest.mark.parametrize("family", FAMILIES)
def test_every_scheduler_choice_of_every_family_builds_and_sets_its_timesteps(tiny_model, family):
    """Each name a family offers maps to a diffusers scheduler made from the model's own config, and a shift
    reaches a flow model's scheduler config."""
    from diffusers import DiffusionPipeline

    config = DiffusionPipeline.load_config(str(tiny_model(family)))
    cls_name = config["scheduler"][1]
    import diffusers

    current = getattr(diffusers, cls_name).from_pretrained(str(tiny_model(family)), subfolder="scheduler")
    fam = adapter(family)
    for choice in fam.schedulers:
        made = fam.make_scheduler(current, choice, 2.5 if fam.flow_matching else 0.0)
        made.set_timesteps(4, device="cpu")
        assert len(made.timesteps) >= 4, choice
        if fam.flow_matching:
            assert 2.5 in (made.config.get("shift"), made.config.get("flow_shift")), choice


def test_a_saved_dpm_plus_plus_scheduler_loads_as_dpm_2m(registry):
    from nodegraph.workflow import parse_workflow

    data = {"format": "kinograph.workflow", "version": 1, "name": "old",
            "nodes": [{"id": "s", "type": "diffusion.sample", "params": {"scheduler": "dpm++"}}], "links": []}
    graph = parse_workflow(data, registry)
    assert graph.nodes["s"].params["scheduler"] == "dpm++ 2m"
