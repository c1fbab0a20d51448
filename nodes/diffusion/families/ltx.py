"""LTX-Video: text and image to video; latents travel packed as tokens inside the pipeline."""

from __future__ import annotations

from typing import Any

from .base import FamilyAdapter, SampleInfo, SizeRules, vae_input


def _ratios(vae: dict, default_scaling: tuple[bool, ...] = (True, True, True, False)) -> tuple[int, int]:
    scaling = sum(bool(s) for s in vae.get("spatio_temporal_scaling") or default_scaling)
    spatial = vae.get("spatial_compression_ratio") or (vae.get("patch_size") or 4) * 2 ** scaling
    temporal = vae.get("temporal_compression_ratio") or (vae.get("patch_size_t") or 1) * 2 ** scaling
    return int(spatial), int(temporal)


class LTXAdapter(FamilyAdapter):
    name = "ltx"
    title = "LTX-Video"
    pipelines = {"t2v": "LTXPipeline", "i2v": "LTXImageToVideoPipeline", "kf": "LTXConditionPipeline"}
    detect_names = ("LTXPipeline", "LTXImageToVideoPipeline", "LTXConditionPipeline")
    native_fps = 25.0
    max_sequence_length = 128
    default_size = (704, 480, 121)
    schedulers = {"default": ("", {}), "euler": ("FlowMatchEulerDiscreteScheduler", {}),
                  "lcm": ("FlowMatchLCMScheduler", {})}
    flow_matching = True
    accelerations = ("none", "first_block_cache", "taylorseer_cache", "mag_cache")
    example_ids = {"t2v": "Lightricks/LTX-Video", "i2v": "Lightricks/LTX-Video", "kf": "Lightricks/LTX-Video-0.9.7-dev"}
    takes_latent = True
    refine_mode = "kf"  # refined through LTXConditionPipeline (denoise_strength)

    default_vae_scaling = (True, True, True, False)  # a VAE config without spatio_temporal_scaling

    def size_rules(self, configs: dict[str, dict]) -> SizeRules:
        spatial, temporal = _ratios(configs.get("vae", {}), self.default_vae_scaling)
        patch = configs.get("transformer", {}).get("patch_size") or 1
        return SizeRules(multiple=spatial * patch, frame_step=temporal, frame_offset=1)

    def frames_for_latent(self, latent_frames: int, configs: dict[str, dict]) -> int:
        _, temporal = _ratios(configs.get("vae", {}), self.default_vae_scaling)
        return (latent_frames - 1) * temporal + 1

    def encode(self, pipe, prompt: str, negative: str, device) -> dict[str, Any]:
        pe, pm, ne, nm = pipe.encode_prompt(prompt, negative_prompt=negative, do_classifier_free_guidance=True,
                                            max_sequence_length=self.max_sequence_length, device=device)
        return {"prompt_embeds": pe, "prompt_attention_mask": pm, "negative_prompt_embeds": ne,
                "negative_prompt_attention_mask": nm}

    def call_kwargs(self, pipe, mode, **request) -> dict[str, Any]:
        return dict(super().call_kwargs(pipe, mode, **request), frame_rate=int(self.native_fps))

    def prepare(self, pipe, mode, kwargs, info: SampleInfo) -> dict[str, Any]:
        spatial, temporal = pipe.vae_spatial_compression_ratio, pipe.vae_temporal_compression_ratio
        info.extra.update(latent_frames=(info.frames - 1) // temporal + 1, latent_height=info.height // spatial,
                          latent_width=info.width // spatial)
        return {}

    def latents_from_output(self, pipe, latents, info: SampleInfo):
        if latents.ndim == 5:  # LTXConditionPipeline unpacks its own
            return latents
        e = info.extra
        base = e["latent_frames"] * e["latent_height"] * e["latent_width"]  # keyframe tokens come before these
        return pipe._unpack_latents(latents[:, -base:], e["latent_frames"], e["latent_height"], e["latent_width"],
                                    pipe.transformer_spatial_patch_size, pipe.transformer_temporal_patch_size)

    def condition_kwargs(self, pipe, mode: str, *, keyframes, latent, strength: float, steps: int,
                         sigmas: list[float] | None) -> dict[str, Any]:
        from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

        kwargs: dict[str, Any] = {}
        if keyframes is not None:
            kwargs["conditions"] = [
                LTXVideoCondition(frame_index=k.index, strength=k.strength,
                                  **({"image": k.pil_frames()} if k.length == 1 else {"video": k.pil_frames()}))
                for k in keyframes]
        if latent is not None:
            kwargs.update(latents=latent.tensor, denoise_strength=strength)
        return kwargs

    def decode(self, pipe, latents, info: dict[str, Any]):
        import torch
        from diffusers import LTXPipeline

        vae = pipe.vae
        latents = vae_input(pipe, latents)
        latents = LTXPipeline._denormalize_latents(latents, vae.latents_mean, vae.latents_std,
                                                   vae.config.scaling_factor)
        timestep = None
        if vae.config.timestep_conditioning:  # decode_timestep 0, as the pipeline's default
            timestep = torch.tensor([0.0] * latents.shape[0], device=latents.device, dtype=latents.dtype)
        return vae.decode(latents, timestep, return_dict=False)[0]

    def encode_pixels(self, pipe, pixels):
        from diffusers import LTXPipeline

        vae = pipe.vae
        z = vae.encode(vae_input(pipe, pixels)).latent_dist.mode()
        return LTXPipeline._normalize_latents(z, vae.latents_mean, vae.latents_std, vae.config.scaling_factor)


ADAPTER = LTXAdapter()
