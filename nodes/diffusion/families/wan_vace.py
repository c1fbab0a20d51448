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

from ..control import clip_problems
from .base import MODES, SampleInfo
from .images import to_pil
from .wan import WanAdapter

# The grey a frame to be made from nothing holds, as diffusers' VACE example writes it (PIL, 8-bit).
GREY = 128
KEEP, MAKE = 0, 255
# What VACE makes: from text, a first/last frame, or a clip under a mask (no keyframes: WanVACEPipeline takes none)
VACE_MODES = tuple(mode for mode in MODES if mode != "kf")


class WanVACEAdapter(WanAdapter):
    name = "wan_vace"
    title = "Wan VACE"
    pipelines = {mode: "WanVACEPipeline" for mode in VACE_MODES}
    detect_names = ("WanVACEPipeline",)
    accelerations = ("none", "first_block_cache", "taylorseer_cache")
    example_ids = {mode: "Wan-AI/Wan2.1-VACE-1.3B-diffusers" for mode in VACE_MODES}

    def model_modes(self, model_index: dict, configs: dict[str, dict]) -> tuple[str, ...]:
        return VACE_MODES

    def call_kwargs(self, pipe, mode, *, width, height, frames, steps, guidance, strength, image, last_image,
                    video) -> dict[str, Any]:
        return dict(width=width, height=height, num_frames=frames, num_inference_steps=steps,
                    guidance_scale=guidance, max_sequence_length=self.sequence_length(pipe))

    def input_problems(self, mode: str, *, has_image: bool, controls: tuple[str, ...]) -> list[str]:
        """A video is kept under a mask (an image beside it is its first frame); a mask keeps a video or is
        steered by a control video."""
        problems = []
        if mode == "v2v" and "mask" not in controls:
            problems.append(f"{self.title} keeps a video only outside a mask: connect a mask (white where the video "
                            "is made anew, black where it is kept: mask.box, video.pad's mask), or connect the clip "
                            "to control to steer the whole video by it")
        if "mask" in controls and mode != "v2v" and "control" not in controls:
            problems.append("mask needs video (the clip kept where the mask is black) or control (what steers the "
                            "white part); connect one, or disconnect mask")
        return problems

    def strength_applies(self, mode: str) -> bool:
        return False  # a video is kept under a mask, not partly noised

    def clips_set_frames(self, mode: str, controls: tuple[str, ...]) -> bool:
        return mode == "v2v" or bool({"control", "mask"} & set(controls))

    def frames_for(self, configs, mode, frames, inputs, *, width, height, request_ok) -> tuple[int, list[str]]:
        """The clips (video, control, a mask of more than one frame) set the frame count; they and the images must
        be the size of the video made. Measured once the request itself is sound."""
        if not request_ok:
            return super().frames_for(configs, mode, frames, inputs, width=width, height=height,
                                      request_ok=request_ok)
        video, control, mask = inputs["video"], inputs["control"], inputs["mask"]
        count, problems = clip_problems(width, height, frames, image=inputs["image"],
                                        last_image=inputs["last_image"], video=video, control=control, mask=mask)
        from_clips = video is not None or control is not None or (mask is not None and mask.frame_count > 1)
        problems += [p.replace("frames", "the clips' frame count", 1) if from_clips else p for p in
                     self.size_rules(configs).problems(self.title, None, None, count)]
        return count, problems

    def input_kwargs(self, pipe, info: SampleInfo, inputs: dict[str, Any], *, strength, steps, sigmas,
                     conditioning_scale) -> dict[str, Any]:
        references = [r for r in (inputs["reference"], inputs["reference_2"]) if r is not None]
        kwargs = self.control_kwargs(pipe, width=info.width, height=info.height, frames=info.frames,
                                     image=inputs["image"], last_image=inputs["last_image"], video=inputs["video"],
                                     control=inputs["control"], mask=inputs["mask"], references=references,
                                     conditioning_scale=conditioning_scale, info=info)
        kwargs.update(super().input_kwargs(pipe, info, inputs, strength=strength, steps=steps, sigmas=sigmas,
                                           conditioning_scale=conditioning_scale))
        return kwargs

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
