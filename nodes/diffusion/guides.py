"""diffusion.sample's keyframes and latent inputs: what is wrong with them (the mode they pick: the adapter's
`mode_for`)."""

from __future__ import annotations

from .families import adapter
from .keyframes import keyframe_problems

KEYFRAME_FAMILIES = "LTX-2 and LTX-Video"


def guide_problems(family: str, linked: set[str], params: dict) -> list[str]:
    """Problems a workflow shows before it runs: what is linked to keyframes and latent, and with what."""
    fam = adapter(family)
    problems = []
    if "keyframes" in linked:
        if "kf" not in fam.pipelines:
            problems.append(f"{fam.title} takes no keyframes ({KEYFRAME_FAMILIES} do); disconnect keyframes")
        elif "image" in linked:
            problems.append("both image and keyframes are connected; pin the image as a keyframe at frame 0 and "
                            "disconnect image")
        if "video" in linked:
            problems.append("both video and keyframes are connected; pin the clip as a keyframe and disconnect video")
    if "latent" in linked:
        if not fam.takes_latent:
            problems.append(f"{fam.title} cannot refine a latent ({KEYFRAME_FAMILIES} can); disconnect latent")
        elif "video" in linked:
            problems.append("both video and latent are connected; refine one of them, not both")
        elif "image" in linked and fam.refine_mode == "kf":
            problems.append(f"{fam.title} refines a latent through its keyframes pipeline: pin the image as a "
                            "keyframe at frame 0 and disconnect image")
        if float(params.get("strength", 0.7)) <= 0.0:
            problems.append("strength 0 leaves the latent as it is; refine at a strength above 0 (0.3-0.5 after "
                            "latent.upscale)")
    return problems


def run_guide_problems(fam, configs: dict, *, frames: int, keyframes, latent, strength: float,
                       inputs: set[str]) -> list[str]:
    """guide_problems, and what only the values show: keyframes that do not fit, a latent of another model."""
    linked = set(inputs) | {n for n, v in (("keyframes", keyframes), ("latent", latent)) if v is not None}
    problems = guide_problems(fam.name, linked, {"strength": strength})
    if latent is not None and latent.family != fam.name:
        problems.append(f"the latent was sampled by a {latent.family} model but this model is {fam.name}; refine "
                        f"it with a {latent.family} model")
    if keyframes is not None and "kf" in fam.pipelines:
        problems += keyframe_problems(keyframes, frames, fam.size_rules(configs))
    return problems
