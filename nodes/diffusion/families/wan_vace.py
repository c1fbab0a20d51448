"""Wan VACE: one model for text-to-video, first/last frame, control videos (depth, pose, edges, grey), reference
images, and inpainting or outpainting under a mask, all through diffusers' WanVACEPipeline.

VACE conditions on one clip and one mask: where the mask is black the clip's frames are kept, where it is white
they are made anew, steered by what the clip shows there. diffusion.sample's inputs are composed into that pair:
the control video fills the clip, the source video fills it where the mask keeps it, and a first or last image
replaces the first or last frame (kept).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import MODES, SampleInfo
from .images import to_pil
from .wan import WanAdapter

# The grey a frame to be made from nothing holds, as diffusers' VACE example writes it (PIL, 8-bit).
GREY = 128
KEEP, MAKE = 0, 255


class WanVACEAdapter(WanAdapter):
    name = "wan_vace"
    title = "Wan VACE"
    pipelines = {mode: "WanVACEPipeline" for mode in MODES}
    detect_names = ("WanVACEPipeline",)
    takes_control = True
    accelerations = ("none", "first_block_cache", "taylorseer_cache")
    example_ids = {mode: "Wan-AI/Wan2.1-VACE-1.3B-diffusers" for mode in MODES}

    def model_modes(self, model_index: dict, configs: dict[str, dict]) -> tuple[str, ...]:
        return MODES

    def call_kwargs(self, pipe, mode, *, width, height, frames, steps, guidance, strength, image, last_image,
                    video) -> dict[str, Any]:
        return dict(width=width, height=height, num_frames=frames, num_inference_steps=steps,
                    guidance_scale=guidance, max_sequence_length=self.sequence_length(pipe))

    def control_kwargs(self, pipe, *, width, height, frames, image, last_image, video, control, mask, references,
                       conditioning_scale, info: SampleInfo) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"conditioning_scale": float(conditioning_scale)}
        if references:
            kwargs["reference_images"] = [to_pil(r) for r in references]
        info.extra["references"] = len(references)
        composed = compose(frames, width, height, image=image, last_image=last_image, video=video, control=control,
                           mask=mask)
        if composed is not None:
            from PIL import Image as PILImage

            clip, marks = composed
            kwargs["video"] = [PILImage.fromarray(frame) for frame in clip]
            if marks is not None:
                kwargs["mask"] = [PILImage.fromarray(m, mode="L") for m in marks]
        return kwargs

    def latents_from_output(self, pipe, latents, info: SampleInfo):
        return latents[:, :, info.extra.get("references", 0):]  # the reference images' latent frames lead


def compose(frames: int, width: int, height: int, *, image=None, last_image=None, video=None, control=None,
            mask=None) -> tuple[np.ndarray, np.ndarray | None] | None:
    """The clip (F, H, W, 3) and mask (F, H, W) VACE conditions on, or None when nothing conditions it (text to
    video). The mask is None when every frame is made anew from the clip (a control video alone)."""
    if all(v is None for v in (image, last_image, video, control, mask)):
        return None
    clip = control.to_array() if control is not None else np.full((frames, height, width, 3), GREY, np.uint8)
    marks = None
    if mask is not None:
        marks = mask.repeated(frames).to_array()  # soft edges stay soft: diffusers takes them as they are
        if video is not None:
            kept = marks < 128  # where diffusers' VACE keeps the clip (the mask below one half)
            clip[kept] = video.to_array()[kept]
    for index, still in ((0, image), (frames - 1, last_image)):
        if still is None:
            continue
        if marks is None:
            marks = np.full((frames, height, width), MAKE, np.uint8)
        clip[index] = getattr(still, "array", still)
        marks[index] = KEEP
    return clip, marks


ADAPTER = WanVACEAdapter()
