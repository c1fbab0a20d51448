"""model.load from single and split files as ComfyUI users have them, and from fp8 and GGUF weights: the same (or
close) frames as the Diffusers folder the files were made from."""

from __future__ import annotations

import pytest
import torch
from helpers import max_level_diff, pipeline_graph, run_frames
from model_files import fake_hub_cache, folder_weights, plain_fp8, scaled_fp8, wan_vae_original, write_gguf
from test_behaviour import _wan_original_checkpoint

from nodegraph import Scheduler, ValidationError, validate

SAMPLE = dict(width=32, height=32, frames=5, steps=2, guidance=4.0, seed=3)
# Measured on the tiny random Wan (CPU, 8-bit frames against float32): fp8 storage with bf16 compute differs by 1.4
# levels on average (25 at most), fp8 denoiser + scaled-fp8 UMT5 files by 1.7 (40 at most: random tiny weights have
# no outliers to absorb fp8's 3-bit mantissa), GGUF Q8_0 by 0.02 (1 at most). The bounds leave room for other CPUs.
FP8_MEAN_BOUND = 3.0
FP8_MAX_BOUND = 64
GGUF_BOUND = 2


def assert_close_fp8(frames, reference):
    import numpy as np

    diff = np.abs(frames.astype(np.int16) - reference.astype(np.int16))
    assert 0 < diff.mean() <= FP8_MEAN_BOUND and diff.max() <= FP8_MAX_BOUND, (diff.mean(), diff.max())


@pytest.fixture(scope="module")
def wan_files(tiny_model, tmp_path_factory):
    """The tiny Wan pipeline's folder, and its parts as ComfyUI's split files: the denoiser in the original
    release's names, UMT5 in transformers' names (embed_tokens left out, as ComfyUI's files do), the VAE in the
    original names."""
    from diffusers.loaders.single_file_utils import convert_wan_vae_to_diffusers
    from safetensors.torch import save_file

    folder = tiny_model("wan_comfy")
    out = tmp_path_factory.mktemp("comfy_models")
    vae = folder_weights(folder, "vae")
    original_vae = wan_vae_original(vae)
    assert set(original_vae).isdisjoint(vae)  # really the other naming...
    assert set(convert_wan_vae_to_diffusers(dict(original_vae))) == set(vae)  # ...that diffusers converts back
    text = {k: v for k, v in folder_weights(folder, "text_encoder").items() if k != "encoder.embed_tokens.weight"}
    files = {"folder": folder, "denoiser": out / "wan2.1_t2v_tiny_fp16.safetensors",
             "text_encoder": out / "umt5_xxl_tiny_fp16.safetensors", "vae": out / "wan_2.1_vae.safetensors",
             "weights": folder_weights(folder, "transformer"), "text": text}
    save_file(_wan_original_checkpoint(files["weights"]), str(files["denoiser"]))
    save_file(text, str(files["text_encoder"]))
    save_file(original_vae, str(files["vae"]))
    return files


@pytest.fixture(scope="module")
def reference_frames(registry, wan_files, tmp_path_factory):
    scheduler = Scheduler(registry, output_dir=tmp_path_factory.mktemp("ref"))
    return run_frames(scheduler, pipeline_graph({"source": str(wan_files["folder"])}, SAMPLE))


def split(files: dict, **extra) -> dict:
    return dict(source=str(files["denoiser"]), config=str(files["folder"]), text_encoder=str(files["text_encoder"]),
                vae=str(files["vae"]), **extra)


def test_split_files_in_comfyui_layout_give_the_folders_frames(registry, wan_files, reference_frames, tmp_path,
                                                               monkeypatch):
    # The config folder holds configs and tokenizer only, as `hf download --exclude '*.safetensors'` leaves it.
    import shutil

    configs = tmp_path / "wan_configs"
    shutil.copytree(wan_files["folder"], configs, ignore=shutil.ignore_patterns("*.safetensors"))
    graph = pipeline_graph(split(wan_files) | {"config": str(configs)}, SAMPLE)
    frames = run_frames(Scheduler(registry, output_dir=tmp_path), graph)
    assert max_level_diff(frames, reference_frames) <= 1


def test_the_configs_come_from_the_reference_repo_in_the_local_cache(registry, wan_files, reference_frames, tmp_path,
                                                                     monkeypatch):
    import huggingface_hub.constants as hf_constants

    from nodes.diffusion.files import reference_of

    reference = reference_of(str(wan_files["denoiser"]))
    assert reference is not None and reference.family == "wan"
    params = dict(source=str(wan_files["denoiser"]), text_encoder=str(wan_files["text_encoder"]),
                  vae=str(wan_files["vae"]))
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(tmp_path / "empty"))
    with pytest.raises(ValidationError, match=f"configs come from {reference.repo}, which is not in the local"):
        validate(pipeline_graph(params, SAMPLE), registry)

    cache = fake_hub_cache(tmp_path / "hub", reference.repo, wan_files["folder"])
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(cache))
    frames = run_frames(Scheduler(registry, output_dir=tmp_path), pipeline_graph(params, SAMPLE))
    assert max_level_diff(frames, reference_frames) <= 1


def test_a_whole_checkpoint_file_splits_into_its_parts(registry, wan_files, reference_frames, tmp_path):
    """One file holding the denoiser, the VAE and the text encoder under the prefixes ComfyUI saves them with."""
    from safetensors.torch import load_file, save_file

    whole = dict(load_file(str(wan_files["denoiser"])))
    whole.update({"first_stage_model." + k: v for k, v in load_file(str(wan_files["vae"])).items()})
    whole.update({"text_encoders.umt5xxl.transformer." + k: v for k, v in wan_files["text"].items()})
    path = tmp_path / "wan_aio.safetensors"
    save_file(whole, str(path))
    params = dict(source=str(path), config=str(wan_files["folder"]))
    frames = run_frames(Scheduler(registry, output_dir=tmp_path), pipeline_graph(params, SAMPLE))
    assert max_level_diff(frames, reference_frames) <= 1


def test_fp8_and_scaled_fp8_files_run_close_to_full_precision(registry, wan_files, reference_frames, tmp_path):
    from safetensors.torch import load_file, save_file

    denoiser = tmp_path / "wan2.1_t2v_tiny_fp8_e4m3fn.safetensors"
    save_file(plain_fp8(load_file(str(wan_files["denoiser"]))), str(denoiser))
    text = tmp_path / "umt5_xxl_tiny_fp8_e4m3fn_scaled.safetensors"
    save_file(scaled_fp8(wan_files["text"]), str(text))
    params = split(wan_files) | {"source": str(denoiser), "text_encoder": str(text)}
    frames = run_frames(Scheduler(registry, output_dir=tmp_path), pipeline_graph(params, SAMPLE))
    assert_close_fp8(frames, reference_frames)


def test_fp8_storage_keeps_the_denoiser_in_fp8_and_runs_close(registry, wan_files, reference_frames, tmp_path):
    from nodegraph.cache import ResourceCache

    cache = ResourceCache()
    scheduler = Scheduler(registry, output_dir=tmp_path, resources=cache)
    graph = pipeline_graph({"source": str(wan_files["folder"])}, SAMPLE)
    graph.nodes["model"].params["dtype"] = "float8_e4m3fn"
    frames = run_frames(scheduler, graph)
    (loaded,) = [value for value in cache._items.values() if hasattr(value, "pipe")]
    linear = loaded.pipe.transformer.blocks[0].attn1.to_q
    assert linear.weight.dtype == torch.float8_e4m3fn
    assert loaded.pipe.transformer.scale_shift_table.dtype == torch.bfloat16  # left out of fp8: computes in bf16
    assert_close_fp8(frames, reference_frames)


def test_a_gguf_denoiser_runs_close_to_full_precision(registry, wan_files, reference_frames, tmp_path):
    path = tmp_path / "wan2.1_t2v_tiny-Q8_0.gguf"
    assert write_gguf(_wan_original_checkpoint(wan_files["weights"]), path) >= 4
    params = split(wan_files) | {"source": str(path)}
    frames = run_frames(Scheduler(registry, output_dir=tmp_path), pipeline_graph(params, SAMPLE))
    assert max_level_diff(frames, reference_frames) <= GGUF_BOUND


def test_gguf_with_fp8_storage_is_a_validation_error(registry, tmp_path, wan_files):
    path = tmp_path / "model-Q8_0.gguf"
    write_gguf({"x.weight": torch.zeros(2, 32)}, path)
    graph = pipeline_graph(split(wan_files) | {"source": str(path)}, SAMPLE)
    graph.nodes["model"].params["dtype"] = "float8_e4m3fn"
    with pytest.raises(ValidationError, match="already quantized"):
        validate(graph, registry)


def test_a_file_of_another_model_is_refused_naming_what_loads(registry, wan_files, tmp_path):
    """A CLIP text encoder where Wan wants UMT5: one line naming the files that load."""
    from safetensors.torch import save_file
    from tiny_models import clip_text_encoder

    clip = tmp_path / "clip_l.safetensors"
    save_file(clip_text_encoder().state_dict(), str(clip))
    graph = pipeline_graph(split(wan_files) | {"text_encoder": str(clip)}, SAMPLE)
    with pytest.raises(Exception, match="does not load into T5EncoderModel; what loads: umt5_xxl_fp16"):
        Scheduler(registry, output_dir=tmp_path).run(graph, ["decode"]).raise_for_status()


def test_a_denoiser_diffusers_cannot_convert_is_refused(registry, tiny_model, tmp_path):
    """CogVideoX has no single-file converter in diffusers: its original (SAT) layout is refused in one line, while a
    file in diffusers' names with a text encoder file loads like the folder."""
    from safetensors.torch import save_file

    folder = tiny_model("cogvideox")
    sample = dict(width=16, height=16, frames=9, steps=2, guidance=3.0, seed=5)
    weights = folder_weights(folder, "transformer")
    diffusers_named = tmp_path / "cogvideox_transformer.safetensors"
    save_file(weights, str(diffusers_named))
    t5 = tmp_path / "t5xxl_tiny_fp16.safetensors"
    save_file(folder_weights(folder, "text_encoder"), str(t5))
    scheduler = Scheduler(registry, output_dir=tmp_path)
    expected = run_frames(scheduler, pipeline_graph({"source": str(folder)}, sample))
    params = dict(source=str(diffusers_named), config=str(folder), text_encoder=str(t5))
    assert max_level_diff(run_frames(scheduler, pipeline_graph(params, sample)), expected) <= 1

    sat = tmp_path / "cogvideox_sat.safetensors"
    save_file({"model.diffusion_model." + k.replace("transformer_blocks", "transformer.layers"): v
               for k, v in weights.items()}, str(sat))
    with pytest.raises(Exception, match="diffusers has no converter for CogVideoXTransformer3DModel files"):
        scheduler.run(pipeline_graph(dict(params, source=str(sat)), sample), ["decode"]).raise_for_status()


def test_an_ltx_checkpoint_holding_transformer_and_vae_with_a_t5_file(registry, tiny_model, tmp_path):
    """LTX-Video ships one checkpoint with the transformer (original names) and the VAE under `vae.`; the T5
    encoder comes as ComfyUI's t5xxl file."""
    from diffusers.loaders.single_file_utils import convert_ltx_transformer_checkpoint_to_diffusers
    from model_files import ltx_transformer_original
    from safetensors.torch import save_file

    folder = tiny_model("ltx")
    sample = dict(width=32, height=32, frames=9, steps=2, guidance=3.0, seed=11)
    transformer = folder_weights(folder, "transformer")
    original = ltx_transformer_original(transformer)
    assert set(convert_ltx_transformer_checkpoint_to_diffusers(dict(original))) == set(transformer)
    whole = original | {"vae." + k: v for k, v in folder_weights(folder, "vae").items()}
    checkpoint = tmp_path / "ltx-video-tiny.safetensors"
    save_file(whole, str(checkpoint))
    t5 = tmp_path / "t5xxl_tiny_fp16.safetensors"
    save_file(folder_weights(folder, "text_encoder"), str(t5))
    scheduler = Scheduler(registry, output_dir=tmp_path)
    expected = run_frames(scheduler, pipeline_graph({"source": str(folder)}, sample))
    params = dict(source=str(checkpoint), config=str(folder), text_encoder=str(t5))
    assert max_level_diff(run_frames(scheduler, pipeline_graph(params, sample)), expected) <= 1


def test_an_animatediff_motion_module_in_the_original_layout(registry, tiny_model, tmp_path):
    from diffusers.loaders.single_file_utils import convert_animatediff_checkpoint_to_diffusers
    from model_files import motion_module_original
    from safetensors.torch import save_file

    folder = tiny_model("animatediff")
    sample = dict(width=16, height=16, frames=8, steps=2, guidance=3.0, seed=2)
    adapter = folder_weights(folder, "motion_adapter")
    original = motion_module_original(adapter)
    assert set(original).isdisjoint(adapter)
    assert set(convert_animatediff_checkpoint_to_diffusers(dict(original))) == set(adapter)
    module = tmp_path / "mm_sd_v15_tiny.safetensors"
    save_file(original, str(module))
    scheduler = Scheduler(registry, output_dir=tmp_path)
    expected = run_frames(scheduler, pipeline_graph({"source": str(folder)}, sample))
    params = dict(source=str(folder), motion_adapter=str(module))
    assert max_level_diff(run_frames(scheduler, pipeline_graph(params, sample)), expected) <= 1


def test_the_original_svd_checkpoint_is_refused_naming_what_loads(tiny_model, tmp_path):
    """diffusers has no single-file converter for SVD's UNet: svd_xt.safetensors is refused in one line."""
    from safetensors.torch import save_file

    folder = tiny_model("svd")
    weights = folder_weights(folder, "unet")
    sgm = tmp_path / "svd_xt_tiny.safetensors"
    save_file({"model.diffusion_model." + k.replace("down_blocks", "input_blocks"): v for k, v in weights.items()},
              str(sgm))
    from nodes.diffusion.files import build_pipeline
    from nodes.diffusion.values import ModelHandle

    handle = ModelHandle(key="k", family="svd", source=str(sgm), config=str(folder), dtype="float32", offload="none",
                         device="cpu", vae_tiling=False)
    with pytest.raises(Exception, match="no converter for UNetSpatioTemporalConditionModel files.*what loads"):
        build_pipeline(handle, None)


def test_a_config_folder_without_text_encoder_weights_names_the_param(registry, wan_files, tmp_path):
    import shutil

    configs = tmp_path / "wan_configs"
    shutil.copytree(wan_files["folder"], configs, ignore=shutil.ignore_patterns("*.safetensors"))
    params = dict(source=str(wan_files["denoiser"]), config=str(configs), vae=str(wan_files["vae"]))
    with pytest.raises(Exception, match="holds no weights for its text_encoder; give it with the text_encoder param"):
        Scheduler(registry, output_dir=tmp_path).run(pipeline_graph(params, SAMPLE), ["decode"]).raise_for_status()


# transformers' UMT5 names -> Wan's original release (models_t5_umt5-xxl-enc-bf16.pth), as its T5 module names them.
WAN_T5_ORIGINAL = ((r"^shared\.", "token_embedding."), (r"^encoder\.final_layer_norm\.", "norm."),
                   (r"^encoder\.block\.(\d+)\.layer\.0\.layer_norm\.", r"blocks.\1.norm1."),
                   (r"^encoder\.block\.(\d+)\.layer\.0\.SelfAttention\.relative_attention_bias\.",
                    r"blocks.\1.pos_embedding.embedding."),
                   (r"^encoder\.block\.(\d+)\.layer\.0\.SelfAttention\.", r"blocks.\1.attn."),
                   (r"^encoder\.block\.(\d+)\.layer\.1\.layer_norm\.", r"blocks.\1.norm2."),
                   (r"^encoder\.block\.(\d+)\.layer\.1\.DenseReluDense\.wi_0\.", r"blocks.\1.ffn.gate.0."),
                   (r"^encoder\.block\.(\d+)\.layer\.1\.DenseReluDense\.wi_1\.", r"blocks.\1.ffn.fc1."),
                   (r"^encoder\.block\.(\d+)\.layer\.1\.DenseReluDense\.wo\.", r"blocks.\1.ffn.fc2."))


def test_wans_original_umt5_release_loads_into_umt5(tmp_path):
    import re

    from transformers import UMT5Config, UMT5EncoderModel

    from nodes.diffusion.single_file import load_component

    torch.manual_seed(0)
    config = UMT5Config(vocab_size=64, d_model=32, d_ff=37, d_kv=8, num_layers=2, num_heads=4,
                        relative_attention_num_buckets=8, feed_forward_proj="gated-gelu", is_encoder_decoder=False)
    reference = UMT5EncoderModel(config).eval()
    reference.config.save_pretrained(str(tmp_path / "text_encoder"))
    original = {}
    for key, tensor in reference.state_dict().items():
        if key == "encoder.embed_tokens.weight":
            continue  # tied to shared
        for pattern, replacement in WAN_T5_ORIGINAL:
            key, count = re.subn(pattern, replacement, key)
            if count:
                break
        original[key] = tensor.clone()
    assert not any(key.startswith("encoder.") for key in original)
    loaded = load_component("text_encoder", "text_encoder", ["transformers", "UMT5EncoderModel"], original, tmp_path,
                            torch.float32, tmp_path / "models_t5_umt5-xxl-enc-bf16.pth")
    ids = torch.tensor([[5, 9, 3, 1]])
    with torch.no_grad():
        assert torch.equal(loaded(ids).last_hidden_state, reference(ids).last_hidden_state)
