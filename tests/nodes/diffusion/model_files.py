"""Single and split model files as ComfyUI users have them, made from a tiny pipeline's state dicts."""

from __future__ import annotations

import re
from pathlib import Path

RESNET_NAMES = (("norm1.gamma", "residual.0.gamma"), ("conv1.", "residual.2."), ("norm2.gamma", "residual.3.gamma"),
                ("conv2.", "residual.6."), ("conv_shortcut.", "shortcut."))


def folder_weights(folder: Path, component: str) -> dict:
    from safetensors.torch import load_file

    weights = {}
    for shard in sorted((folder / component).glob("*.safetensors")):
        weights.update(load_file(str(shard)))
    return weights


def _resnet(rest: str) -> str:
    for ours, theirs in RESNET_NAMES:
        if rest.startswith(ours):
            return theirs + rest[len(ours):]
    return rest


def wan_vae_original(weights: dict) -> dict:
    """A Wan VAE's diffusers names -> the original release's (what wan_2.1_vae.safetensors holds)."""
    out = {}
    for key, tensor in weights.items():
        name = key
        for coder in ("encoder", "decoder"):
            name = re.sub(rf"^{coder}\.mid_block\.resnets\.(\d)\.(.*)$",
                          lambda m, c=coder: f"{c}.middle.{2 * int(m[1])}.{_resnet(m[2])}", name)
            name = re.sub(rf"^{coder}\.mid_block\.attentions\.0\.", f"{coder}.middle.1.", name)
            name = re.sub(rf"^{coder}\.conv_in\.", f"{coder}.conv1.", name)
            name = re.sub(rf"^{coder}\.norm_out\.", f"{coder}.head.0.", name)
            name = re.sub(rf"^{coder}\.conv_out\.", f"{coder}.head.2.", name)
        name = re.sub(r"^encoder\.down_blocks\.(\d+)\.(.*)$", lambda m: f"encoder.downsamples.{m[1]}.{_resnet(m[2])}",
                      name)
        name = re.sub(r"^decoder\.up_blocks\.(\d)\.resnets\.(\d)\.(.*)$",
                      lambda m: f"decoder.upsamples.{4 * int(m[1]) + int(m[2])}.{_resnet(m[3])}", name)
        name = re.sub(r"^decoder\.up_blocks\.(\d)\.upsamplers\.0\.",
                      lambda m: f"decoder.upsamples.{4 * int(m[1]) + 3}.", name)
        name = {"quant_conv.weight": "conv1.weight", "quant_conv.bias": "conv1.bias",
                "post_quant_conv.weight": "conv2.weight", "post_quant_conv.bias": "conv2.bias"}.get(name, name)
        out[name] = tensor.clone()
    return out


def scaled_fp8(weights: dict) -> dict:
    """ComfyUI's fp8_e4m3fn_scaled layout: 2-D weights in fp8 with a per-tensor `.scale_weight`, a `scaled_fp8`
    marker; the rest as they were."""
    import torch

    out = {"scaled_fp8": torch.empty(0, dtype=torch.float8_e4m3fn)}
    for key, tensor in weights.items():
        if key.endswith(".weight") and tensor.ndim == 2 and "shared" not in key and "embed" not in key:
            scale = tensor.abs().max().float() / 448.0
            out[key] = (tensor.float() / scale).to(torch.float8_e4m3fn)
            out[key[:-len(".weight")] + ".scale_weight"] = scale.reshape(1)
        else:
            out[key] = tensor.clone()
    return out


def plain_fp8(weights: dict) -> dict:
    """ComfyUI's fp8_e4m3fn layout: every 2-D and higher weight cast to fp8, norms and biases as they were."""
    import torch

    return {key: (tensor.to(torch.float8_e4m3fn) if tensor.ndim >= 2 else tensor.clone())
            for key, tensor in weights.items()}


def write_gguf(weights: dict, path: Path) -> int:
    """A GGUF file as city96's converter makes them: 2-D weights whose rows fit Q8_0 blocks quantized, the rest F32;
    returns how many tensors were quantized."""
    import gguf
    import numpy as np

    writer = gguf.GGUFWriter(str(path), arch="wan")
    quantized = 0
    block = gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType.Q8_0][0]
    for key, tensor in weights.items():
        array = tensor.float().numpy()
        if array.ndim == 2 and array.shape[-1] % block == 0:
            data = gguf.quants.quantize(array, gguf.GGMLQuantizationType.Q8_0)
            writer.add_tensor(key, data, raw_shape=data.shape, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
            quantized += 1
        else:
            writer.add_tensor(key, np.ascontiguousarray(array, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return quantized


def fake_hub_cache(root: Path, repo: str, folder: Path) -> Path:
    """A Hugging Face cache at `root` that holds `folder` as the snapshot of `repo`."""
    import shutil

    repo_dir = root / ("models--" + repo.replace("/", "--"))
    snapshot = repo_dir / "snapshots" / ("0" * 40)
    shutil.copytree(folder, snapshot)
    (repo_dir / "refs").mkdir(parents=True)
    (repo_dir / "refs" / "main").write_text("0" * 40)
    return root


def motion_module_original(weights: dict) -> dict:
    """A MotionAdapter's diffusers names -> the original AnimateDiff release's (mm_sd_v15_v2.ckpt)."""
    out = {}
    for key, tensor in weights.items():
        name = re.sub(r"(motion_modules\.\d+\.)", r"\1temporal_transformer.", key)
        for ours, theirs in ((".norm1", ".norms.0"), (".norm2", ".norms.1"), (".norm3", ".ff_norm"),
                             (".attn1", ".attention_blocks.0"), (".attn2", ".attention_blocks.1")):
            name = name.replace(ours, theirs)
        out[name] = tensor.clone()
    return out


def ltx_transformer_original(weights: dict) -> dict:
    """An LTX-Video transformer's diffusers names -> the original release's, as its checkpoints hold them."""
    out = {}
    for key, tensor in weights.items():
        name = key
        for ours, theirs in (("proj_in", "patchify_proj"), ("time_embed", "adaln_single"), ("norm_q", "q_norm"),
                             ("norm_k", "k_norm")):
            name = name.replace(ours, theirs)
        out["model.diffusion_model." + name] = tensor.clone()
    return out
