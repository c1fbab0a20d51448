"""Running behaviour: model reuse, progress and previews, cancel, out-of-memory paths, files, offline models."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import max_level_diff, pipeline_graph, run_frames

from nodegraph import Graph, Link, NodeInstance, Scheduler
from nodegraph.events import NodePreview, NodeProgress

SAMPLE = dict(width=32, height=32, frames=9, steps=3, guidance=4.0, seed=3)


def test_model_loads_once_across_prompts_and_seeds(registry, tiny_model, tmp_path):
    scheduler = Scheduler(registry, output_dir=tmp_path)
    folder = str(tiny_model("wan"))
    first = run_frames(scheduler, pipeline_graph({"source": folder}, SAMPLE, prompt="a red ball"))
    second = run_frames(scheduler, pipeline_graph({"source": folder}, dict(SAMPLE, seed=4), prompt="a blue cube"))
    assert scheduler.resources.loads == 1
    assert np.abs(first.astype(int) - second).max() > 2  # the new prompt and seed did take effect


def test_progress_counts_steps_and_previews_show_every_frame(registry, tiny_model, tmp_path):
    scheduler = Scheduler(registry, output_dir=tmp_path)
    events = []
    scheduler.subscribe(events.append)
    run_frames(scheduler, pipeline_graph({"source": str(tiny_model("wan"))}, SAMPLE))
    progress = [(e.done, e.total) for e in events if isinstance(e, NodeProgress) and e.node_id == "sample"]
    assert progress == [(0, 3), (1, 3), (2, 3), (3, 3)]
    previews = [e for e in events if isinstance(e, NodePreview) and e.node_id == "sample"]
    assert len(previews) == 3
    clips = [p.frames for p in previews]  # read after the run: each still shows its own step
    for clip in clips:
        assert clip.dtype == np.uint8 and clip.ndim == 4 and clip.shape[-1] == 3
        assert clip.shape[:3] == (9, 32, 32)  # every frame, at the size the clip will have
    assert all(np.any(a != b) for a, b in zip(clips, clips[1:], strict=False))
    assert previews[-1].fps == 16.0


def test_a_run_nobody_watches_makes_no_previews_but_reports_every_step(registry, tiny_model, tmp_path):
    scheduler = Scheduler(registry, output_dir=tmp_path)
    events = []
    scheduler.subscribe(events.append, previews=False)  # as `kinograph run` listens
    result = scheduler.run(pipeline_graph({"source": str(tiny_model("wan"))}, SAMPLE), ["decode"])
    assert result.outputs["decode"]["video"].to_array().shape == (9, 32, 32, 3)
    progress = [(e.done, e.total) for e in events if isinstance(e, NodeProgress) and e.node_id == "sample"]
    assert progress == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert not any(isinstance(e, NodePreview) for e in events)
    # nor was the preview colour map fitted: the VAE never ran for previews
    assert scheduler.resources.get(result.outputs["model"]["model"].key).preview_map is None


@pytest.mark.parametrize("family", ["ltx", "cogvideox"])
def test_encoding_sampling_and_decoding_run_in_inference_mode(registry, tiny_model, tmp_path, family):
    """Inference mode (no autograd bookkeeping at all) is what keeps the graph as fast as a direct call: a
    regression to plain no_grad costs 4-7% on small models (bench/pipeline.py)."""
    scheduler = Scheduler(registry, output_dir=tmp_path)
    graph = pipeline_graph({"source": str(tiny_model(family))}, SAMPLE)
    pipe = scheduler.resources.get(scheduler.run(graph, ["model"]).outputs["model"]["model"].key).pipe
    seen = []
    for part, name in ((pipe.text_encoder, "encoder"), (pipe.transformer, "transformer"), (pipe.vae.decoder, "vae")):
        part.register_forward_pre_hook(lambda *_, name=name: seen.append((name, torch.is_inference_mode_enabled())))
    frames = run_frames(scheduler, graph)
    assert frames.shape == (9, 32, 32, 3)
    assert {name for name, _ in seen} == {"encoder", "transformer", "vae"}
    assert all(on for _, on in seen), seen


def test_video_to_video_progress_counts_the_steps_it_denoises(registry, tiny_model, tmp_path):
    from helpers import add_video_source

    scheduler = Scheduler(registry, output_dir=tmp_path)
    events = []
    scheduler.subscribe(events.append)
    graph = pipeline_graph({"source": str(tiny_model("wan"))}, dict(SAMPLE, steps=4, strength=0.5))
    clip = np.random.default_rng(0).integers(0, 255, (9, 32, 32, 3), dtype=np.uint8)
    add_video_source(registry, graph, "clip", clip, "sample", "video")
    run_frames(scheduler, graph)
    progress = [(e.done, e.total) for e in events if isinstance(e, NodeProgress) and e.node_id == "sample"]
    assert progress == [(0, 2), (1, 2), (2, 2)]  # 4 steps at strength 0.5: the total never changes mid-run


def test_cancel_stops_within_a_step_and_does_not_decode(registry, tiny_model, tmp_path, monkeypatch):
    from nodes.diffusion.families.wan import ADAPTER

    scheduler = Scheduler(registry, output_dir=tmp_path)
    seen = []
    decodes = []
    for name in ("decode", "decode_stream"):  # every way the VAE can be asked to decode
        real = getattr(ADAPTER, name)
        monkeypatch.setattr(ADAPTER, name, lambda *a, real=real, **k: decodes.append(1) or real(*a, **k))

    def on_event(event):
        if isinstance(event, NodeProgress) and event.node_id == "sample":
            seen.append(event.done)
            if event.done == 1 and len(seen) == 2:  # only in the first run
                scheduler.cancel()

    scheduler.subscribe(on_event)
    result = scheduler.run(pipeline_graph({"source": str(tiny_model("wan"))}, SAMPLE), ["decode"])
    assert result.status == "cancelled"
    assert seen == [0, 1]
    assert "sample" not in result.executed and not decodes  # the VAE never ran
    # the model stays loaded and usable after a cancel
    frames = run_frames(scheduler, pipeline_graph({"source": str(tiny_model("wan"))}, SAMPLE))
    assert frames.shape == (9, 32, 32, 3) and scheduler.resources.loads == 1
    assert decodes


def test_vae_work_goes_to_the_execution_device_not_where_an_offloaded_vae_waits(tiny_model, monkeypatch):
    """With model or sequential offload the VAE waits on the CPU or the meta device until its hook moves it;
    latents must go to the pipeline's execution device (the GPU), as diffusers' own pipelines send them."""
    from diffusers import DiffusionPipeline

    from nodes.diffusion.families.base import vae_input

    pipe = DiffusionPipeline.from_pretrained(str(tiny_model("wan")))
    pipe.vae.to("meta")  # where sequential offload leaves the weights between uses
    monkeypatch.setattr(type(pipe), "_execution_device", property(lambda self: torch.device("cpu")))
    latents = torch.zeros(1, 4, 3, 4, 4, dtype=torch.float64)
    moved = vae_input(pipe, latents)
    assert moved.device == torch.device("cpu") and moved.dtype == pipe.vae.dtype


@pytest.mark.parametrize("family", ["wan", "cogvideox"])
def test_a_streamed_decode_wakes_an_offloaded_vae_first(tiny_model, family):
    """With model offload, diffusers' decorator on vae.decode moves the VAE to the GPU; a streamed decode calls
    the VAE's parts itself, so it must do the same before the first of them runs."""
    from diffusers import DiffusionPipeline

    from nodes.diffusion.families import adapter

    pipe = DiffusionPipeline.from_pretrained(str(tiny_model(family)))
    order = []

    class OffloadHook:  # what accelerate's CpuOffload hook exposes
        def pre_forward(self, module):
            order.append(("onload", module is pipe.vae))

    pipe.vae._hf_hook = OffloadHook()
    pipe.vae.decoder.register_forward_pre_hook(lambda *a: order.append("decoder"))
    channels = pipe.vae.config.get("z_dim") or pipe.vae.config.latent_channels
    with torch.no_grad():
        pieces = list(adapter(family).decode_stream(pipe, torch.zeros(1, channels, 3, 4, 4), {}))
    assert pieces and order[0] == ("onload", True) and order[1:] and set(order[1:]) == {"decoder"}


def test_out_of_memory_while_sampling_gives_advice_and_keeps_the_model(registry, tiny_model, tmp_path, monkeypatch):
    import diffusers

    scheduler = Scheduler(registry, output_dir=tmp_path)
    graph = pipeline_graph({"source": str(tiny_model("wan"))}, SAMPLE)
    original = diffusers.WanPipeline.__call__

    def boom(self, *args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(diffusers.WanPipeline, "__call__", boom)
    result = scheduler.run(graph, ["decode"])
    assert result.status == "failed" and result.error.node_id == "sample"
    assert "offload" in result.error.message and "fewer frames than 9" in result.error.message
    monkeypatch.setattr(diffusers.WanPipeline, "__call__", original)
    assert run_frames(scheduler, graph).shape == (9, 32, 32, 3)
    assert scheduler.resources.loads == 1


def _wan_reference(registry, tiny_model, tmp_path, sample):
    """A scheduler, a tiny Wan graph, its frames decoded normally, and the Wan adapter (to patch)."""
    from nodes.diffusion.families import adapter

    scheduler = Scheduler(registry, output_dir=tmp_path)
    graph = pipeline_graph({"source": str(tiny_model("wan"))}, sample)
    return scheduler, graph, run_frames(scheduler, graph), adapter("wan")


def test_out_of_memory_while_decoding_retries_with_tiling_then_fewer_frames(registry, tiny_model, tmp_path,
                                                                             monkeypatch):
    scheduler, graph, reference, wan = _wan_reference(registry, tiny_model, tmp_path, SAMPLE)
    real_decode = type(wan).decode
    calls = []

    def tight_memory(self, pipe, latents, info):
        calls.append((latents.shape[2], bool(getattr(pipe.vae, "use_tiling", False))))
        if latents.shape[2] > 2:  # only small pieces fit
            raise torch.OutOfMemoryError("CUDA out of memory")
        return real_decode(self, pipe, latents, info)

    def no_memory_to_stream(self, pipe, latents, info):
        calls.append(("stream", latents.shape[2]))
        raise torch.OutOfMemoryError("CUDA out of memory")
        yield

    monkeypatch.setattr(type(wan), "decode", tight_memory)
    monkeypatch.setattr(type(wan), "decode_stream", no_memory_to_stream)
    scheduler.cache.clear()
    frames = run_frames(scheduler, graph)
    assert calls.pop(0) == ("stream", 3)  # streamed first,
    assert calls[0] == (3, False) and calls[1] == (3, True)  # then the whole clip, then the whole clip tiled
    assert all(n <= 2 for n, _ in calls[2:]) and len(calls) > 2  # then fewer latent frames at a time
    assert frames.shape == reference.shape
    # frames decoded in pieces stay close to the whole-clip decode (causal context is carried over)
    psnr = 10 * np.log10(255.0**2 / max(np.mean((frames.astype(float) - reference) ** 2), 1e-9))
    assert psnr > 20


LONG = dict(SAMPLE, frames=33, steps=2)  # 9 latent frames


def _count_decoder_calls(scheduler) -> list:
    """Counts the VAE decoder's forward calls of the (single) loaded model."""
    (loaded,) = [v for v in scheduler.resources._items.values()]
    calls = []
    loaded.pipe.vae.decoder.register_forward_hook(lambda *a: calls.append(1))
    return calls


@pytest.mark.parametrize("family", ["wan", "cogvideox"])
def test_decoding_streams_the_first_frames_before_the_last_are_decoded(registry, tiny_model, tmp_path, family):
    scheduler = Scheduler(registry, output_dir=tmp_path)
    sample = dict(LONG, width=16, height=16) if family == "cogvideox" else LONG
    result = scheduler.run(pipeline_graph({"source": str(tiny_model(family))}, sample), ["decode"])
    video = result.raise_for_status().outputs["decode"]["video"]
    calls = _count_decoder_calls(scheduler)
    chunks = video.chunks()
    first = next(chunks)
    made = len(calls)
    rest = np.concatenate(list(chunks))
    assert 0 < made < len(calls)  # the first frames came out while later latent frames were still to decode
    assert len(first) + len(rest) == 33 == video.frame_count


def test_two_clips_stream_from_one_model_interleaved(registry, tiny_model, tmp_path):
    """A comparison pulls two decodes of one model in turns: neither disturbs the other's causal cache."""
    scheduler = Scheduler(registry, output_dir=tmp_path)
    folder = str(tiny_model("wan"))
    apart = [run_frames(scheduler, pipeline_graph({"source": folder}, dict(LONG, seed=seed))) for seed in (1, 2)]
    videos = [scheduler.run(pipeline_graph({"source": folder}, dict(LONG, seed=seed)), ["decode"])
              .raise_for_status().outputs["decode"]["video"] for seed in (1, 2)]
    scheduler.cache.clear()
    pairs = list(zip(videos[0].chunks(), videos[1].chunks(), strict=True))
    assert len(pairs) > 1
    for i, clip in enumerate(apart):
        assert max_level_diff(np.concatenate([pair[i] for pair in pairs]), clip) == 0


def test_out_of_memory_part_way_through_a_streamed_decode_finishes_without_gaps(registry, tiny_model, tmp_path,
                                                                               monkeypatch):
    scheduler, graph, reference, wan = _wan_reference(registry, tiny_model, tmp_path, LONG)
    real_stream = type(wan).decode_stream

    pieces = []

    def runs_out(self, pipe, latents, info):
        for piece in real_stream(self, pipe, latents, info):
            if len(pieces) == 6:  # the first block (17 frames) is out, 4 more frames wait for the next
                raise torch.OutOfMemoryError("CUDA out of memory")
            pieces.append(piece.shape[2])
            yield piece

    monkeypatch.setattr(type(wan), "decode_stream", runs_out)
    scheduler.cache.clear()
    frames = run_frames(scheduler, graph)
    assert sum(pieces) == 21  # streamed that far; the rest came from a whole-clip decode
    assert max_level_diff(frames, reference) == 0  # nothing lost, nothing twice


def test_latent_save_and_load_round_trip(registry, tiny_model, tmp_path):
    scheduler = Scheduler(registry, output_dir=tmp_path)
    graph = pipeline_graph({"source": str(tiny_model("wan"))}, SAMPLE)
    graph.add_node(NodeInstance("save", "latent.save", {"filename": "clip.safetensors"}))
    graph.connect(Link("sample", "latent", "save", "latent"))
    result = scheduler.run(graph, ["save", "decode"])
    result.raise_for_status()
    reference = result.outputs["decode"]["video"].to_array()
    saved = tmp_path / "clip.safetensors"
    assert saved in result.files and saved.stat().st_size > 0

    second = Graph("reload")
    second.add_node(NodeInstance("model", "model.load", {"source": str(tiny_model("wan")), "dtype": "float32"}))
    second.add_node(NodeInstance("load", "latent.load", {"path": str(saved)}))
    second.add_node(NodeInstance("decode", "latent.decode", {"fps": 24.0}))
    second.connect(Link("model", "model", "decode", "model"))
    second.connect(Link("load", "latent", "decode", "latent"))
    out = scheduler.run(second, ["decode"]).raise_for_status().outputs["decode"]["video"]
    assert out.fps == 24.0
    assert max_level_diff(out.to_array(), reference) == 0


def test_single_checkpoint_file_with_config_loads_like_the_folder(registry, tiny_model, tmp_path):
    from safetensors.torch import load_file, save_file

    folder = tiny_model("wan")
    weights = {}
    for shard in sorted((folder / "transformer").glob("*.safetensors")):
        weights.update(load_file(str(shard)))
    single = tmp_path / "wan_transformer.safetensors"
    save_file(weights, str(single))
    scheduler = Scheduler(registry, output_dir=tmp_path)
    from_folder = run_frames(scheduler, pipeline_graph({"source": str(folder)}, SAMPLE))
    from_file = run_frames(scheduler, pipeline_graph({"source": str(single), "config": str(folder)}, SAMPLE))
    assert max_level_diff(from_file, from_folder) <= 1


# Diffusers names -> the original Wan release's names, as its .pth/.safetensors checkpoints (and the files
# ComfyUI users pass around) spell them. Applied in order; norm2 and norm3 swap places between the two.
WAN_ORIGINAL_NAMES = (
    ("condition_embedder.time_embedder.linear_1", "time_embedding.0"),
    ("condition_embedder.time_embedder.linear_2", "time_embedding.2"),
    ("condition_embedder.text_embedder.linear_1", "text_embedding.0"),
    ("condition_embedder.text_embedder.linear_2", "text_embedding.2"),
    ("condition_embedder.time_proj", "time_projection.1"),
    ("attn1", "self_attn"), ("attn2", "cross_attn"),
    (".to_out.0.", ".o."), (".to_q.", ".q."), (".to_k.", ".k."), (".to_v.", ".v."),
    ("ffn.net.0.proj", "ffn.0"), ("ffn.net.2", "ffn.2"),
    ("norm2", "norm_swap"), ("norm3", "norm2"), ("norm_swap", "norm3"),
    ("proj_out", "head.head"),
)


def _wan_original_checkpoint(weights: dict) -> dict:
    out = {}
    for key, tensor in weights.items():
        name = key
        for ours, theirs in WAN_ORIGINAL_NAMES:
            name = name.replace(ours, theirs)
        if name == "scale_shift_table":
            name = "head.modulation"
        name = name.replace(".scale_shift_table", ".modulation")
        out["model.diffusion_model." + name] = tensor.clone()
    return out


def test_an_original_format_checkpoint_is_converted_and_loads_like_the_folder(registry, tiny_model, tmp_path):
    """The common case of a single file: the original release's key names (what ComfyUI users download), plus
    the Diffusers repo for the configs; diffusers converts it."""
    from diffusers.loaders.single_file_utils import convert_wan_transformer_to_diffusers
    from safetensors.torch import load_file, save_file

    folder = tiny_model("wan")
    weights = {}
    for shard in sorted((folder / "transformer").glob("*.safetensors")):
        weights.update(load_file(str(shard)))
    original = _wan_original_checkpoint(weights)
    assert set(original).isdisjoint(weights)  # really another naming...
    assert set(convert_wan_transformer_to_diffusers(dict(original))) == set(weights)  # ...that diffusers reads
    single = tmp_path / "wan2.1_t2v_tiny.safetensors"
    save_file(original, str(single))
    scheduler = Scheduler(registry, output_dir=tmp_path)
    from_folder = run_frames(scheduler, pipeline_graph({"source": str(folder)}, SAMPLE))
    from_file = run_frames(scheduler, pipeline_graph({"source": str(single), "config": str(folder)}, SAMPLE))
    assert max_level_diff(from_file, from_folder) <= 1


def test_single_file_without_config_is_a_validation_error(registry, tmp_path):
    from nodegraph import ValidationError, validate

    single = tmp_path / "model.safetensors"
    single.write_bytes(b"x")
    graph = pipeline_graph({"source": str(single)}, SAMPLE)
    with pytest.raises(ValidationError, match="set config to the folder or id"):
        validate(graph, registry)


def test_missing_model_offline_names_the_model_and_the_fetch_command(registry, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty_hf_home"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty_hf_home" / "hub"))
    import huggingface_hub.constants as hf_constants

    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(tmp_path / "empty_hf_home" / "hub"))
    graph = pipeline_graph({"source": "kinograph-tests/no-such-video-model", "family": "wan"}, SAMPLE)
    result = Scheduler(registry, output_dir=tmp_path).run(graph, ["decode"])
    assert result.status == "failed" and result.error.node_id == "model"
    assert "kinograph-tests/no-such-video-model" in result.error.message
    assert "hf download kinograph-tests/no-such-video-model" in result.error.message
    assert type(result.error.cause).__name__ == "MissingModelError"


def test_conditioning_from_another_family_is_refused(registry, tiny_model, tmp_path):
    graph = pipeline_graph({"source": str(tiny_model("wan"))}, SAMPLE)
    graph.add_node(NodeInstance("other", "model.load", {"source": str(tiny_model("ltx")), "dtype": "float32"}))
    graph.connect(Link("other", "model", "encode", "model"))
    result = Scheduler(registry, output_dir=tmp_path).run(graph, ["decode"])
    assert result.status == "failed" and "encoded for ltx" in result.error.message


@pytest.mark.parametrize("family, acceleration", [
    ("wan", "first_block_cache"), ("wan", "taylorseer_cache"), ("wan", "pyramid_attention_broadcast"),
    ("ltx", "taylorseer_cache"), ("cogvideox", "taylorseer_cache"), ("cogvideox", "pyramid_attention_broadcast"),
])
def test_acceleration_takes_effect_and_is_removed_afterwards(registry, tiny_model, tmp_path, family, acceleration):
    scheduler = Scheduler(registry, output_dir=tmp_path)
    folder = str(tiny_model(family))
    sample = dict(SAMPLE, steps=30)  # the caches leave the first steps (and the noisiest timesteps) alone
    plain = run_frames(scheduler, pipeline_graph({"source": folder}, sample))
    fast = run_frames(scheduler, pipeline_graph({"source": folder}, dict(sample, acceleration=acceleration)))
    assert fast.shape == plain.shape and fast.std() > 1.0
    assert max_level_diff(fast, plain) > 0  # some step was cached: the cache did something
    assert np.abs(fast.astype(float) - plain).mean() < 8.0  # and the clip is still the same clip
    scheduler.cache.clear()
    again = run_frames(scheduler, pipeline_graph({"source": folder}, sample))
    assert max_level_diff(again, plain) == 0  # the cache hooks did not stay on the shared transformer


def test_first_block_cache_on_a_one_block_transformer_says_what_it_needs(registry, tiny_model, tmp_path):
    scheduler = Scheduler(registry, output_dir=tmp_path)
    graph = pipeline_graph({"source": str(tiny_model("ltx"))}, dict(SAMPLE, acceleration="first_block_cache"))
    result = scheduler.run(graph, ["decode"])
    assert result.status == "failed" and result.error.node_id == "sample"
    assert "two blocks or more" in result.error.message and "has 1" in result.error.message
    assert run_frames(scheduler, pipeline_graph({"source": str(tiny_model("ltx"))}, SAMPLE)).shape == (9, 32, 32, 3)


def test_a_step_cache_covers_both_experts_of_a_two_transformer_model(registry, tiny_model, tmp_path):
    scheduler = Scheduler(registry, output_dir=tmp_path)
    folder = str(tiny_model("wan22_a14b"))
    graph = pipeline_graph({"source": folder}, dict(SAMPLE, steps=4, acceleration="first_block_cache"))
    pipe = scheduler.resources.get(scheduler.run(graph, ["model"]).outputs["model"]["model"].key).pipe
    seen = []
    for name in ("transformer", "transformer_2"):
        part = getattr(pipe, name)
        part.register_forward_pre_hook(lambda module, _, name=name: seen.append((name, module.is_cache_enabled)))
    run_frames(scheduler, graph)
    assert {name for name, _ in seen} == {"transformer", "transformer_2"}
    assert all(on for _, on in seen)
    assert not pipe.transformer.is_cache_enabled and not pipe.transformer_2.is_cache_enabled  # removed after


@pytest.mark.parametrize(("family", "frames"), [("wan", 9), ("animatediff", 8)])
def test_loading_a_model_prints_no_deprecation_warning(registry, tiny_model, tmp_path, family, frames):
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        graph = pipeline_graph({"source": str(tiny_model(family))}, dict(SAMPLE, frames=frames, width=16, height=16))
        run_frames(Scheduler(registry, output_dir=tmp_path), graph)
    said = [f"{w.category.__name__}: {w.message}" for w in caught
            if issubclass(w.category, (DeprecationWarning, FutureWarning))]
    assert said == []


def test_a_decoded_clip_is_decoded_once_for_two_consumers_and_a_downstream_edit(registry, tiny_model, tmp_path,
                                                                                 monkeypatch):
    from nodes.diffusion import decoding

    decodes = []
    real_stream = decoding.Decoder.stream

    def counted(self):
        decodes.append(1)
        yield from real_stream(self)

    monkeypatch.setattr(decoding.Decoder, "stream", counted)
    graph = pipeline_graph({"source": str(tiny_model("wan"))}, SAMPLE)
    graph.add_node(NodeInstance("save", "video.save", {"filename": "clip", "crf": 18}))
    graph.add_node(NodeInstance("big", "video.resize", {"scale": 2.0}))
    graph.connect(Link("decode", "video", "save", "video"))
    graph.connect(Link("decode", "video", "big", "video"))
    scheduler = Scheduler(registry, output_dir=tmp_path)
    first = scheduler.run(graph, ["save", "big"]).raise_for_status()
    assert first.outputs["big"]["video"].to_array().shape == (9, 64, 64, 3)
    graph.nodes["save"].params["crf"] = 30
    second = scheduler.run(graph, ["save"]).raise_for_status()
    assert second.executed == ["save"] and len(second.files) == 1
    assert len(decodes) == 1  # the VAE ran once: for the first pull, not for the second consumer or the re-save
