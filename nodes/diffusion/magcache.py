"""MagCache for diffusion.sample: magnitude ratios measured once per model and settings, then used by diffusers'
MagCache hook to skip transformer steps whose residual would barely change.

The ratios are a property of the checkpoint and the sampling settings, not of the prompt, and diffusers ships
them only for Flux. So Kinograph measures them: the first mag_cache run with a model and settings samples once
more with neutral inputs (an empty prompt, a mid-grey image or clip, seed 0) and records, step by step, how the
transformer's residual (last block's output minus first block's input) grows. The ratios are kept with the
loaded model and saved in the user's cache folder, so later runs, with any prompt and seed, and later sessions
skip the measurement. Because the neutral inputs are fixed, the ratios depend only on the model and the
settings, and a mag_cache run stays a pure function of its node's inputs (its cached result stays right).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from nodegraph.api import NodeContext, UsageError, atomic_write_text, file_fingerprint

# diffusers' MagCache defaults: skip while the accumulated error stays under 6%, at most 3 steps in a row, and
# never in the first 20% of the steps.
THRESHOLD = 0.06
MAX_SKIP_STEPS = 3
RETENTION_RATIO = 0.2
NEUTRAL_LEVEL = 128  # the grey of the calibration image and clip


def cache_dir() -> Path:
    """Where measured ratios are kept: $KINOGRAPH_CACHE_DIR, else the per-user cache folder."""
    explicit = os.environ.get("KINOGRAPH_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    if os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "kinograph"


def model_identity(handle) -> list[Any]:
    """What tells one set of weights from another: the source with its size and time (a Hugging Face id by its
    snapshot folder, whose name is the revision), the config, family, precision and device. Not the offload
    mode: it moves weights, it does not change the arithmetic."""
    from . import catalog

    source = handle.source
    path = Path(source).expanduser()
    if not path.exists() and catalog.is_hf_id(source):
        snapshot = catalog.cached_snapshot(source)
        path = snapshot if snapshot is not None else path
    marker = path / "model_index.json" if path.is_dir() else path
    identity = [str(path.resolve()) if path.exists() else source, file_fingerprint(str(marker)), handle.config,
                handle.family, handle.dtype, handle.device, handle.motion_adapter]
    if handle.loras:  # a LoRA changes the model's outputs, so its step ratios too
        identity.append([[lora.digest, lora.strength, lora.strength_low_noise] for lora in handle.loras])
    return identity


def calibration_key(handle, settings: dict) -> str:
    text = json.dumps([model_identity(handle), settings], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _stored(path: Path, ctx: NodeContext) -> list[float] | None:
    if not path.exists():
        return None
    try:
        ratios = json.loads(path.read_text(encoding="utf-8"))["ratios"]
        if not ratios or not all(isinstance(r, (int, float)) and r > 0 for r in ratios):
            raise ValueError("no positive ratios")
        return [float(r) for r in ratios]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        ctx.warn(f"ignoring the saved MagCache calibration {path} ({exc}); measuring it again")
        return None


def transformer_blocks(denoiser):
    """The transformer's block list (Wan: `blocks`; LTX-Video, CogVideoX: `transformer_blocks`), or None."""
    import torch

    for name in ("blocks", "transformer_blocks"):
        blocks = getattr(denoiser, name, None)
        if isinstance(blocks, torch.nn.ModuleList) and len(blocks):
            return blocks
    return None


class RatioRecorder:
    """Forward hooks on the first and last transformer block: for the first denoiser call of every step (the
    conditional pass, where a pipeline calls the denoiser twice a step), the mean over tokens of the residual's
    norm against the previous step's. Step boundaries come from the pipeline's step callback (`next_step`)."""

    def __init__(self, denoiser):
        blocks = transformer_blocks(denoiser)
        if blocks is None:
            raise UsageError(f"{type(denoiser).__name__} has no transformer block list for MagCache; use none")
        self.ratios: list[float] = []
        self._previous = None
        self._input = None
        self._call = 0  # denoiser calls so far in this step
        self._handles = [
            blocks[0].register_forward_pre_hook(self._on_first_block, with_kwargs=True),
            blocks[-1].register_forward_hook(self._on_last_block),
        ]

    def _on_first_block(self, module, args, kwargs):
        self._input = kwargs.get("hidden_states", args[0] if args else None)

    def _on_last_block(self, module, args, output):
        import torch

        self._call += 1
        if self._call > 1 or self._input is None:
            return
        out = output[0] if isinstance(output, (tuple, list)) else output
        residual = (out - self._input).float()
        if self._previous is None:
            self.ratios.append(1.0)
        else:
            now = torch.linalg.vector_norm(residual, dim=-1)
            before = torch.linalg.vector_norm(self._previous, dim=-1)
            self.ratios.append(float((now / (before + 1e-8)).mean()))
        self._previous = residual

    def next_step(self) -> None:
        self._call = 0

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()


def neutral_inputs(mode: str, width: int, height: int, frames: int, has_last: bool) -> dict[str, Any]:
    """A mid-grey first (and last) frame for image-to-video, a mid-grey clip for video-to-video."""
    import numpy as np

    from nodegraph.api import Image, Video

    out: dict[str, Any] = {"image": None, "last_image": None, "video": None}
    if mode == "i2v":
        out["image"] = Image(np.full((height, width, 3), NEUTRAL_LEVEL, np.uint8))
        if has_last:
            out["last_image"] = out["image"]
    elif mode == "v2v":
        out["video"] = Video.from_array(np.full((frames, height, width, 3), NEUTRAL_LEVEL, np.uint8), fps=16)
    return out


def ratios_for(ctx: NodeContext, handle, loaded, fam, pipe, *, mode: str, settings: dict, run_calibration) -> list:
    """The magnitude ratios for this model and these settings: kept in memory, else read from the cache folder,
    else measured by `run_calibration(recorder)` (which samples with neutral inputs) and saved."""
    key = calibration_key(handle, dict(settings, mode=mode))
    kept = loaded.mag_ratios.get(key)
    if kept is not None:
        return kept
    path = cache_dir() / "mag_cache" / f"{key}.json"
    ratios = _stored(path, ctx)
    if ratios is None:
        ctx.info("MagCache: measuring this model's step ratios with these settings (once; later runs and "
                 "sessions reuse them)")
        recorder = RatioRecorder(getattr(pipe, fam.denoiser))
        try:
            run_calibration(recorder)
        finally:
            recorder.remove()
        ratios = recorder.ratios
        if not ratios:
            raise ValueError("MagCache calibration recorded no steps")
        record = {"model": model_identity(handle), "settings": dict(settings, mode=mode), "ratios": ratios}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(path, json.dumps(record, indent=1, default=str))
        except OSError as exc:  # the run goes on; the next session measures again
            ctx.warn(f"could not save the MagCache calibration to {path} ({exc}); set KINOGRAPH_CACHE_DIR to a "
                     "writable folder to keep it")
    loaded.mag_ratios[key] = ratios
    return ratios


def config(ratios: list[float]):
    from diffusers.hooks import MagCacheConfig

    return MagCacheConfig(threshold=THRESHOLD, max_skip_steps=MAX_SKIP_STEPS, retention_ratio=RETENTION_RATIO,
                          num_inference_steps=len(ratios), mag_ratios=list(ratios))
