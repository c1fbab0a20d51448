"""Quantized weights: fp8 storage with bf16 compute (diffusers' layerwise casting) and GGUF denoiser files."""

from __future__ import annotations

FP8_STORAGE = "float8_e4m3fn"


def storage_dtypes(choice: str, resolved):
    """(storage dtype or None, compute dtype) for model.load's dtype choice; `resolved` is the plain choice's dtype."""
    import torch

    if choice == FP8_STORAGE:
        return torch.float8_e4m3fn, torch.bfloat16
    return None, resolved


def gguf_config(compute_dtype):
    """diffusers' GGUF quantization config, computing in `compute_dtype`."""
    from diffusers import GGUFQuantizationConfig

    return GGUFQuantizationConfig(compute_dtype=compute_dtype)


def store_in_fp8(model, storage_dtype, compute_dtype) -> None:
    """Keep `model`'s layer weights in `storage_dtype`, cast to `compute_dtype` layer by layer as it runs; the layers
    diffusers leaves out (norms, embeddings, patch and position layers) compute and stay in `compute_dtype`."""
    import torch
    from diffusers.hooks.layerwise_casting import _LAYERWISE_CASTING_HOOK

    model.enable_layerwise_casting(storage_dtype=storage_dtype, compute_dtype=compute_dtype)
    for module in model.modules():
        registry = getattr(module, "_diffusers_hook", None)
        if registry is not None and registry.get_hook(_LAYERWISE_CASTING_HOOK) is not None:
            continue
        # Copied even when the dtype is right: a view into the file's mapping would keep all of it resident.
        for name, tensor in list(module._parameters.items()):
            if tensor is not None and tensor.is_floating_point():
                module._parameters[name] = torch.nn.Parameter(tensor.data.to(compute_dtype, copy=True),
                                                              requires_grad=False)
        for name, tensor in list(module._buffers.items()):
            if tensor is not None and tensor.is_floating_point():
                module._buffers[name] = tensor.to(compute_dtype, copy=True)
