"""A tiny random Depth Anything V2 model in transformers' layout (config.json, preprocessor_config.json,
model.safetensors), laid out as the released -hf folders are, for tests and benches."""

from __future__ import annotations

from pathlib import Path


def save_tiny_depth(folder: Path, seed: int = 0) -> Path:
    import torch
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config, DPTImageProcessorPil

    backbone = Dinov2Config(hidden_size=16, num_hidden_layers=4, num_attention_heads=2, intermediate_size=32,
                            image_size=56, patch_size=14, out_features=["stage1", "stage2", "stage3", "stage4"],
                            reshape_hidden_states=False)
    config = DepthAnythingConfig(backbone_config=backbone, reassemble_hidden_size=16, neck_hidden_sizes=[8, 8, 16, 16],
                                 fusion_hidden_size=8, head_hidden_size=8, patch_size=14,
                                 initializer_range=0.5)  # wide enough that the random depth is not all ~0
    torch.manual_seed(seed)
    DepthAnythingForDepthEstimation(config).eval().save_pretrained(folder)
    # The released models' preprocessing (keep the aspect ratio, multiples of 14, ImageNet normalisation), at 56.
    DPTImageProcessorPil(size={"height": 56, "width": 56}, keep_aspect_ratio=True, ensure_multiple_of=14,
                         resample=3, do_normalize=True, image_mean=[0.485, 0.456, 0.406],
                         image_std=[0.229, 0.224, 0.225]).save_pretrained(folder)
    return folder
