"""AnimateDiff: a Stable Diffusion 1.5 base plus a motion adapter; text and video to video."""

from __future__ import annotations

from typing import Any

from .base import FamilyAdapter, SizeRules, encode_pixels_2d, vae_input, vae_spatial_2d


class AnimateDiffAdapter(FamilyAdapter):
    name = "animatediff"
    title = "AnimateDiff"
    pipelines = {"t2v": "AnimateDiffPipeline", "v2v": "AnimateDiffVideoToVideoPipeline"}
    detect_names = ("AnimateDiffPipeline", "AnimateDiffVideoToVideoPipeline")
    denoiser = "unet"
    native_fps = 8.0
    max_sequence_length = None  # CLIP's 77 tokens; its pipelines' call takes no max_sequence_length
    default_size = (512, 512, 16)
    schedulers = {
        "default": ("", {}),
        "ddim": ("DDIMScheduler", {}),
        "euler": ("EulerDiscreteScheduler", {}),
        "euler_a": ("EulerAncestralDiscreteScheduler", {}),
        "heun": ("HeunDiscreteScheduler", {}),
        "dpm++ 2m": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "solver_order": 2}),
        "dpm++ 2m sde": ("DPMSolverMultistepScheduler", {"algorithm_type": "sde-dpmsolver++", "solver_order": 2}),
        "unipc": ("UniPCMultistepScheduler", {}),
        "lcm": ("LCMScheduler", {}),
    }
    example_ids = {"t2v": "emilianJR/epiCRealism + guoyww/animatediff-motion-adapter-v1-5-2"}
    framewise_decode = True

    def size_rules(self, configs: dict[str, dict]) -> SizeRules:
        adapter_cfg = configs.get("motion_adapter", {})
        longest = adapter_cfg.get("motion_max_seq_length") or 32
        return SizeRules(multiple=vae_spatial_2d(configs.get("vae", {})), frame_step=1, frame_offset=0,
                         min_frames=1, max_frames=int(longest))

    def model_modes(self, model_index: dict, configs: dict[str, dict]) -> tuple[str, ...]:
        return ("t2v", "v2v")

    def encode(self, pipe, prompt: str, negative: str, device) -> dict[str, Any]:
        pe, ne = pipe.encode_prompt(prompt, device, 1, True, negative_prompt=negative or None)
        return {"prompt_embeds": pe, "negative_prompt_embeds": ne}

    def decode(self, pipe, latents, info: dict[str, Any]):
        vae = pipe.vae
        latents = 1 / vae.config.scaling_factor * vae_input(pipe, latents)
        b, c, t, h, w = latents.shape
        flat = latents.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
        decoded = vae.decode(flat).sample
        return decoded[None].reshape((b, t, -1) + decoded.shape[2:]).permute(0, 2, 1, 3, 4).float()

    def encode_pixels(self, pipe, pixels):
        return encode_pixels_2d(pipe, pixels)


ADAPTER = AnimateDiffAdapter()
