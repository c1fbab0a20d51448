"""CogVideoX: text, image and video to video; latents come out frames-first (B, T, C, H, W)."""

from __future__ import annotations

from typing import Any

from .base import FamilyAdapter, SampleInfo, SizeRules, before_vae_call, vae_input


def _ratios(vae: dict) -> tuple[int, int]:
    spatial = 2 ** (len(vae.get("block_out_channels") or (1, 1, 1, 1)) - 1)
    return spatial, int(vae.get("temporal_compression_ratio") or 4)


class CogVideoXAdapter(FamilyAdapter):
    name = "cogvideox"
    title = "CogVideoX"
    pipelines = {"t2v": "CogVideoXPipeline", "i2v": "CogVideoXImageToVideoPipeline",
                 "v2v": "CogVideoXVideoToVideoPipeline"}
    detect_names = ("CogVideoXPipeline", "CogVideoXImageToVideoPipeline", "CogVideoXVideoToVideoPipeline")
    native_fps = 8.0
    default_size = (720, 480, 49)
    schedulers = {"default": ("", {}), "ddim": ("CogVideoXDDIMScheduler", {}),
                  "dpm++ 2m": ("CogVideoXDPMScheduler", {})}
    accelerations = ("none", "first_block_cache", "taylorseer_cache", "pyramid_attention_broadcast", "mag_cache")
    example_ids = {"t2v": "THUDM/CogVideoX-2b", "i2v": "THUDM/CogVideoX-5b-I2V", "v2v": "THUDM/CogVideoX-2b"}

    def size_rules(self, configs: dict[str, dict]) -> SizeRules:
        spatial, temporal = _ratios(configs.get("vae", {}))
        patch = configs.get("transformer", {}).get("patch_size") or 2
        return SizeRules(multiple=spatial * patch, frame_step=temporal, frame_offset=1)

    def model_modes(self, model_index: dict, configs: dict[str, dict]) -> tuple[str, ...]:
        transformer = configs.get("transformer", {})
        if transformer.get("in_channels", 16) != transformer.get("out_channels", 16):
            return ("i2v",)
        return ("t2v", "v2v")

    def frames_for_latent(self, latent_frames: int, configs: dict[str, dict]) -> int:
        _, temporal = _ratios(configs.get("vae", {}))
        return (latent_frames - 1) * temporal + 1

    def sequence_length(self, pipe) -> int:
        return int(pipe.transformer.config.get("max_text_seq_length") or 226)

    def encode(self, pipe, prompt: str, negative: str, device) -> dict[str, Any]:
        pe, ne = pipe.encode_prompt(prompt, negative_prompt=negative, do_classifier_free_guidance=True,
                                    max_sequence_length=self.sequence_length(pipe), device=device)
        return {"prompt_embeds": pe, "negative_prompt_embeds": ne}

    def prepare(self, pipe, mode, kwargs, info: SampleInfo) -> dict[str, Any]:
        patch_t = pipe.transformer.config.patch_size_t
        latent_frames = (info.frames - 1) // pipe.vae_scale_factor_temporal + 1
        extra = 0
        if mode != "v2v" and patch_t is not None and latent_frames % patch_t:
            extra = patch_t - latent_frames % patch_t  # CogVideoX 1.5 pads; the pipeline drops them on decode
        info.extra["padding_frames"] = extra
        return {}

    def latents_from_output(self, pipe, latents, info: SampleInfo):
        return latents[:, info.extra.get("padding_frames", 0):].permute(0, 2, 1, 3, 4)

    def latents_from_step(self, pipe, latents, info: SampleInfo):
        return latents.permute(0, 2, 1, 3, 4)

    def decode(self, pipe, latents, info: dict[str, Any]):
        vae = pipe.vae
        latents = 1 / vae.config.scaling_factor * vae_input(pipe, latents)
        return vae.decode(latents).sample

    def decode_stream(self, pipe, latents, info: dict[str, Any]):
        vae = pipe.vae
        if getattr(vae, "use_tiling", False) or not hasattr(vae, "num_latent_frames_batch_size"):
            return None
        return _cogvideox_pieces(vae, 1 / vae.config.scaling_factor * vae_input(pipe, latents))

    def encode_pixels(self, pipe, pixels):
        vae = pipe.vae
        z = vae.encode(vae_input(pipe, pixels)).latent_dist.mode()
        return z * vae.config.scaling_factor


def _cogvideox_pieces(vae, z):
    """AutoencoderKLCogVideoX's decode, its batches of latent frames yielded instead of concatenated (the first
    batch takes the odd frames); the causal cache passes from batch to batch here, not in the VAE."""
    before_vae_call(vae)
    size = vae.num_latent_frames_batch_size
    frames = z.shape[2]
    extra = frames % size
    cache = None
    for i in range(max(frames // size, 1)):
        start = size * i + (extra if i else 0)
        part = z[:, :, start:size * (i + 1) + extra]
        if vae.post_quant_conv is not None:
            part = vae.post_quant_conv(part)
        part, cache = vae.decoder(part, conv_cache=cache)
        yield part


ADAPTER = CogVideoXAdapter()
