"""model.lora: frames equal diffusers' own LoRA loading, and the shared base model never changes for others."""

from __future__ import annotations

import numpy as np
import pytest
import tiny_models
import torch
from helpers import max_level_diff, run_frames, to_uint8

from nodegraph import Graph, Link, NodeInstance, Scheduler, ValidationError, validate
from nodegraph.events import NodeMessage
from nodes.diffusion.loading import pipeline_dtype

SAMPLE = dict(width=32, height=32, frames=5, steps=2, guidance=4.0, seed=7)
PROMPT, NEGATIVE = "a cat dances", "blurry"


def lora_graph(folder, loras: list[dict], sample: dict | None = None, plain_branch: bool = False) -> Graph:
    """model.load -> model.lora x N -> text.encode -> diffusion.sample -> latent.decode ("decode"); with
    `plain_branch`, a second sampler on the bare model.load decodes as "plain"."""
    g = Graph("lora")
    g.add_node(NodeInstance("model", "model.load", {"source": str(folder), "dtype": "float32"}))
    last = "model"
    for i, params in enumerate(loras):
        g.add_node(NodeInstance(f"lora{i}", "model.lora", dict(params)))
        g.connect(Link(last, "model", f"lora{i}", "model"))
        last = f"lora{i}"
    branches = [("", last, "decode")] + ([("plain_", "model", "plain")] if plain_branch else [])
    for prefix, model, decode in branches:
        g.add_node(NodeInstance(prefix + "encode", "text.encode", {"prompt": PROMPT, "negative_prompt": NEGATIVE}))
        g.add_node(NodeInstance(prefix + "sample", "diffusion.sample", dict(sample or SAMPLE)))
        g.add_node(NodeInstance(decode, "latent.decode", {}))
        for link in (Link(model, "model", prefix + "encode", "model"), Link(model, "model", prefix + "sample", "model"),
                     Link(prefix + "encode", "conditioning", prefix + "sample", "conditioning"),
                     Link(model, "model", decode, "model"), Link(prefix + "sample", "latent", decode, "latent")):
            g.connect(link)
    return g


def direct(cls_name: str, folder, loras: list[tuple] = (), sample: dict | None = None, **extra) -> np.ndarray:
    """The frames of a diffusers pipeline with `loras` ((file, weights) pairs) loaded by diffusers itself."""
    import diffusers

    s = dict(sample or SAMPLE)
    pipe = getattr(diffusers, cls_name).from_pretrained(str(folder), **pipeline_dtype(torch.float32))
    pipe.set_progress_bar_config(disable=True)
    names = []
    for i, (path, _weights) in enumerate(loras):
        pipe.load_lora_weights(str(path), adapter_name=f"l{i}")
        if getattr(pipe, "transformer_2", None) is not None:
            pipe.load_lora_weights(str(path), adapter_name=f"l{i}", load_into_transformer_2=True)
        names.append(f"l{i}")
    if names:
        pipe.set_adapters(names, [weights for _path, weights in loras])
    size = dict(width=s["width"], height=s["height"], num_frames=s["frames"])
    out = pipe(prompt=PROMPT, negative_prompt=NEGATIVE, num_inference_steps=s["steps"], guidance_scale=s["guidance"],
               generator=torch.Generator("cpu").manual_seed(s["seed"]), output_type="np", **size, **extra)
    return to_uint8(out.frames[0])


@pytest.fixture(scope="module")
def wan_loras(tiny_model, tmp_path_factory):
    """The same random LoRA of the tiny Wan model in the diffusers and the original/ComfyUI layout, and another."""
    from diffusers import WanTransformer3DModel

    folder = tiny_model("wan")
    transformer = WanTransformer3DModel.from_pretrained(str(folder), subfolder="transformer")
    pairs = tiny_models.random_lora(transformer, tiny_models.WAN_LORA_TARGETS, seed=1)
    other = tiny_models.random_lora(transformer, tiny_models.WAN_LORA_TARGETS, seed=2)
    out = tmp_path_factory.mktemp("loras")
    return {
        "diffusers": tiny_models.save_lora(tiny_models.diffusers_layout(pairs), out / "style_diffusers.safetensors"),
        "comfyui": tiny_models.save_lora(tiny_models.wan_original_layout(pairs), out / "style_comfy.safetensors"),
        "other": tiny_models.save_lora(tiny_models.diffusers_layout(other), out / "other.safetensors"),
    }


@pytest.mark.parametrize("layout", ["diffusers", "comfyui"])
def test_wan_lora_frames_equal_diffusers_own_loading(registry, tiny_model, wan_loras, tmp_path, layout):
    folder = tiny_model("wan")
    graph = lora_graph(folder, [{"source": str(wan_loras[layout]), "strength": 0.8}])
    frames = run_frames(Scheduler(registry, output_dir=tmp_path), graph)
    expected = direct("WanPipeline", folder, [(wan_loras[layout], 0.8)])
    assert max_level_diff(frames, expected) <= 1
    assert max_level_diff(frames, direct("WanPipeline", folder)) > 2  # the LoRA did change the frames


def test_a_branch_without_the_lora_stays_plain_and_a_strength_change_reloads_nothing(registry, tiny_model, wan_loras,
                                                                                       tmp_path):
    folder = tiny_model("wan")
    scheduler = Scheduler(registry, output_dir=tmp_path)
    graph = lora_graph(folder, [{"source": str(wan_loras["diffusers"]), "strength": 1.0}], plain_branch=True)
    result = scheduler.run(graph, ["decode", "plain"])
    result.raise_for_status()
    with_lora, plain = (result.outputs[n]["video"].to_array() for n in ("decode", "plain"))
    assert max_level_diff(plain, direct("WanPipeline", folder)) <= 1
    assert max_level_diff(with_lora, direct("WanPipeline", folder, [(wan_loras["diffusers"], 1.0)])) <= 1
    loads = scheduler.resources.loads

    graph.nodes["lora0"].params["strength"] = -0.5
    result = scheduler.run(graph, ["decode", "plain"])
    result.raise_for_status()
    assert scheduler.resources.loads == loads  # neither the base model nor anything else was loaded again
    # A LoRA of the denoiser leaves the prompt's encoding as it was: only the LoRA and what it samples run again.
    assert sorted(result.executed) == ["decode", "lora0", "sample"]
    loaded = next(iter(scheduler.resources._items.values()))
    assert len(loaded.adapters) == 1  # the LoRA file was read into the base once
    assert 0 < loaded.resource_nbytes() < 64 * 1024**2  # the tiny pipeline's weights, LoRA adapters included
    weaker = result.outputs["decode"]["video"].to_array()
    assert max_level_diff(weaker, direct("WanPipeline", folder, [(wan_loras["diffusers"], -0.5)])) <= 1
    assert max_level_diff(result.outputs["plain"]["video"].to_array(), plain) == 0


def test_stacked_loras_equal_diffusers_set_adapters(registry, tiny_model, wan_loras, tmp_path):
    folder = tiny_model("wan")
    graph = lora_graph(folder, [{"source": str(wan_loras["comfyui"]), "strength": 0.6},
                                {"source": str(wan_loras["other"]), "strength": -0.4}])
    frames = run_frames(Scheduler(registry, output_dir=tmp_path), graph)
    expected = direct("WanPipeline", folder, [(wan_loras["comfyui"], 0.6), (wan_loras["other"], -0.4)])
    assert max_level_diff(frames, expected) <= 1


def test_editing_the_lora_file_runs_the_node_again(registry, tiny_model, wan_loras, tmp_path):
    import os
    import shutil

    folder = tiny_model("wan")
    path = tmp_path / "edited.safetensors"
    shutil.copy(wan_loras["diffusers"], path)
    scheduler = Scheduler(registry, output_dir=tmp_path)
    graph = lora_graph(folder, [{"source": str(path), "strength": 1.0}])
    first = run_frames(scheduler, graph)
    stat = path.stat()
    shutil.copy(wan_loras["other"], path)  # same size; the time set back, so only the content differs
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    second = run_frames(scheduler, graph)
    assert max_level_diff(second, direct("WanPipeline", folder, [(wan_loras["other"], 1.0)])) <= 1
    assert max_level_diff(first, second) > 1


def test_wan22_two_experts_take_their_own_strengths(registry, tiny_model, wan_loras, tmp_path):
    folder = tiny_model("wan22_a14b")
    sample = dict(SAMPLE, steps=4)
    graph = lora_graph(folder, [{"source": str(wan_loras["comfyui"]), "strength": 0.9, "same_for_low_noise": False,
                                 "strength_low_noise": -0.7}], sample)
    frames = run_frames(Scheduler(registry, output_dir=tmp_path), graph)
    expected = direct("WanPipeline", folder, [(wan_loras["comfyui"], {"transformer": 0.9, "transformer_2": -0.7})],
                      sample)
    assert max_level_diff(frames, expected) <= 1
    same = direct("WanPipeline", folder, [(wan_loras["comfyui"], 0.9)], sample)
    assert max_level_diff(frames, same) > 1  # the low-noise expert took its own strength


COGVIDEOX_LORA_TARGETS = r"transformer_blocks\.\d+\.(attn1\.(to_q|to_k|to_v|to_out\.0)|ff\.net\.2)$"


@pytest.mark.parametrize("family, cls_name, component, targets, layout, size, extra", [
    ("ltx", "LTXPipeline", "transformer", tiny_models.LTX_LORA_TARGETS, "comfyui", 32, {}),
    ("cogvideox", "CogVideoXPipeline", "transformer", COGVIDEOX_LORA_TARGETS, "diffusers", 16,
     {"max_sequence_length": 16}),
    ("animatediff", "AnimateDiffPipeline", "unet", tiny_models.UNET_LORA_TARGETS, "diffusers", 16, {}),
], ids=["ltx", "cogvideox", "animatediff"])
def test_other_families_lora_frames_equal_diffusers(registry, tiny_model, tmp_path, family, cls_name, component,
                                                     targets, layout, size, extra):
    import diffusers

    folder = tiny_model(family)
    pipe = getattr(diffusers, cls_name).from_pretrained(str(folder), **pipeline_dtype(torch.float32))
    pairs = tiny_models.random_lora(getattr(pipe, component), targets, seed=3)
    state = tiny_models.diffusers_layout(pairs, component)
    if layout == "comfyui":  # LTX-Video's original keys are the diffusers names under diffusion_model.
        state = {k.replace(f"{component}.", "diffusion_model.", 1): v for k, v in state.items()}
    path = tiny_models.save_lora(state, tmp_path / f"{family}.safetensors")
    sample = dict(SAMPLE, width=size, height=size, frames=4 if family == "animatediff" else 9)
    graph = lora_graph(folder, [{"source": str(path), "strength": 1.5}], sample)
    frames = run_frames(Scheduler(registry, output_dir=tmp_path), graph)
    assert max_level_diff(frames, direct(cls_name, folder, [(path, 1.5)], sample, **extra)) <= 1
    assert max_level_diff(frames, direct(cls_name, folder, [], sample, **extra)) > 1


def test_kohya_lora_with_text_encoder_parts_equals_diffusers(registry, tiny_model, tmp_path):
    """A Stable Diffusion LoRA as kohya saves it (lora_unet_*, lora_te_*) on AnimateDiff: the text encoder part
    applies while text.encode runs."""
    import diffusers

    folder = tiny_model("animatediff")
    pipe = diffusers.AnimateDiffPipeline.from_pretrained(str(folder), **pipeline_dtype(torch.float32))
    unet = tiny_models.random_lora(pipe.unet, tiny_models.UNET_LORA_TARGETS, seed=4)
    text = tiny_models.random_lora(pipe.text_encoder, tiny_models.CLIP_LORA_TARGETS, seed=5)
    state = {**tiny_models.kohya_layout(unet, "lora_unet"), **tiny_models.kohya_layout(text, "lora_te_text_model")}
    path = tiny_models.save_lora(state, tmp_path / "kohya.safetensors")
    sample = dict(SAMPLE, width=16, height=16, frames=4)
    scheduler, events = Scheduler(registry, output_dir=tmp_path), []
    scheduler.subscribe(events.append, previews=False)
    frames = run_frames(scheduler, lora_graph(folder, [{"source": str(path), "strength": 1.5}], sample))
    assert not [e.message for e in events if isinstance(e, NodeMessage) and "match nothing" in e.message]
    assert max_level_diff(frames, direct("AnimateDiffPipeline", folder, [(path, 1.5)], sample)) <= 1
    unet_only = tiny_models.save_lora(tiny_models.kohya_layout(unet, "lora_unet"), tmp_path / "unet_only.safetensors")
    assert max_level_diff(frames, direct("AnimateDiffPipeline", folder, [(unet_only, 1.5)], sample)) > 1

    # Its text-encoder part changes the prompt's encoding: a new strength encodes the prompt again.
    graph = lora_graph(folder, [{"source": str(path), "strength": 1.5}], sample)
    scheduler.run(graph, ["decode"]).raise_for_status()
    graph.nodes["lora0"].params["strength"] = 0.5
    result = scheduler.run(graph, ["decode"])
    result.raise_for_status()
    assert sorted(result.executed) == ["decode", "encode", "lora0", "sample"]
    assert max_level_diff(result.outputs["decode"]["video"].to_array(),
                          direct("AnimateDiffPipeline", folder, [(path, 0.5)], sample)) <= 1


def test_svd_says_it_has_no_lora_loader(registry, tiny_model, wan_loras):
    graph = lora_graph(tiny_model("svd"), [{"source": str(wan_loras["diffusers"])}])
    with pytest.raises(ValidationError, match="no LoRA loader for Stable Video Diffusion"):
        validate(graph, registry)


@pytest.mark.parametrize("bad, message", [
    (dict(width=40), "multiples of 16"),
    (dict(frames=10), r"4k\+1 frames \(for example 5, 9, 13"),
])
def test_a_sampler_fed_through_loras_is_checked_against_the_model_behind_them(registry, tiny_model, wan_loras,
                                                                             bad, message):
    """The family's rules apply before the run past one LoRA or two, as with none (not only once it loads)."""
    for loras in ([], [{"source": str(wan_loras["diffusers"])}],
                  [{"source": str(wan_loras["diffusers"])}, {"source": str(wan_loras["other"])}]):
        graph = lora_graph(tiny_model("wan"), loras, dict(SAMPLE, **bad))
        with pytest.raises(ValidationError, match=message) as info:
            validate(graph, registry)
        assert [issue.node_id for issue in info.value.issues] == ["sample"]


def test_a_second_lora_is_checked_against_the_model_behind_the_first(registry, tiny_model, wan_loras):
    graph = lora_graph(tiny_model("svd"), [{"source": str(wan_loras["diffusers"])}] * 2)
    with pytest.raises(ValidationError) as info:
        validate(graph, registry)
    assert {issue.node_id for issue in info.value.issues
            if "no LoRA loader for Stable Video Diffusion" in issue.message} == {"lora0", "lora1"}


def test_pickle_loras_are_refused(registry, tiny_model, tmp_path):
    path = tmp_path / "old.ckpt"
    path.write_bytes(b"not read")
    graph = lora_graph(tiny_model("wan"), [{"source": str(path)}])
    with pytest.raises(ValidationError, match="pickle file.*safetensors"):
        validate(graph, registry)


def test_a_lora_for_another_model_names_its_layout(registry, tiny_model, tmp_path):
    """A Flux/Hunyuan-style file on Wan: one line with the layout and what did not match."""
    state = {"diffusion_model.double_blocks.0.img_attn.qkv.lora_down.weight": torch.zeros(4, 24),
             "diffusion_model.double_blocks.0.img_attn.qkv.lora_up.weight": torch.zeros(72, 4)}
    path = tiny_models.save_lora(state, tmp_path / "flux_style.safetensors")
    result = Scheduler(registry, output_dir=tmp_path).run(lora_graph(tiny_model("wan"), [{"source": str(path)}]),
                                                          ["decode"])
    message = str(result.error)
    assert "original/ComfyUI (diffusion_model.*) layout" in message
    assert "double_blocks.0.img_attn.qkv" in message
    assert "\n" not in message.strip()


def test_modules_that_match_nothing_are_named(registry, tiny_model, wan_loras, tmp_path):
    from safetensors.torch import load_file

    state = load_file(str(wan_loras["diffusers"]))
    state["transformer.blocks.0.attn1.to_gate.lora_A.weight"] = torch.zeros(4, 24)
    state["transformer.blocks.0.attn1.to_gate.lora_B.weight"] = torch.zeros(24, 4)
    path = tiny_models.save_lora(state, tmp_path / "extra.safetensors")
    events = []
    scheduler = Scheduler(registry, output_dir=tmp_path)
    scheduler.subscribe(events.append, previews=False)
    run_frames(scheduler, lora_graph(tiny_model("wan"), [{"source": str(path)}]))
    warnings = [e.message for e in events if isinstance(e, NodeMessage) and e.level == "warning"]
    assert any("1 of" in w and "transformer.blocks.0.attn1.to_gate" in w for w in warnings), warnings


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """An empty local Hugging Face cache; cached(repo, *files) puts a repo's files in it."""
    from huggingface_hub import constants

    cache = tmp_path / "hub"
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr("huggingface_hub.file_download.HF_HUB_CACHE", str(cache), raising=False)

    def cached(repo: str, *files: str):
        folder = cache / ("models--" + repo.replace("/", "--"))
        for name in files:
            (folder / "snapshots" / "abc123" / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / "snapshots" / "abc123" / name).write_bytes(b"x")
        (folder / "refs").mkdir(parents=True, exist_ok=True)
        (folder / "refs" / "main").write_text("abc123")
        return folder / "snapshots" / "abc123"

    return cached


def test_hugging_face_ids_find_the_cached_lora_file(hub_cache):
    from nodes.diffusion.lora import lora_file

    one = hub_cache("someone/style-lora", "style.safetensors")
    assert lora_file("someone/style-lora") == one / "style.safetensors"
    many = hub_cache("someone/many-loras", "a.safetensors", "sub/b.safetensors")
    assert lora_file("someone/many-loras/sub/b.safetensors").resolve() == (many / "sub" / "b.safetensors").resolve()


def test_a_lora_id_not_on_this_machine_offline_says_how_to_fetch_it(hub_cache):
    from nodegraph.errors import MissingModelError
    from nodes.diffusion.lora import lora_file

    with pytest.raises(MissingModelError, match="hf download someone/absent weights.safetensors"):
        lora_file("someone/absent/weights.safetensors")


def test_loras_no_longer_used_are_dropped_from_the_base_beyond_a_limit(tiny_model, tmp_path, monkeypatch):
    """Editing a LoRA file again and again does not pile adapters up in the shared model."""
    import diffusers

    from nodes.diffusion import lora
    from nodes.diffusion.values import LoadedModel, LoraSpec, ModelHandle

    monkeypatch.setattr(lora, "MAX_ADAPTERS", 2)
    folder = tiny_model("wan")
    pipe = diffusers.WanPipeline.from_pretrained(str(folder), **pipeline_dtype(torch.float32))
    loaded = LoadedModel(family="wan", pipe=pipe, device="cpu", dtype=torch.float32, configs={}, model_index={},
                         modes=("t2v",))
    base = ModelHandle(key="k", family="wan", source=str(folder), config="", dtype="float32", offload="none",
                       device="cpu", vae_tiling=False)
    plain = pipe.transformer.blocks[0].attn1.to_q.weight.detach().clone()
    versions = [tiny_models.random_lora(pipe.transformer, tiny_models.WAN_LORA_TARGETS, seed=10 + i) for i in range(4)]
    for i, pairs in enumerate(versions):
        path = tiny_models.save_lora(tiny_models.diffusers_layout(pairs), tmp_path / f"v{i}.safetensors")
        spec = LoraSpec(str(path), lora.content_digest(path), 1.0, 1.0)
        handle = ModelHandle(**{**base.__dict__, "loras": (spec,)})
        with lora.applied(loaded, handle, print):
            assert pipe.transformer.blocks[0].attn1.to_q.merged is False
    assert len(loaded.adapters) == 2 and len(pipe.transformer.peft_config) == 2  # the two most recent
    block = pipe.transformer.blocks[0].attn1.to_q
    assert block.disable_adapters  # off for everyone else
    assert torch.equal(plain, block.base_layer.weight)  # never merged into the base


@pytest.mark.parametrize("layout", ["diffusers", "comfyui", "comfyui_unprefixed"])
def test_a_wan_lora_applies_to_wan_vace_in_every_layout_as_diffusers_loads_it(registry, tiny_model, wan_loras,
                                                                               tmp_path, layout):
    """Wan LoRAs (made for the blocks VACE shares with Wan) on a VACE model: the ComfyUI layout, with or without
    its `diffusion_model.` prefix, gives what diffusers gives loading the diffusers layout itself."""
    from safetensors.torch import load_file, save_file

    folder = tiny_model("wan_vace")
    path = wan_loras["comfyui" if layout.startswith("comfyui") else layout]
    if layout == "comfyui_unprefixed":
        state = {k.removeprefix("diffusion_model."): v for k, v in load_file(str(path)).items()}
        assert not any(k.startswith("diffusion_model.") for k in state)
        path = tmp_path / "style_unprefixed.safetensors"
        save_file(state, str(path))
    frames = run_frames(Scheduler(registry, output_dir=tmp_path),
                        lora_graph(folder, [{"source": str(path), "strength": 0.8}]))
    expected = direct("WanVACEPipeline", folder, [(wan_loras["diffusers"], 0.8)])
    assert max_level_diff(frames, expected) <= 1
    assert max_level_diff(frames, direct("WanVACEPipeline", folder)) > 2
