"""diffusion.sample's control inputs (a control video, a mask, reference images; Wan VACE takes them): whether the
clips and images connected fit the video asked for. No torch here: validation uses it too."""

from __future__ import annotations

CONTROL_INPUTS = ("control", "mask", "reference", "reference_2")
VACE_EXAMPLE = "Wan-AI/Wan2.1-VACE-1.3B-diffusers"


def size_problem(name: str, size: tuple[int, int], width: int, height: int) -> str | None:
    """Why an input of `size` (w, h) cannot condition a width x height video, or None."""
    if tuple(size) == (width, height):
        return None
    w, h = size
    fix = "image.resize" if name in ("image", "last_image") else "video.resize"
    return (f"{name} is {w}x{h} but the video made is {width}x{height}; resize it ({fix}) or set width and height "
            f"to {w} and {h}")


def clip_problems(width: int, height: int, frames: int, **inputs) -> tuple[int, list[str]]:
    """(frame count, problems) of the frames that condition a VACE video (image, last_image, video, control,
    mask): each the size of the video made, the clips as long as each other (a one-frame mask is repeated);
    the clips set the frame count, else it is `frames`."""
    problems = [p for name, value in inputs.items() if value is not None
                for p in [size_problem(name, (value.width, value.height), width, height)] if p]
    clips = [(name, inputs[name].frame_count) for name in ("video", "control", "mask")
             if inputs.get(name) is not None and not (name == "mask" and inputs[name].frame_count == 1)]
    if clips:
        frames = clips[0][1]
        if any(count != frames for _, count in clips):
            listed = ", ".join(f"{name} {count}" for name, count in clips)
            problems.append(f"the clips differ in length ({listed} frames); give them the same frame count")
    return frames, problems
