"""control.depth: Depth Anything V2 (through transformers' depth-estimation classes) on every frame, streaming."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nodegraph.api import VIDEO, Node, NodeContext, Param, Port, UsageError, Video, file_fingerprint, parameter_nbytes

# The released Depth Anything V2 models in transformers' layout. Small is Apache-2.0; Base and Large are
# CC-BY-NC-4.0 (non-commercial use only).
DEPTH_RELEASES = {
    "small": "depth-anything/Depth-Anything-V2-Small-hf",
    "base": "depth-anything/Depth-Anything-V2-Base-hf",
    "large": "depth-anything/Depth-Anything-V2-Large-hf",
}
FOLDER_FILES = "config.json, preprocessor_config.json and model.safetensors"


@dataclass(eq=False)
class LoadedDepth:
    """A depth model and its image processor in the resource cache; one batch at a time runs through it."""

    model: Any
    processor: Any
    device: str
    dtype: Any
    lock: threading.Lock = field(default_factory=threading.Lock)

    def resource_nbytes(self) -> int:
        return parameter_nbytes(self.model)


def model_folder(source: str, ctx: NodeContext | None) -> Path:
    """The transformers-layout folder of `source`: a folder, a weights file inside one, or a Hugging Face id
    (fetched into the local cache when allowed, as model.load does)."""
    from nodes.diffusion.loading import fetch_folder

    path = Path(source).expanduser()
    if path.is_file():
        if not (path.parent / "config.json").is_file():
            raise UsageError(f"{path.name} is a weights file without its config.json beside it; control.depth loads "
                             f"a transformers-layout folder ({FOLDER_FILES}): give that folder, or fetch one with: "
                             f"hf download {DEPTH_RELEASES['small']}")
        path = path.parent
    folder = fetch_folder(source, ctx, pipeline=False) if not path.exists() else path
    config = folder / "config.json"
    try:
        kind = json.loads(config.read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError, AttributeError):
        raise UsageError(f"{str(folder)!r} has no readable config.json; control.depth loads a transformers-layout "
                         f"folder ({FOLDER_FILES}), such as {DEPTH_RELEASES['small']}") from None
    if kind != "depth_anything":
        raise UsageError(f"{str(folder)!r} holds a {kind!r} model, not Depth Anything; give a Depth Anything V2 "
                         f"folder or id, such as {DEPTH_RELEASES['small']}")
    if not (folder / "preprocessor_config.json").is_file():
        raise UsageError(f"{str(folder)!r} has no preprocessor_config.json (how frames are sized for the model); "
                         f"copy it from the model's release, e.g. {DEPTH_RELEASES['small']}")
    return folder


def load_depth(folder: Path, device: str) -> LoadedDepth:
    import torch
    from transformers import AutoImageProcessor, AutoModelForDepthEstimation
    from transformers.utils import logging as hf_logging

    dtype = torch.float16 if device.startswith("cuda") else torch.float32
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # without torchvision, the processor says it falls back to PIL: that is fine
    try:
        processor = AutoImageProcessor.from_pretrained(folder)
        model = AutoModelForDepthEstimation.from_pretrained(folder, dtype=dtype)
    finally:
        hf_logging.set_verbosity(verbosity)
    return LoadedDepth(model.to(device).eval(), processor, device, dtype)


def depth_frames(block: np.ndarray, loaded: LoadedDepth) -> np.ndarray:
    """Relative depth of RGB frames (k, H, W, 3) as grey frames of the same size: near is white, far is black,
    each frame stretched over the full range."""
    import torch

    pixels = loaded.processor(images=list(block), return_tensors="pt")["pixel_values"]
    with loaded.lock, torch.inference_mode():
        predicted = loaded.model(pixel_values=pixels.to(loaded.device, loaded.dtype)).predicted_depth
        depth = torch.nn.functional.interpolate(predicted[:, None].float(), size=block.shape[1:3], mode="bicubic",
                                                align_corners=False)[:, 0]
        low = depth.amin(dim=(1, 2), keepdim=True)
        span = depth.amax(dim=(1, 2), keepdim=True) - low
        span = torch.where(span > 0, span, torch.ones_like(span))  # a flat frame is all far
        grey = ((depth - low) / span * 255).round().clamp(0, 255).to(torch.uint8).cpu().numpy()
    return np.repeat(grey[..., None], 3, axis=-1)


class DepthVideo(Node):
    """Depth of every frame (Depth Anything V2), near white and far black: a control video for a depth-guided
    model."""

    type_id = "control.depth"
    category = "Conditioning"
    title = "Depth (Depth Anything V2)"
    widgets = ("model",)
    inputs = (Port("video", VIDEO),)
    outputs = (Port("video", VIDEO),)
    params = (
        Param("model", str, default=DEPTH_RELEASES["small"], kind="path_or_id",
              tooltip="A Depth Anything V2 model in transformers' layout: a Hugging Face id (Small "
                      f"{DEPTH_RELEASES['small']}, Apache-2.0; Base and Large are non-commercial), or its "
                      "folder, or the model.safetensors inside that folder."),
        Param("batch", int, default=4, min=1, max=64,
              tooltip="Frames estimated at once: more is faster on a GPU and holds more memory."),
    )

    @classmethod
    def check(cls, params: dict) -> list[str]:
        if "model" in params and not str(params["model"]).strip():
            return [f"model is empty; give a Depth Anything V2 folder or id, such as {DEPTH_RELEASES['small']}"]
        return []

    @classmethod
    def notices(cls, params: dict) -> list[str]:
        """A Hugging Face id that is not in the local cache: said before the run (and offered for download)."""
        from nodes.diffusion import catalog

        value = str(params.get("model") or "").strip()
        if not value or not catalog.is_hf_id(value) or catalog.cached_snapshot(value) is not None:
            return []
        how = "HF_HUB_OFFLINE is set, so the run will stop" if catalog.offline() else "the first run downloads it"
        return [f"not downloaded: model {value!r} is not on this machine; {how}. Fetch it now with: "
                f"{catalog.fetch_command(value, pipeline=False)}"]

    @classmethod
    def fingerprint(cls, params: dict):
        return file_fingerprint(str(params.get("model") or ""))

    def run(self, ctx: NodeContext, *, video: Video, model: str, batch: int) -> dict:
        from nodes.diffusion.loading import resolve_device

        if video is None:
            raise UsageError("control.depth needs a video on its 'video' input; connect one")
        folder = model_folder(model.strip(), ctx)
        device = resolve_device(ctx.device)
        key = f"control.depth|{folder}|{device}"
        if ctx.resources is not None:
            loaded = ctx.resources.get_or_load(key, lambda: load_depth(folder, device))
        else:
            loaded = load_depth(folder, device)
        return {"video": video.map_chunks(lambda block: depth_frames(block, loaded), chunk=batch)}
