"""The family adapter contract: a family writes only what differs from the base, and diffusion.sample asks the
adapter (not a list of families) for the call's arguments and the rules of its inputs; step caches are off again
after a failed call."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import tiny_models

from nodegraph.errors import UsageError
from nodes.diffusion.families import FamilyAdapter, adapter


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


@pytest.fixture
def keeper(monkeypatch):
    """A Wan-like family registered for this test that keeps an image beside a video-to-video clip, unnoised."""
    from nodes import diffusion
    from nodes.diffusion.families.wan import WanAdapter

    class KeeperAdapter(WanAdapter):
        name = "keeper"
        title = "Keeper"

        def input_problems(self, mode, *, has_image, controls):
            return []

        def strength_applies(self, mode):
            return False

    monkeypatch.setattr(diffusion.families, "FAMILIES", diffusion.families.FAMILIES + ("keeper",))
    monkeypatch.setitem(diffusion.families._loaded, "keeper", KeeperAdapter())
    return "keeper"


def test_the_request_rules_come_from_the_adapter(keeper):
    from nodes.diffusion.sampling import check_request

    def problems(family):
        return check_request(family, None, None, mode="v2v", params=dict(steps=1, strength=0.5), has_image=True,
                             has_last=False)

    assert [p.split(";")[0] for p in problems("wan")] == ["both image and video are connected",
                                                         "steps 1 x strength 0.5 leaves no denoising step for "
                                                         "video-to-video"]
    assert problems(keeper) == []


@pytest.mark.parametrize("family, connected, mode", [
    ("wan", {"video", "image"}, "v2v"),
    ("wan", {"image", "last_image"}, "i2v"),
    ("ltx2", {"image", "keyframes"}, "kf"),
    ("ltx", {"latent"}, "kf"),  # LTX-Video refines through its keyframes pipeline
    ("ltx2", {"latent"}, "t2v"),
])
def test_the_adapter_picks_the_pipeline_mode_from_the_inputs(family, connected, mode):
    assert adapter(family).mode_for(connected) == mode


def _experts():
    """A pipeline of two tiny Wan transformers (Wan 2.2 A14B's experts), with model offload's hooks counted."""
    pipe = SimpleNamespace(transformer=tiny_models._wan_transformer(16),
                           transformer_2=tiny_models._wan_transformer(16, seed=1))
    freed = []
    loaded = SimpleNamespace(pipe=SimpleNamespace(maybe_free_model_hooks=lambda: freed.append(True)))
    model = SimpleNamespace(offload="model", dtype="float32")
    return pipe, loaded, model, freed


@pytest.mark.parametrize("acceleration", ["first_block_cache", "taylorseer_cache"])
def test_a_failed_call_leaves_both_experts_without_a_step_cache(acceleration):
    from nodes.diffusion.acceleration import accelerated

    pipe, loaded, model, freed = _experts()
    request = dict(mode="t2v", width=32, height=32, frames=9)

    def within():
        return accelerated(None, model, loaded, adapter("wan"), pipe, acceleration, request=request, step=None,
                           denoised=2)

    with pytest.raises(RuntimeError, match="the call failed"), within():
        assert pipe.transformer.is_cache_enabled and pipe.transformer_2.is_cache_enabled
        raise RuntimeError("the call failed")
    assert not pipe.transformer.is_cache_enabled and not pipe.transformer_2.is_cache_enabled
    assert freed == [True]  # model offload's hooks handed the GPU back
    with within():  # and the next call switches them on afresh
        assert pipe.transformer.is_cache_enabled


def test_out_of_memory_within_becomes_the_sampling_advice():
    import torch

    from nodes.diffusion.acceleration import accelerated

    pipe, loaded, model, freed = _experts()
    request = dict(mode="t2v", width=32, height=32, frames=9)
    with pytest.raises(UsageError, match="ran out of memory while sampling.*fewer frames than 9"), \
            accelerated(None, model, loaded, adapter("wan"), pipe, "first_block_cache", request=request, step=None,
                        denoised=2):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
    assert not pipe.transformer.is_cache_enabled and freed == [True]
