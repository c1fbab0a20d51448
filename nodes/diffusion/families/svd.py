"""Stable Video Diffusion: one image to a short clip; no text, guidance ramps from 1 to `guidance`."""

from __future__ import annotations

from typing import Any

from .base import FamilyAdapter, SampleInfo, SizeRules, encode_pixels_2d, vae_input, vae_spatial_2d
from .images import to_pil


class SVDAdapter(FamilyAdapter):
    name = "svd"
    title = "Stable Video Diffusion"
    pipelines = {"i2v": "StableVideoDiffusionPipeline"}
    detect_names = ("StableVideoDiffusionPipeline",)
    denoiser = "unet"
    native_fps = 7.0
    uses_text = False
    lora_loader = False  # diffusers' StableVideoDiffusionPipeline has no LoRA loader
    default_takes_sigmas = True  # its EulerDiscreteScheduler does (Karras-style levels, e.g. 700 down to 0.002)
    default_size = (1024, 576, 25)
    example_ids = {"i2v": "stabilityai/stable-video-diffusion-img2vid-xt"}

    def size_rules(self, configs: dict[str, dict]) -> SizeRules:
        return SizeRules(multiple=vae_spatial_2d(configs.get("vae", {})), frame_step=1, frame_offset=0, min_frames=1)

    def model_modes(self, model_index: dict, configs: dict[str, dict]) -> tuple[str, ...]:
        return ("i2v",)

    def encode(self, pipe, prompt: str, negative: str, device) -> dict[str, Any]:
        return {}

    def call_kwargs(self, pipe, mode, *, width, height, frames, steps, guidance, strength, image, last_image,
                    video) -> dict[str, Any]:
        return dict(image=to_pil(image), width=width, height=height, num_frames=frames, num_inference_steps=steps,
                    max_guidance_scale=guidance, fps=int(self.native_fps))

    def latents_from_output(self, pipe, latents, info: SampleInfo):
        return latents.permute(0, 2, 1, 3, 4)

    def decode(self, pipe, latents, info: dict[str, Any]):
        vae = pipe.vae
        frames = latents.shape[2]
        flat = vae_input(pipe, latents.permute(0, 2, 1, 3, 4).flatten(0, 1))
        flat = 1 / vae.config.scaling_factor * flat
        decoded = vae.decode(flat, num_frames=frames).sample
        return decoded.reshape(-1, frames, *decoded.shape[1:]).permute(0, 2, 1, 3, 4).float()

    def encode_pixels(self, pipe, pixels):
        return encode_pixels_2d(pipe, pixels)


ADAPTER = SVDAdapter()
