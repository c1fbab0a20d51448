"""diffusion.sample: run the family's diffusers pipeline to latents, with progress, previews and cancel."""

from __future__ import annotations

from nodegraph.api import (
    CONDITIONING,
    IMAGE,
    KEYFRAMES,
    LATENT,
    MASK,
    MODEL,
    VIDEO,
    Node,
    NodeContext,
    Param,
    Port,
    UsageError,
)

from . import catalog
from .acceleration import accelerated
from .control import CONTROL_INPUTS, size_problem
from .families import MODE_NAMES, SampleInfo, adapter
from .families.base import ACCELERATION_CHOICES, RENAMED_SCHEDULERS, SCHEDULER_CHOICES
from .guides import guide_problems, run_guide_problems
from .lora import applied
from .preview import ensure_preview_map, preview_clip, preview_scale
from .schedules import custom_sigmas, expert_switch, parse_sigmas, schedule_problems
from .values import Latent, ModelHandle

INPUTS = ("image", "last_image", "video") + CONTROL_INPUTS + ("keyframes", "latent")  # diffusion.sample's optional


def check_request(family: str, modes: tuple[str, ...] | None, configs: dict | None, *, mode: str, params: dict,
                  has_image: bool, has_last: bool, controls: tuple[str, ...] = ()) -> list[str]:
    """Problems with sampling `family` in `mode` with `params`, with the control inputs `controls` connected;
    configs/modes None when unknown."""
    fam = adapter(family)
    problems = []
    if mode not in fam.pipelines:
        can = " or ".join(MODE_NAMES[m] for m in fam.pipelines)
        need = {"i2v": "connect an image", "t2v": "connect an image", "v2v": "connect an image instead"}.get(mode)
        if mode == "t2v" and "t2v" not in fam.pipelines:
            problems.append(f"{fam.title} only does {can}: {need}")
        else:
            problems.append(f"{fam.title} cannot do {MODE_NAMES[mode]}; it does {can}")
    elif modes is not None and mode not in modes:
        can = " or ".join(MODE_NAMES[m] for m in modes)
        example = fam.example_ids.get(mode)
        hint = f" (for example {example})" if example else ""
        article = "an" if MODE_NAMES[mode][0] in "aeiou" else "a"
        fix = f"load {article} {MODE_NAMES[mode]} model{hint}"
        if mode == "t2v" and "i2v" in modes:
            fix = "connect an image"
        problems.append(f"this {fam.title} model does {can}, not {MODE_NAMES[mode]}; {fix}")
    problems += fam.input_problems(mode, has_image=has_image, controls=controls)
    if has_last and not fam.supports_last_image:
        problems.append(f"{fam.title} takes no last frame; disconnect last_image")
    if has_last and not has_image:
        problems.append("last_image needs image (the first frame) connected too")
    scheduler = params.get("scheduler", "default")
    if scheduler not in fam.schedulers:
        problems.append(f"scheduler {scheduler!r} does not suit {fam.title}; it takes "
                        f"{', '.join(map(repr, fam.schedulers))}")
    problems += schedule_problems(fam, configs, params)
    acceleration = params.get("acceleration", "none")
    if acceleration not in fam.accelerations:
        problems.append(f"acceleration {acceleration!r} is not available for {fam.title}; it takes "
                        f"{', '.join(map(repr, fam.accelerations))}")
    if acceleration == "mag_cache" and configs is not None and "transformer_2" in configs:
        problems.append("mag_cache follows one transformer, but this model hands its last steps to a second "
                        "(Wan 2.2 A14B); use first_block_cache or none")
    if fam.strength_applies(mode) and "steps" in params and int(params["steps"] * params.get("strength", 1.0)) < 1:
        need = int(1 / max(params.get("strength", 1.0), 1e-6)) + 1
        problems.append(f"steps {params['steps']} x strength {params.get('strength')} leaves no denoising step for "
                        f"video-to-video; use at least {need} steps or a higher strength")
    if configs is not None:
        frames = None if fam.clips_set_frames(mode, controls) else params.get("frames")
        problems += fam.size_rules(configs).problems(fam.title, params.get("width"), params.get("height"), frames)
    return problems


def run_problems(fam, loaded, mode: str, params: dict, inputs: dict) -> tuple[int, list[str]]:
    """check_request once the inputs' values (`inputs`, None where nothing is connected) are known: (the frame
    count to sample, every problem)."""
    connected = {name for name, value in inputs.items() if value is not None}
    problems = check_request(fam.name, loaded.modes, loaded.configs, mode=mode, params=params,
                             has_image="image" in connected, has_last="last_image" in connected,
                             controls=tuple(name for name in CONTROL_INPUTS if name in connected))
    frames, more = fam.frames_for(loaded.configs, mode, params["frames"], inputs, width=params["width"],
                                  height=params["height"], request_ok=not problems)
    problems += more
    problems += run_guide_problems(fam, loaded.configs, frames=frames, keyframes=inputs["keyframes"],
                                   latent=inputs["latent"], strength=params["strength"],
                                   inputs=connected & {"image", "video", "last_image"})
    return frames, problems


class DiffusionSample(Node):
    """Sample a video latent from a prompt, optionally starting from an image or a video."""

    type_id = "diffusion.sample"
    widgets = ("seed", "steps", "frames", "guidance")
    version = 2  # 2: scheduler "dpm++" is named "dpm++ 2m"
    category = "Dynamics"
    title = "Sample Video"
    inputs = (
        Port("model", MODEL),
        Port("conditioning", CONDITIONING),
        Port("image", IMAGE, optional=True, tooltip="First frame, for image-to-video."),
        Port("last_image", IMAGE, optional=True, tooltip="Last frame, where the family supports it."),
        Port("video", VIDEO, optional=True, tooltip="Source clip, for video-to-video."),
        # control inputs (Wan VACE)
        Port("control", VIDEO, optional=True,
             tooltip="Wan VACE: a control video (depth, pose, edges, grey) the video follows, frame for frame."),
        Port("mask", MASK, optional=True,
             tooltip="Wan VACE: white where the video is made anew (inpainting, outpainting), black where `video` "
                     "(or the first and last image) is kept."),
        Port("reference", IMAGE, optional=True, tooltip="Wan VACE: a subject, face or style the video keeps."),
        Port("reference_2", IMAGE, optional=True, tooltip="Wan VACE: a second reference image."),
    )
    # keyframes and refining a latent (LTX-2, LTX-Video)
    inputs += (
        Port("keyframes", KEYFRAMES, optional=True, tooltip="Images or short clips pinned to frames (keyframe "
             "nodes), for LTX-2 and LTX-Video."),
        Port("latent", LATENT, optional=True, tooltip="A latent to refine (after latent.upscale, say) at "
             "`strength`; it sets the size and frame count. LTX-2 and LTX-Video."),
    )
    outputs = (Port("latent", LATENT),)
    params = (
        Param("width", int, default=832, min=8, max=8192, step=16),
        Param("height", int, default=480, min=8, max=8192, step=16),
        Param("frames", int, default=81, min=1, max=4096, tooltip="Frame count (ignored for video-to-video)."),
        Param("steps", int, default=30, min=1, max=1000),
        Param("guidance", float, default=5.0, min=0.0, max=50.0, tooltip="Classifier-free guidance scale."),
        Param("seed", int, default=0, min=0, max=2**63 - 1, kind="seed"),
        Param("strength", float, default=0.7, min=0.0, max=1.0,
              tooltip="Video-to-video, or refining a latent: how much to change."),
        Param("scheduler", str, default="default", choices=SCHEDULER_CHOICES,
              tooltip="The sampler, by the names ComfyUI uses; default is the model's own. Each family takes some."),
        Param("shift", float, default=0.0, min=0.0, max=100.0, step=0.5,
              tooltip="Flow shift (Wan, LTX-Video): higher spends more of the steps at high noise; 0 keeps the "
                      "model's own."),
        Param("sigmas", str, default="",
              tooltip="Optional noise levels from high to low, comma-separated, one per step (a final 0 may be "
                      "given); they replace steps. As diffusers takes them, before the shift: set shift 1 to use "
                      "ComfyUI's custom sigmas unchanged."),
        Param("low_noise_from_step", int, default=0, min=0, max=1000,
              tooltip="Wan 2.2 A14B: the step (counted from 0, like ComfyUI's start_at_step) at which the "
                      "low-noise expert takes over; 0 keeps the model's own boundary."),
        Param("acceleration", str, default="none", choices=ACCELERATION_CHOICES,
              tooltip="Skip redundant transformer work between steps (faster, slightly different). mag_cache "
                      "measures the model once per settings, with a neutral prompt, and reuses that afterwards."),
        Param("conditioning_scale", float, default=1.0, min=0.0, max=4.0, step=0.05,
              tooltip="Wan VACE: how strongly the control video, mask and references steer the video."),
    )

    @classmethod
    def migrate(cls, params: dict, from_version: int) -> dict:
        if from_version < 2 and params.get("scheduler") in RENAMED_SCHEDULERS:
            params = dict(params, scheduler=RENAMED_SCHEDULERS[params["scheduler"]])
        return params

    @classmethod
    def check_inputs(cls, params: dict, sources: dict) -> list[str]:
        fed = catalog.family_feeding(sources)
        if fed is None:
            return []
        family, info, known = fed
        mode = adapter(family).mode_for(set(sources))
        if "latent" in sources:
            params = {k: v for k, v in params.items() if k not in ("width", "height", "frames")}  # the latent's
        return check_request(family, info.modes if known else None, info.configs if known else None, mode=mode,
                             params=params, has_image="image" in sources, has_last="last_image" in sources,
                             controls=tuple(name for name in CONTROL_INPUTS if name in sources)) + (
            guide_problems(family, set(sources), params))

    @classmethod
    def frame_size(cls, params: dict, inputs: dict) -> None:
        """A control video or mask whose size is known must be the size asked for (checked before the run)."""
        problems = [p for name in ("control", "mask") if name in inputs
                    for p in [size_problem(name, inputs[name], params["width"], params["height"])] if p]
        if problems:
            raise ValueError("; ".join(problems))
        return None

    def run(self, ctx: NodeContext, model: ModelHandle, conditioning, image=None, last_image=None, video=None,
            control=None, mask=None, reference=None, reference_2=None, keyframes=None, latent=None, *, width: int,
            height: int, frames: int, steps: int, guidance: float, seed: int, strength: float, scheduler: str,
            shift: float, sigmas: str, low_noise_from_step: int, acceleration: str,
            conditioning_scale: float = 1.0) -> dict:
        import torch

        fam = adapter(model.family)
        if conditioning.family != model.family:
            raise UsageError(f"the conditioning was encoded for {conditioning.family}, but the model is "
                             f"{model.family}; feed text.encode from the same model")
        loaded = model.acquire(ctx)
        inputs = dict(zip(INPUTS, (image, last_image, video, control, mask, reference, reference_2, keyframes,
                                   latent), strict=True))
        mode = fam.mode_for({name for name, value in inputs.items() if value is not None})
        if latent is not None:  # a refine pass keeps the latent's size and length
            width, height, frames = latent.width, latent.height, latent.frames
        params = dict(width=width, height=height, frames=frames, scheduler=scheduler, acceleration=acceleration,
                      steps=steps, strength=strength, shift=shift, sigmas=sigmas,
                      low_noise_from_step=low_noise_from_step)
        frames, problems = run_problems(fam, loaded, mode, params, inputs)
        if problems:
            raise UsageError("; ".join(problems))
        levels, _ = parse_sigmas(sigmas)
        if levels is not None:
            steps = len(levels)  # the custom schedule decides the step count
        # video-to-video denoises only the last steps x strength of the schedule, as diffusers counts them
        denoised = min(steps, max(1, int(steps * strength))) if fam.strength_applies(mode) else steps
        # what MagCache's ratios are measured for (and the out-of-memory advice names)
        request = dict(mode=mode, width=width, height=height, frames=frames, steps=steps, guidance=guidance,
                       strength=strength, scheduler=scheduler, has_last=last_image is not None,
                       **({"shift": shift} if shift else {}), **({"sigmas": levels} if levels else {}))

        # inference mode, not only the no_grad diffusers' own __call__ sets: torch skips version counters and
        # view tracking on every op, the same frames 4-7% sooner on small models (bench/pipeline.py)
        # the model's LoRAs (model.lora) are on for this call only: other users of the base see it plain
        with loaded.lock, applied(loaded, model, ctx.warn), torch.inference_mode():
            pipe = loaded.pipeline(fam, mode, scheduler, shift)
            info = SampleInfo(mode=mode, width=width, height=height, frames=frames, extra={})
            kwargs = fam.call_kwargs(pipe, mode, width=width, height=height, frames=frames, steps=steps,
                                     guidance=guidance, strength=strength, image=image, last_image=last_image,
                                     video=video)
            kwargs.update(conditioning.embeds)
            kwargs.update(fam.input_kwargs(pipe, info, inputs, strength=strength, steps=steps, sigmas=levels,
                                           conditioning_scale=conditioning_scale))
            kwargs.update(fam.prepare(pipe, mode, kwargs, info))
            step = _StepReporter(ctx, fam, loaded, pipe, info, steps)
            generator = torch.Generator("cpu").manual_seed(seed)
            ctx.progress(0, denoised)
            with (accelerated(ctx, model, loaded, fam, pipe, acceleration, request=request, step=step,
                              denoised=denoised),
                  custom_sigmas(pipe, kwargs, levels), expert_switch(pipe, steps, levels, low_noise_from_step),
                  fam.steps_watched(pipe, step) as watched):
                output = pipe(**kwargs, generator=generator, output_type="latent", return_dict=False, **watched)
            raw = output[0] if isinstance(output, (tuple, list)) else output  # SVD returns the bare tensor
            tensor = fam.latents_from_output(pipe, raw, info).detach().to("cpu")
            sound = fam.audio_from_output(pipe, output, info)  # LTX-2's
            sound = sound.detach().to("cpu") if sound is not None else None
        meta = {"mode": mode, "seed": seed, "steps": steps, **info.extra}
        out = Latent(model.family, tensor, fps=fam.native_fps, width=width, height=height,
                     frames=fam.frames_for_latent(tensor.shape[2], loaded.configs), model_key=model.key, meta=meta,
                     audio=sound)
        return {"latent": out}


class _StepReporter:
    """The pipeline's step callback: progress with the step count, a preview of every frame, cancel.

    The preview is a CPU copy of the step's latents and a renderer over it: the latent-to-RGB map runs when
    (and where) someone reads the preview, so steps nobody looks at cost only the copy, and a run nobody
    watches (`kinograph run`) not even that.
    """

    def __init__(self, ctx: NodeContext, fam, loaded, pipe, info: SampleInfo, steps: int):
        self.ctx, self.fam, self.loaded, self.pipe, self.info, self.steps = ctx, fam, loaded, pipe, info, steps
        self.render: tuple | None = None  # (weights, repeats, scale): the same for every step of one call
        self.offset = 0  # steps already reported before this call's (a MagCache calibration's)

    def __call__(self, pipe, index: int, timestep, callback_kwargs: dict) -> dict:
        import torch

        total = int(getattr(pipe, "_num_timesteps", 0) or self.steps)
        self.ctx.progress(self.offset + index + 1, self.offset + total)  # raises CancelledError on cancel
        latents = callback_kwargs.get("latents")
        if latents is not None and self.ctx.wants_previews:  # a headless run makes no preview at all
            latents = self.fam.latents_from_step(pipe, latents, self.info)
            if self.render is None:
                weights = ensure_preview_map(self.loaded, self.fam)
                repeats = self.fam.preview_frame_repeats(latents.shape[2], self.loaded.configs)
                factor = max(1, round(self.info.width / max(latents.shape[4], 1)))  # latent to pixel size
                self.render = (weights, repeats, preview_scale(latents.shape[3], latents.shape[4], factor))
            snapshot = latents[:1].detach().to("cpu", torch.float32, copy=True).numpy()  # a plain value
            weights, repeats, scale = self.render
            self.ctx.preview(lambda: preview_clip(snapshot, weights, repeats, scale), self.fam.native_fps)
        return callback_kwargs
