"""Wan 2.1 / 2.2: text, image (first and optionally last frame) and video to video."""

from __future__ import annotations

from typing import Any

from .base import (
    FamilyAdapter,
    SampleInfo,
    SizeRules,
    before_vae_call,
    flow_dpm,
    flow_euler,
    flow_unipc,
    vae_input,
    vae_normalise,
)


def _vae_factors(vae: dict) -> tuple[int, int]:
    down = vae.get("temperal_downsample") or [False, True, True]
    spatial = vae.get("scale_factor_spatial") or 2 ** len(down)
    temporal = vae.get("scale_factor_temporal") or 2 ** sum(bool(d) for d in down)
    return int(spatial), int(temporal)


class WanAdapter(FamilyAdapter):
    name = "wan"
    title = "Wan 2.1 / 2.2"
    pipelines = {"t2v": "WanPipeline", "i2v": "WanImageToVideoPipeline", "v2v": "WanVideoToVideoPipeline"}
    detect_names = ("WanPipeline", "WanImageToVideoPipeline", "WanVideoToVideoPipeline")
    native_fps = 16.0
    supports_last_image = True
    max_sequence_length = 512
    default_size = (832, 480, 81)
    schedulers = {
        "default": ("", {}),
        "euler": ("FlowMatchEulerDiscreteScheduler", flow_euler),
        "unipc": ("UniPCMultistepScheduler", flow_unipc),
        "dpm++ 2m": ("DPMSolverMultistepScheduler", flow_dpm("dpmsolver++")),
        "dpm++ 2m sde": ("DPMSolverMultistepScheduler", flow_dpm("sde-dpmsolver++")),
        "lcm": ("FlowMatchLCMScheduler", flow_euler),
    }
    flow_matching = True
    accelerations = ("none", "first_block_cache", "taylorseer_cache", "pyramid_attention_broadcast", "mag_cache")
    original_lora_names = True  # VACE's adapter inherits it: the same blocks, the same LoRA files
    two_experts = True  # Wan 2.2 A14B, and the VACE models built on it
    example_ids = {
        "t2v": "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
        "i2v": "Wan-AI/Wan2.1-I2V-14B-480P-Diffusers",
        "v2v": "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
    }

    def size_rules(self, configs: dict[str, dict]) -> SizeRules:
        spatial, temporal = _vae_factors(configs.get("vae", {}))
        patch = (configs.get("transformer", {}).get("patch_size") or [1, 2, 2])[1]
        return SizeRules(multiple=spatial * patch, frame_step=temporal, frame_offset=1)

    def model_modes(self, model_index: dict, configs: dict[str, dict]) -> tuple[str, ...]:
        transformer = configs.get("transformer", {})
        image_model = model_index.get("_class_name") == "WanImageToVideoPipeline" or (
            transformer.get("in_channels", 16) != transformer.get("out_channels", 16))
        if image_model:
            return ("i2v",)
        # Wan 2.2: TI2V-5B expands timesteps (it also animates images); A14B hands over to a second transformer.
        # diffusers' WanVideoToVideoPipeline takes neither, so these models do no video-to-video.
        two_stage = bool((model_index.get("transformer_2") or [None])[0]) or model_index.get("boundary_ratio")
        if model_index.get("expand_timesteps"):
            return ("t2v", "i2v")
        return ("t2v",) if two_stage else ("t2v", "v2v")

    def frames_for_latent(self, latent_frames: int, configs: dict[str, dict]) -> int:
        _, temporal = _vae_factors(configs.get("vae", {}))
        return (latent_frames - 1) * temporal + 1

    def encode(self, pipe, prompt: str, negative: str, device) -> dict[str, Any]:
        from diffusers import WanPipeline

        # WanPipeline's encoder (same text path for every Wan pipeline; the image-to-video copy needs ftfy).
        if type(pipe) is not WanPipeline:
            pipe = WanPipeline(tokenizer=pipe.tokenizer, text_encoder=pipe.text_encoder, vae=pipe.vae,
                               scheduler=pipe.scheduler)
        positive, negative_embeds = pipe.encode_prompt(
            prompt, negative_prompt=negative, do_classifier_free_guidance=True,
            max_sequence_length=self.max_sequence_length, device=device)
        return {"prompt_embeds": positive, "negative_prompt_embeds": negative_embeds}

    def _vae_latents(self, pipe, latents):
        latents = vae_input(pipe, latents)
        mean, std = vae_normalise(dict(pipe.vae.config), latents.device, latents.dtype)
        return latents / (1.0 / std) + mean

    def decode(self, pipe, latents, info: dict[str, Any]):
        return pipe.vae.decode(self._vae_latents(pipe, latents), return_dict=False)[0]

    def decode_stream(self, pipe, latents, info: dict[str, Any]):
        vae = pipe.vae
        counts = getattr(vae, "_cached_conv_counts", None)
        if getattr(vae, "use_tiling", False) or not counts or not hasattr(vae, "post_quant_conv"):
            return None
        return _wan_pieces(vae, self._vae_latents(pipe, latents), counts["decoder"])

    def encode_pixels(self, pipe, pixels):
        vae = pipe.vae
        z = vae.encode(vae_input(pipe, pixels)).latent_dist.mode()
        mean, std = vae_normalise(dict(vae.config), z.device, z.dtype)
        return (z - mean) * (1.0 / std)


def _wan_pieces(vae, z, convs: int):
    """AutoencoderKLWan's decode, one latent frame at a time (1 video frame, then 4 each), each piece yielded
    instead of concatenated. The causal convolutions' cache is this generator's own list."""
    from diffusers.models.autoencoders.autoencoder_kl_wan import unpatchify

    before_vae_call(vae)
    cache: list = [None] * convs
    x = vae.post_quant_conv(z)
    patch = vae.config.patch_size
    for i in range(x.shape[2]):
        out = vae.decoder(x[:, :, i:i + 1], feat_cache=cache, feat_idx=[0], first_chunk=i == 0)
        if patch is not None:
            out = unpatchify(out, patch_size=patch)
        yield out.clamp(-1.0, 1.0)


ADAPTER = WanAdapter()
__all__ = ["ADAPTER", "SampleInfo"]
