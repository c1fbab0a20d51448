"""LTX-2: picture and sound from one model (text, image or keyframes to video), and its two-stage refine.

Latents travel in sampling space (normalised, unpacked (B, C, T, H, W)) like LTX-Video's; the sound's latents
(B, C, L, mel) ride along on the Latent as the pipeline hands them back (not normalised).
"""

from __future__ import annotations

from typing import Any

from .base import SampleInfo, vae_input
from .ltx import LTXAdapter


def refine_sigmas(strength: float, steps: int) -> list[float]:
    """The noise levels a refine pass at `strength` walks: the full schedule's even steps, scaled to start at it."""
    return [strength * (steps - i) / steps for i in range(steps)]


class LTX2Adapter(LTXAdapter):
    """LTX-Video's prompt, size and call handling; its own latents, sound, keyframes and refining."""

    name = "ltx2"
    title = "LTX-2"
    pipelines = {"t2v": "LTX2Pipeline", "i2v": "LTX2ImageToVideoPipeline", "kf": "LTX2ConditionPipeline"}
    detect_names = ("LTX2Pipeline", "LTX2ImageToVideoPipeline", "LTX2ConditionPipeline")
    native_fps = 24.0
    max_sequence_length = 1024
    default_size = (768, 512, 121)
    schedulers = {"default": ("", {}), "euler": ("FlowMatchEulerDiscreteScheduler", {})}
    accelerations = ("none",)
    default_vae_scaling = (True, True, True, True)
    sound = True
    takes_latent = True
    refine_mode = ""
    example_ids = {"t2v": "Lightricks/LTX-2", "i2v": "Lightricks/LTX-2", "kf": "Lightricks/LTX-2"}

    def condition_kwargs(self, pipe, mode: str, *, keyframes, latent, strength: float, steps: int,
                         sigmas: list[float] | None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if keyframes is not None:
            from diffusers.pipelines.ltx2.pipeline_ltx2_condition import LTX2VideoCondition

            kwargs["conditions"] = [LTX2VideoCondition(frames=k.pil_frames(), index=k.index, strength=k.strength)
                                    for k in keyframes]
        if latent is not None:
            levels = sigmas or refine_sigmas(strength, steps)
            kwargs.update(latents=self.raw_latents(pipe, latent.tensor), noise_scale=float(levels[0]))
            if sigmas is None:
                kwargs["sigmas"] = levels
            if latent.audio is not None:
                kwargs["audio_latents"] = latent.audio
        return kwargs

    def raw_latents(self, pipe, latents):
        """Sampling-space latents as the VAE takes them (what the pipelines take as `latents`)."""
        vae = pipe.vae
        latents = vae_input(pipe, latents)
        mean = vae.latents_mean.view(1, -1, 1, 1, 1).to(latents.device, latents.dtype)
        std = vae.latents_std.view(1, -1, 1, 1, 1).to(latents.device, latents.dtype)
        return latents * std / vae.config.scaling_factor + mean

    def normalised(self, pipe, latents):
        vae = pipe.vae
        mean = vae.latents_mean.view(1, -1, 1, 1, 1).to(latents.device, latents.dtype)
        std = vae.latents_std.view(1, -1, 1, 1, 1).to(latents.device, latents.dtype)
        return (latents - mean) * vae.config.scaling_factor / std

    def latents_from_output(self, pipe, latents, info: SampleInfo):
        return self.normalised(pipe, latents)

    def audio_from_output(self, pipe, output, info: SampleInfo):
        return output[1] if isinstance(output, (tuple, list)) and len(output) > 1 else None

    def latents_from_step(self, pipe, latents, info: SampleInfo):
        e = info.extra
        base = e["latent_frames"] * e["latent_height"] * e["latent_width"]  # keyframe tokens come after these
        return pipe._unpack_latents(latents[:, :base], e["latent_frames"], e["latent_height"], e["latent_width"],
                                    pipe.transformer_spatial_patch_size, pipe.transformer_temporal_patch_size)

    def decode(self, pipe, latents, info: dict[str, Any]):
        import torch

        vae = pipe.vae
        latents = self.raw_latents(pipe, latents)
        timestep = None
        if vae.config.timestep_conditioning:  # decode_timestep 0, as the pipeline's default
            timestep = torch.tensor([0.0] * latents.shape[0], device=latents.device, dtype=latents.dtype)
        return vae.decode(latents, timestep, return_dict=False)[0]

    def decode_audio(self, pipe, audio_latents):
        """The sound's latents to (samples (n, channels) float32, sample rate), as the pipeline decodes them."""
        audio_vae, vocoder = pipe.audio_vae, pipe.vocoder
        device = getattr(pipe.vae, "kinograph_execution_device", None) or pipe._execution_device
        mel = audio_vae.decode(audio_latents.to(device, audio_vae.dtype), return_dict=False)[0]
        waves = vocoder(mel.to(vocoder.dtype))
        samples = waves[0].float().transpose(0, 1).contiguous().cpu().numpy()
        return samples, int(vocoder.config.output_sampling_rate)

    def encode_pixels(self, pipe, pixels):
        vae = pipe.vae
        z = vae.encode(vae_input(pipe, pixels)).latent_dist.mode()
        return self.normalised(pipe, z)


ADAPTER = LTX2Adapter()
