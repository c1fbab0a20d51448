"""Keyframes: images or short clips pinned to frames of the video to be sampled (LTX-2, LTX-Video).

A `Keyframes` value is an ordered tuple of `Keyframe`s; the `keyframe` node adds one to what arrives on its own
`keyframes` input, so a chain of them carries several on one wire into diffusion.sample's `keyframes` input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nodegraph.api import IMAGE, KEYFRAMES, VIDEO, Image, Node, NodeContext, Param, Port, UsageError, Video

MAX_CLIP_FRAMES = 257  # a keyframe clip is a few seconds at most: it is held in memory and VAE-encoded whole


@dataclass(frozen=True, eq=False)
class Keyframe:
    """One image (1 frame) or short clip, uint8 (n, H, W, 3), to appear from frame `index` with `strength`."""

    frames: np.ndarray
    index: int
    strength: float

    @property
    def length(self) -> int:
        return int(self.frames.shape[0])

    def pil_frames(self):
        """The picture as diffusers takes it: one PIL image, or a list of them for a clip."""
        from PIL import Image as PILImage

        pictures = [PILImage.fromarray(frame) for frame in self.frames]
        return pictures[0] if len(pictures) == 1 else pictures


@dataclass(frozen=True, eq=False)
class Keyframes:
    """The value on KEYFRAMES wires: keyframes in the order they were chained."""

    items: tuple[Keyframe, ...] = ()

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def added(self, keyframe: Keyframe) -> Keyframes:
        return Keyframes(self.items + (keyframe,))

    def cache_nbytes(self) -> int:
        return int(sum(k.frames.nbytes for k in self.items))

    def __repr__(self) -> str:
        return "Keyframes(" + ", ".join(f"{k.length}f@{k.index} x{k.strength:g}" for k in self.items) + ")"


def keyframe_problems(keyframes: Keyframes, frames: int, rules) -> list[str]:
    """Problems with placing `keyframes` in a video of `frames` frames under a family's size rules."""
    problems = []
    taken: dict[int, int] = {}
    for n, k in enumerate(keyframes, 1):
        where = f"keyframe {n} (frame {k.index})"
        if k.length > 1 and not rules.frames_ok(k.length):
            problems.append(f"{where}: its clip has {k.length} frames; keyframe clips take "
                            f"{rules.frame_step}k+{rules.frame_offset} frames (for example "
                            f"{', '.join(map(str, rules.frame_examples(k.length)))}): trim it")
        if k.index + k.length > frames:
            last = frames - k.length
            problems.append(f"{where}: it runs to frame {k.index + k.length - 1}, past the last frame {frames - 1}; "
                            f"set its frame to {max(last, 0)} or less, or sample more frames")
        if k.index in taken:
            problems.append(f"{where}: keyframe {taken[k.index]} is at the same frame; give each its own frame")
        taken.setdefault(k.index, n)
    return problems


class KeyframeNode(Node):
    """Pin an image (or a short clip) to a frame of the video to be sampled, with a strength; chain several keyframe
    nodes to carry them all into Sample Video's keyframes input (LTX-2, LTX-Video)."""

    type_id = "keyframe"
    widgets = ("frame", "strength")
    category = "Conditioning"
    title = "Keyframe"
    inputs = (
        Port("image", IMAGE, optional=True, tooltip="The picture to appear at the frame."),
        Port("video", VIDEO, optional=True, tooltip="Or a short clip (8k+1 frames for LTX) starting at the frame."),
        Port("keyframes", KEYFRAMES, optional=True, tooltip="Keyframes to add this one to (chain several)."),
    )
    outputs = (Port("keyframes", KEYFRAMES),)
    params = (
        Param("frame", int, default=0, min=0, max=4095, tooltip="The frame (counted from 0) where it appears."),
        Param("strength", float, default=1.0, min=0.0, max=1.0,
              tooltip="How strictly the video keeps it: 1 holds it exactly, lower lets the model change it."),
    )

    @classmethod
    def check_inputs(cls, params: dict, sources: dict) -> list[str]:
        if "image" in sources and "video" in sources:
            return ["both image and video are connected; a keyframe is one of them: disconnect one"]
        if "image" not in sources and "video" not in sources:
            return ["nothing to pin: connect an image (or a short clip to video)"]
        return []

    def run(self, ctx: NodeContext, image: Image | None = None, video: Video | None = None,
            keyframes: Keyframes | None = None, *, frame: int, strength: float) -> dict:
        if video is not None:
            if video.frame_count > MAX_CLIP_FRAMES:
                raise UsageError(f"the keyframe clip has {video.frame_count} frames; keyframe clips take at most "
                                 f"{MAX_CLIP_FRAMES}: trim it (video.trim)")
            pixels = video.to_array()
        elif image is not None:
            pixels = image.array[None]
        else:
            raise UsageError("nothing to pin: connect an image (or a short clip to video)")
        keyframe = Keyframe(np.ascontiguousarray(pixels), int(frame), float(strength))
        return {"keyframes": (keyframes or Keyframes()).added(keyframe)}
