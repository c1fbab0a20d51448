"""HunyuanVideo 1.5: text to video, and image to video (a model of its own, sized by the image)."""

from __future__ import annotations

from typing import Any

from nodegraph.api import UsageError

from .base import FamilyAdapter, SampleInfo, SizeRules, flow_euler, vae_input
from .images import to_pil


def _ratios(vae: dict) -> tuple[int, int]:
    return int(vae.get("spatial_compression_ratio") or 16), int(vae.get("temporal_compression_ratio") or 4)


class HunyuanVideo15Adapter(FamilyAdapter):
    name = "hunyuan_video15"
    title = "HunyuanVideo 1.5"
    pipelines = {"t2v": "HunyuanVideo15Pipeline", "i2v": "HunyuanVideo15ImageToVideoPipeline"}
    detect_names = ("HunyuanVideo15Pipeline", "HunyuanVideo15ImageToVideoPipeline")
    native_fps = 24.0
    default_size = (848, 480, 121)
    schedulers = {"default": ("", {}), "euler": ("FlowMatchEulerDiscreteScheduler", flow_euler)}
    flow_matching = True
    lora_loader = False  # diffusers' HunyuanVideo 1.5 pipelines load no LoRAs
    steps_through_callback = False  # its pipelines take no step callback: the scheduler's steps are watched
    example_ids = {"t2v": "hunyuanvideo-community/HunyuanVideo-1.5-Diffusers-480p_t2v",
                   "i2v": "hunyuanvideo-community/HunyuanVideo-1.5-Diffusers-480p_i2v"}

    def size_rules(self, configs: dict[str, dict]) -> SizeRules:
        spatial, temporal = _ratios(configs.get("vae", {}))
        patch = configs.get("transformer", {}).get("patch_size") or 1
        return SizeRules(multiple=spatial * patch, frame_step=temporal, frame_offset=1)

    def model_modes(self, model_index: dict, configs: dict[str, dict]) -> tuple[str, ...]:
        # the image-to-video models are trained for it and carry the image encoder; the text-to-video ones do not
        return ("i2v",) if model_index.get("_class_name") == self.pipelines["i2v"] else ("t2v",)

    def frames_for_latent(self, latent_frames: int, configs: dict[str, dict]) -> int:
        _, temporal = _ratios(configs.get("vae", {}))
        return (latent_frames - 1) * temporal + 1

    def encode(self, pipe, prompt: str, negative: str, device) -> dict[str, Any]:
        names = ("prompt_embeds", "prompt_embeds_mask", "prompt_embeds_2", "prompt_embeds_mask_2")
        out = dict(zip(names, pipe.encode_prompt(prompt=prompt, device=device), strict=True))
        negatives = pipe.encode_prompt(prompt=negative, device=device)
        out.update({f"negative_{name}": value for name, value in zip(names, negatives, strict=True)})
        return out

    def call_kwargs(self, pipe, mode, *, width, height, frames, steps, guidance, strength, image, last_image,
                    video) -> dict[str, Any]:
        # guidance lives in the pipeline's guider, not in the call: this pipeline gets its own for this call
        if pipe.guider is not None:
            pipe.guider = pipe.guider.new(guidance_scale=guidance)
        else:
            from diffusers import ClassifierFreeGuidance

            pipe.guider = ClassifierFreeGuidance(guidance_scale=guidance)
        kwargs: dict[str, Any] = dict(num_frames=frames, num_inference_steps=steps)
        if mode == "i2v":
            still = to_pil(image)
            made = self.image_size(pipe, still.width, still.height)
            if made != (width, height):
                raise UsageError(f"{self.title} image-to-video makes {made[0]}x{made[1]} from a {still.width}x"
                                 f"{still.height} image (its size nearest the image's shape); set width {made[0]} "
                                 f"and height {made[1]}")
            kwargs["image"] = still
        else:
            kwargs.update(width=width, height=height)
        return kwargs

    @staticmethod
    def image_size(pipe, width: int, height: int) -> tuple[int, int]:
        """(width, height) of the video the image-to-video pipeline makes from a width x height image."""
        made_h, made_w = pipe.video_processor.calculate_default_height_width(height=height, width=width,
                                                                             target_size=pipe.target_size)
        return int(made_w), int(made_h)

    def prepare(self, pipe, mode, kwargs, info: SampleInfo) -> dict[str, Any]:
        return {}

    def decode(self, pipe, latents, info: dict[str, Any]):
        vae = pipe.vae
        return vae.decode(vae_input(pipe, latents) / vae.config.scaling_factor, return_dict=False)[0]

    def encode_pixels(self, pipe, pixels):
        vae = pipe.vae
        return vae.encode(vae_input(pipe, pixels)).latent_dist.mode() * vae.config.scaling_factor


ADAPTER = HunyuanVideo15Adapter()
