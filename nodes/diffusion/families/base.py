"""The family adapter contract: everything that differs between model families lives behind it.

Nodes stay generic: they ask the adapter which pipeline class serves a mode, how to encode a prompt,
how to pack, normalise and decode latents, which sizes the family takes and its native frame rate.
torch and diffusers are imported inside methods only.
"""

from __future__ import annotations

import inspect
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .images import to_pil, to_pil_list

MODES = ("t2v", "i2v", "v2v")
MODE_NAMES = {"t2v": "text-to-video", "i2v": "image-to-video", "v2v": "video-to-video"}
# Keyframes (images or short clips at chosen frames, diffusion.sample's `keyframes` input): LTX-2, LTX-Video.
MODES += ("kf",)
MODE_NAMES["kf"] = "keyframes-to-video"

# Scheduler choices offered by diffusion.sample, named as ComfyUI and A1111 users know them; each family maps the
# ones it supports to diffusers schedulers.
SCHEDULER_CHOICES = ("default", "euler", "euler_a", "heun", "unipc", "dpm++ 2m", "dpm++ 2m sde", "ddim", "lcm")
RENAMED_SCHEDULERS = {"dpm++": "dpm++ 2m"}  # diffusion.sample version 1 names
# diffusers' caching hooks. MagCache needs magnitude ratios measured for each checkpoint (diffusers ships them
# only for Flux): magcache.py measures them once per model and settings.
ACCELERATION_CHOICES = ("none", "first_block_cache", "taylorseer_cache", "pyramid_attention_broadcast", "mag_cache")


@dataclass(frozen=True)
class SizeRules:
    """Sizes and frame counts a family can take."""

    multiple: int  # width and height must be multiples of this
    frame_step: int  # frames = frame_step * k + frame_offset
    frame_offset: int = 1
    min_frames: int = 1
    max_frames: int | None = None

    def frames_ok(self, frames: int) -> bool:
        if frames < self.min_frames or (self.max_frames is not None and frames > self.max_frames):
            return False
        return (frames - self.frame_offset) % self.frame_step == 0

    def frame_examples(self, near: int) -> list[int]:
        start = max(self.min_frames, near - 2 * self.frame_step)
        found = [f for f in range(start, near + 3 * self.frame_step) if self.frames_ok(f)]
        return found[:4]

    def problems(self, family: str, width: int | None, height: int | None, frames: int | None) -> list[str]:
        out = []
        for name, value in (("width", width), ("height", height)):
            if value is not None and value % self.multiple:
                lo = value // self.multiple * self.multiple
                options = [v for v in (lo, lo + self.multiple) if v > 0]
                out.append(f"{name} {value} does not suit {family}: it takes multiples of {self.multiple} "
                           f"(for example {' or '.join(map(str, options))})")
        if frames is not None and not self.frames_ok(frames):
            if self.frame_step > 1:
                rule = f"{self.frame_step}k+{self.frame_offset} frames"
            else:
                rule = "any frame count"
            if self.max_frames is not None:
                rule += f" from {self.min_frames} to {self.max_frames}"
            out.append(f"frames {frames} does not suit {family}: it takes {rule} "
                       f"(for example {', '.join(map(str, self.frame_examples(frames)))})")
        return out


@dataclass
class SampleInfo:
    """What one sampling call knew, kept with the latent for unpacking and decoding."""

    mode: str
    width: int
    height: int
    frames: int
    extra: dict[str, Any]


class FamilyAdapter:
    """Base class of the per-family adapters."""

    name = ""
    title = ""
    pipelines: dict[str, str] = {}  # mode -> diffusers pipeline class name
    detect_names: tuple[str, ...] = ()  # model_index.json `_class_name` values of this family
    denoiser = "transformer"
    native_fps = 16.0
    uses_text = True
    supports_last_image = False
    max_sequence_length: int | None = 512  # None: the pipeline call takes no max_sequence_length
    default_size = (832, 480, 81)
    schedulers: dict[str, tuple[str, dict]] = {"default": ("", {})}
    accelerations: tuple[str, ...] = ("none",)
    lora_loader = True  # diffusers can load LoRAs into this family's pipelines (model.lora)
    # Its LoRAs may come in the original release's names without a prefix ("blocks.0.self_attn.q.lora_down"), which
    # diffusers' converter reads under "diffusion_model." (Wan and the models built on it, as VACE is)
    original_lora_names = False
    # Its models may have two experts (Wan 2.2 A14B and its VACE): low_noise_from_step picks where the second starts
    two_experts = False
    flow_matching = False  # sampled along a flow-matching schedule, so a shift applies
    default_takes_sigmas = False  # the family's own scheduler takes custom sigmas (when no listed choice does)
    example_ids: dict[str, str] = {}
    # True when frames decode independently, so decoding can stream in exact chunks.
    framewise_decode = False
    # -- pipelines without step callbacks (HunyuanVideo 1.5) --
    steps_through_callback = True  # the pipeline calls callback_on_step_end; else the scheduler's step is watched

    # -- static knowledge (no weights needed) ------------------------------------------------

    def size_rules(self, configs: dict[str, dict]) -> SizeRules:
        raise NotImplementedError

    def model_modes(self, model_index: dict, configs: dict[str, dict]) -> tuple[str, ...]:
        """Modes a model with these configs can run."""
        return tuple(m for m in MODES if m in self.pipelines)

    def frames_for_latent(self, latent_frames: int, configs: dict[str, dict]) -> int:
        return latent_frames

    # -- what diffusion.sample may ask (no weights needed) -------------------------------------

    def mode_for(self, connected: set[str]) -> str:
        """The pipeline mode that serves diffusion.sample with the inputs `connected` (names): a video makes it
        video-to-video, an image image-to-video, else text-to-video; keyframes take over text- or image-to-video,
        and refining a latent goes through `refine_mode`'s pipeline where the family names one."""
        mode = "v2v" if "video" in connected else "i2v" if "image" in connected else "t2v"
        if "keyframes" in connected and mode in ("t2v", "i2v"):
            return "kf"
        if "latent" in connected and mode == "t2v" and self.refine_mode:
            return self.refine_mode
        return mode

    def input_problems(self, mode: str, *, has_image: bool, controls: tuple[str, ...]) -> list[str]:
        """Problems with the inputs connected together: an image beside a video-to-video clip, and control inputs
        (`controls`, the names connected of control, mask, reference and reference_2), which only Wan VACE takes."""
        problems = []
        if mode == "v2v" and has_image:
            problems.append("both image and video are connected; connect image for image-to-video or video for "
                            "video-to-video, not both")
        if controls:
            from ..control import VACE_EXAMPLE

            names = " and ".join(controls)
            problems.append(f"{self.title} takes no {names}; load a Wan VACE model (for example {VACE_EXAMPLE}) or "
                            f"disconnect {names}")
        return problems

    def strength_applies(self, mode: str) -> bool:
        """`strength` says how much of a source video changes (the last steps x strength of the schedule run)."""
        return mode == "v2v"

    def clips_set_frames(self, mode: str, controls: tuple[str, ...]) -> bool:
        """True when the connected clips, not the `frames` setting, set the frame count."""
        return mode == "v2v"

    def frames_for(self, configs: dict[str, dict], mode: str, frames: int, inputs: dict[str, Any], *, width: int,
                   height: int, request_ok: bool) -> tuple[int, list[str]]:
        """(the frame count to sample, problems with it) from the inputs' values (`inputs`, None where nothing is
        connected): a video-to-video clip sets the count. `request_ok`: check_request found no problem."""
        if mode != "v2v":
            return frames, []
        count = inputs["video"].frame_count
        return count, [p.replace("frames", "the input video's frame count", 1) for p in
                       self.size_rules(configs).problems(self.title, None, None, count)]

    # -- loaded pipeline ---------------------------------------------------------------------

    @staticmethod
    def configs_of(pipe) -> dict[str, dict]:
        out = {}
        for name, component in pipe.components.items():
            config = getattr(component, "config", None)
            if config is not None and hasattr(config, "items"):
                out[name] = dict(config)
        return out

    def pipeline_for(self, pipe, mode: str, scheduler: str, shift: float = 0.0):
        """An instance of the mode's pipeline class over the loaded components (no weights copied)."""
        import diffusers

        cls = getattr(diffusers, self.pipelines[mode])
        components = dict(pipe.components)
        components["scheduler"] = self.make_scheduler(pipe.scheduler, scheduler, shift)
        accepted = inspect.signature(cls.__init__).parameters
        kwargs = {k: v for k, v in components.items() if k in accepted}
        for name, param in accepted.items():
            if name not in kwargs and name in pipe.config and param.default is inspect.Parameter.empty:
                kwargs[name] = None
        for name in ("boundary_ratio", "expand_timesteps", "requires_safety_checker"):
            if name in accepted and name in pipe.config:
                kwargs[name] = pipe.config[name]
        out = cls(**kwargs)
        out.set_progress_bar_config(disable=True)
        return out

    def make_scheduler(self, current, choice: str, shift: float = 0.0):
        """A new scheduler for `choice` built from the loaded one's config (each call sets its timesteps); a
        `shift` above 0 replaces the flow shift, as constructing the scheduler with it would."""
        import diffusers

        if choice not in self.schedulers:
            raise ValueError(choice)
        class_name, overrides = self.schedulers[choice]
        config = dict(current.config)
        cls = getattr(diffusers, class_name) if class_name else type(current)
        extra = {}
        if class_name:
            extra = overrides(config) if callable(overrides) else dict(overrides)
        if shift:
            accepted = inspect.signature(cls.__init__).parameters
            extra.update({name: float(shift) for name in ("shift", "flow_shift") if name in accepted})
            if "use_dynamic_shifting" in accepted:  # a fixed shift replaces the resolution-dependent one
                extra["use_dynamic_shifting"] = False
        return cls.from_config(config, **extra)

    def encode(self, pipe, prompt: str, negative: str, device) -> dict[str, Any]:
        """Prompt embeddings as keyword arguments the pipeline call accepts."""
        raise NotImplementedError

    def sequence_length(self, pipe) -> int | None:
        """The prompt's token length the pipeline's encoder and call take (`max_sequence_length`); None when the
        call takes none."""
        return self.max_sequence_length

    def call_kwargs(self, pipe, mode: str, *, width: int, height: int, frames: int, steps: int, guidance: float,
                    strength: float, image, last_image, video) -> dict[str, Any]:
        """Keyword arguments for the mode's pipeline call (beyond prompt embeddings and callbacks): the size, steps
        and guidance; a video-to-video call takes the clip and `strength` (the clip sets the frame count), an
        image-to-video one the first (and last) frame."""
        kwargs: dict[str, Any] = dict(width=width, height=height, num_inference_steps=steps, guidance_scale=guidance)
        length = self.sequence_length(pipe)
        if length is not None:
            kwargs["max_sequence_length"] = length
        if mode == "v2v":
            kwargs.update(video=to_pil_list(video), strength=strength)
        else:
            kwargs["num_frames"] = frames
        if mode == "i2v":
            kwargs["image"] = to_pil(image)
            if last_image is not None:
                kwargs["last_image"] = to_pil(last_image)
        return kwargs

    def input_kwargs(self, pipe, info: SampleInfo, inputs: dict[str, Any], *, strength: float, steps: int,
                     sigmas: list[float] | None, conditioning_scale: float) -> dict[str, Any]:
        """Keyword arguments for diffusion.sample's inputs beyond `call_kwargs`' (`inputs`: each input's value, None
        where nothing is connected): keyframes and a latent to refine (`condition_kwargs`)."""
        if inputs.get("keyframes") is None and inputs.get("latent") is None:
            return {}
        return self.condition_kwargs(pipe, info.mode, keyframes=inputs.get("keyframes"), latent=inputs.get("latent"),
                                     strength=strength, steps=steps, sigmas=sigmas)

    @contextmanager
    def steps_watched(self, pipe, callback):
        """Within: the keyword arguments that have the pipeline call `callback(pipe, index, timestep, {"latents":
        ...})` after each step. A pipeline without `callback_on_step_end` has its scheduler's step watched."""
        if self.steps_through_callback:
            yield {"callback_on_step_end": callback, "callback_on_step_end_tensor_inputs": ["latents"]}
            return
        scheduler = pipe.scheduler
        own_step = type(scheduler).step
        done = [0]

        def step(model_output, timestep, sample, *args, **kwargs):
            out = own_step(scheduler, model_output, timestep, sample, *args, **kwargs)
            latents = out[0] if isinstance(out, tuple) else out.prev_sample
            callback(pipe, done[0], timestep, {"latents": latents})
            done[0] += 1
            return out

        scheduler.step = step  # this pipeline's own scheduler (pipeline_for made it), for this call only
        try:
            yield {}
        finally:
            del scheduler.step

    def prepare(self, pipe, mode: str, kwargs: dict[str, Any], info: SampleInfo) -> dict[str, Any]:
        """Last changes to the call's keyword arguments; may note unpacking details in `info.extra`."""
        return {}

    def latents_from_output(self, pipe, latents, info: SampleInfo):
        """The pipeline's `output_type="latent"` result as a (B, C, T, H, W) tensor in sampling space."""
        return latents

    def latents_from_step(self, pipe, latents, info: SampleInfo):
        """The latents handed to a step callback as (B, C, T, H, W), for previews."""
        return self.latents_from_output(pipe, latents, info)

    def decode(self, pipe, latents, info: dict[str, Any]):
        """(B, C, T, H, W) sampling-space latents to a float video tensor (B, 3, F, H, W) in [-1, 1]."""
        raise NotImplementedError

    def decode_stream(self, pipe, latents, info: dict[str, Any]):
        """`decode`, as an iterator of consecutive pieces (B, 3, f, H, W) made one after another, so the first
        frames are out before the last are decoded and no whole-clip tensor is built; None when this family's
        VAE cannot (the caller then decodes the clip at once). State between pieces stays in the iterator,
        never in the VAE, so two clips can stream from one model interleaved."""
        return None

    def encode_pixels(self, pipe, pixels):
        """Pixels (1, 3, 1, H, W) in [-1, 1] to sampling-space latents (1, C, 1, h, w); for preview calibration."""
        raise NotImplementedError

    def preview_frame_repeats(self, latent_frames: int, configs: dict[str, dict]) -> list[int]:
        """How many video frames each latent frame stands for."""
        total = self.frames_for_latent(latent_frames, configs)
        if latent_frames <= 1:
            return [total]
        rest = (total - 1) // (latent_frames - 1) if total > latent_frames else 1
        reps = [1 + (total - 1 - rest * (latent_frames - 1))] + [rest] * (latent_frames - 1)
        return reps if total > latent_frames else [1] * latent_frames

    # -- sound, keyframes and refining a latent (LTX-2, LTX-Video) ----------------------------

    sound = False  # the family makes sound with the picture (latent.decode's `audio` output)
    takes_latent = False  # diffusion.sample can start from this family's latent (`latent` input + strength)
    refine_mode = ""  # the mode whose pipeline refines a latent, when not the text-to-video one (LTX-Video: "kf")

    def condition_kwargs(self, pipe, mode: str, *, keyframes, latent, strength: float, steps: int,
                         sigmas: list[float] | None) -> dict[str, Any]:
        """Keyword arguments for keyframes (a Keyframes value, or None) and for refining `latent` (a Latent of this
        family, or None) at `strength`; `sigmas` are the custom noise levels, if any."""
        return {}

    def audio_from_output(self, pipe, output, info: SampleInfo):
        """The sound's latents in the pipeline's `output_type="latent"` result, or None for a silent family."""
        return None

    def decode_audio(self, pipe, audio_latents):
        """The sound's latents to (float32 samples (n, channels), sample rate)."""
        raise NotImplementedError

    def vae_tiling(self, pipe, on: bool) -> None:
        vae = getattr(pipe, "vae", None)
        if vae is None:
            return
        method = getattr(vae, "enable_tiling" if on else "disable_tiling", None)
        if callable(method):
            method()


def flow_unipc(config: dict) -> dict:
    shift = config.get("flow_shift") or config.get("shift") or 1.0
    return {"prediction_type": "flow_prediction", "use_flow_sigmas": True, "flow_shift": shift}


def flow_euler(config: dict) -> dict:
    shift = config.get("shift") or config.get("flow_shift") or 1.0
    return {"shift": shift}


def flow_dpm(algorithm: str):
    """DPM-Solver++ 2M on flow sigmas (algorithm "dpmsolver++", or "sde-dpmsolver++" for the SDE variant)."""
    def overrides(config: dict) -> dict:
        return dict(flow_unipc(config), algorithm_type=algorithm, solver_order=2)

    return overrides


def vae_normalise(vae_config: dict, device, dtype):
    """Per-channel (mean, 1/std) tensors shaped (1, C, 1, 1, 1) from a VAE config."""
    import torch

    channels = vae_config.get("z_dim") or vae_config.get("latent_channels")
    mean = torch.tensor(vae_config["latents_mean"]).view(1, channels, 1, 1, 1).to(device, dtype)
    std = torch.tensor(vae_config["latents_std"]).view(1, channels, 1, 1, 1).to(device, dtype)
    return mean, std


def before_vae_call(vae) -> None:
    """What diffusers' decorator on `vae.decode` does first: with model offload, move the VAE to the GPU. A
    streamed decode calls the VAE's parts directly, past that decorator."""
    hook = getattr(vae, "_hf_hook", None)
    if hook is not None and hasattr(hook, "pre_forward"):
        hook.pre_forward(vae)


def vae_input(pipe, tensor):
    """`tensor` on the device where the pipeline's VAE will run, in the VAE's dtype.

    With model or sequential offload the VAE sits on the CPU (or the meta device) until its forward hook moves
    it, so `vae.device` is the wrong answer: the pipeline's execution device is where the work happens.
    """
    vae = pipe.vae
    # model.load records both once it has placed the pipeline: asking diffusers walks every module each time
    device = getattr(vae, "kinograph_execution_device", None)
    if device is None:
        device = getattr(pipe, "_execution_device", None) or vae.device
    return tensor.to(device, getattr(vae, "kinograph_dtype", None) or vae.dtype)


def encode_pixels_2d(pipe, pixels):
    """Image-VAE encoding of (1, 3, 1, H, W) pixels to scaled latents (1, C, 1, h, w)."""
    vae = pipe.vae
    z = vae.encode(vae_input(pipe, pixels[:, :, 0])).latent_dist.mode()
    return (z * vae.config.scaling_factor)[:, :, None]


def vae_spatial_2d(vae_config: dict) -> int:
    return 2 ** (len(vae_config.get("block_out_channels") or (1, 1, 1, 1)) - 1)
