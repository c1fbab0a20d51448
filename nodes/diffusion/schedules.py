"""diffusion.sample's schedule settings: the flow shift, custom sigmas, and where Wan 2.2 A14B's second expert
takes over. Each is checked per family up front and applied the way diffusers' own arguments apply it."""

from __future__ import annotations

import inspect
from contextlib import contextmanager

# diffusers schedulers whose set_timesteps takes a custom sigma list
SIGMA_SCHEDULERS = frozenset({"FlowMatchEulerDiscreteScheduler", "FlowMatchLCMScheduler", "UniPCMultistepScheduler",
                              "EulerDiscreteScheduler"})


def parse_sigmas(text: str) -> tuple[list[float] | None, str | None]:
    """(sigmas, None), or (None, problem). Empty text is no override. A trailing 0 (the end of the schedule,
    as ComfyUI lists it) is dropped: the scheduler adds the end itself."""
    text = (text or "").strip()
    if not text:
        return None, None
    try:
        values = [float(part) for part in text.replace(";", ",").split(",") if part.strip()]
    except ValueError:
        return None, f"sigmas {text!r} is not a comma-separated list of numbers (for example 1.0, 0.9, 0.7, 0.4)"
    if values and values[-1] == 0.0:
        values = values[:-1]
    if not values:
        return None, "sigmas holds no noise level above 0; give one per step, for example 1.0, 0.9, 0.7, 0.4"
    if any(v <= 0 for v in values):
        return None, f"sigmas {text!r} has a level at or below 0 before the end; each step needs a level above 0"
    if any(b >= a for a, b in zip(values, values[1:], strict=False)):
        return None, f"sigmas {text!r} does not fall step by step; list the noise levels from high to low"
    return values, None


def schedule_problems(fam, configs: dict | None, params: dict) -> list[str]:
    """Problems with the shift, sigmas and expert-switch settings for family adapter `fam`."""
    problems = []
    shift = float(params.get("shift", 0.0) or 0.0)
    if shift and not fam.flow_matching:
        problems.append(f"shift applies to flow-matching models (Wan, LTX-Video); {fam.title} is not one: "
                        "set shift to 0")
    sigmas, problem = parse_sigmas(str(params.get("sigmas", "")))
    if problem:
        problems.append(problem)
    elif sigmas is not None:
        scheduler = params.get("scheduler", "default")
        class_name = fam.schedulers.get(scheduler, ("", {}))[0]
        takers = [name for name, (cls, _) in fam.schedulers.items() if cls in SIGMA_SCHEDULERS]
        if not takers and not fam.default_takes_sigmas:
            problems.append(f"{fam.title}'s schedulers take no custom sigmas; clear sigmas")
        elif class_name and class_name not in SIGMA_SCHEDULERS:
            problems.append(f"scheduler {scheduler!r} takes no custom sigmas for {fam.title}; use "
                            f"{' or '.join(map(repr, takers or ['default']))}, or clear sigmas")
        elif fam.flow_matching and sigmas[0] > 1.0:
            problems.append(f"sigmas start at {sigmas[0]:g}, but {fam.title} is a flow-matching model whose noise "
                            "levels run from 1 down to 0")
    switch = int(params.get("low_noise_from_step", 0) or 0)
    if switch:
        two_experts = configs is None or "transformer_2" in configs
        if not fam.two_experts or not two_experts:
            problems.append(f"low_noise_from_step applies to Wan 2.2 A14B's two experts; this {fam.title} model has "
                            "one denoiser: set it to 0")
        else:
            steps = len(sigmas) if sigmas else int(params.get("steps", 1))
            if switch > steps:
                problems.append(f"low_noise_from_step {switch} is past the {steps} steps; use 1 to {steps}")
    return problems


def takes_sigmas(scheduler) -> bool:
    return "sigmas" in inspect.signature(scheduler.set_timesteps).parameters


@contextmanager
def custom_sigmas(pipe, kwargs: dict, levels: list[float] | None):
    """Within: the pipeline call runs on the noise `levels`, as its own `sigmas` argument where it has one,
    otherwise set on its scheduler the same way (diffusers' retrieve_timesteps); a pipeline that makes its own
    sigmas (LTX-Video) gets these instead."""
    if levels is None:
        yield
        return
    scheduler = pipe.scheduler
    if not takes_sigmas(scheduler):
        raise ValueError(f"{type(scheduler).__name__} takes no custom sigmas")
    kwargs["num_inference_steps"] = len(levels)
    if "sigmas" in inspect.signature(type(pipe).__call__).parameters:
        kwargs["sigmas"] = list(levels)
        yield
        return
    original = scheduler.set_timesteps

    def set_timesteps(num_inference_steps=None, device=None, sigmas=None, **more):  # noqa: ARG001 - replaced
        more.pop("timesteps", None)
        return original(device=device, sigmas=list(levels), **more)

    scheduler.set_timesteps = set_timesteps
    try:
        yield
    finally:
        del scheduler.set_timesteps


def boundary_ratio_for(pipe, steps: int, sigmas: list[float] | None, switch: int) -> float:
    """The boundary_ratio under which diffusers' Wan pipeline runs the first `switch` steps on transformer (high
    noise) and the rest on transformer_2 (low noise): halfway between the timesteps on either side."""
    probe = type(pipe.scheduler).from_config(pipe.scheduler.config)
    if sigmas is not None:
        probe.set_timesteps(sigmas=list(sigmas), device="cpu")
    else:
        probe.set_timesteps(steps, device="cpu")
    timesteps = [float(t) for t in probe.timesteps]
    if switch >= len(timesteps):
        boundary = timesteps[-1] / 2  # past the last step: all high-noise
    else:
        boundary = (timesteps[switch - 1] + timesteps[switch]) / 2
    return boundary / float(pipe.scheduler.config.num_train_timesteps)


@contextmanager
def expert_switch(pipe, steps: int, sigmas: list[float] | None, switch: int):
    """Within: Wan 2.2 A14B's low-noise expert takes over at step `switch` (counted from 0, so the high-noise
    expert runs `switch` steps); 0 keeps the model's own boundary."""
    if not switch or getattr(pipe, "transformer_2", None) is None:
        yield
        return
    own = pipe.config.boundary_ratio
    pipe.register_to_config(boundary_ratio=boundary_ratio_for(pipe, steps, sigmas, switch))
    try:
        yield
    finally:
        pipe.register_to_config(boundary_ratio=own)
