"""Reading checkpoint files as ComfyUI users have them: safetensors (fp8 and ComfyUI's scaled fp8 included), GGUF and
pickle-free torch files; splitting a whole-model checkpoint into its parts; telling which model a file holds."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from nodegraph.api import UsageError

# Where each part of a whole-model checkpoint lives, as ComfyUI, the original releases and LDM save them.
PART_PREFIXES = {
    "denoiser": ("model.diffusion_model.",),
    "vae": ("first_stage_model.", "vae."),
    "text_encoder": ("cond_stage_model.transformer.", "cond_stage_model.", "text_encoders.umt5xxl.transformer.",
                     "text_encoders.t5xxl.transformer.", "text_encoders.", "conditioner.embedders.0.transformer."),
    "image_encoder": ("clip_vision.", "conditioner.embedders.0.open_clip.", "image_encoder."),
}
# The keys of ComfyUI's scaled fp8 files that are not weights.
FP8_SCALES = (".scale_weight", ".weight_scale")
FP8_EXTRAS = (".scale_input", ".input_scale", ".comfy_quant")


@dataclass
class Checkpoint:
    """The tensors of one file (names as stored), and what the file is."""

    path: Path
    state: dict
    fp8: bool = False  # weights stored as float8 (plain or scaled)
    gguf: bool = False
    parts: dict[str, dict] = field(default_factory=dict)

    def part(self, name: str) -> dict:
        """The tensors of one part (denoiser, vae, text_encoder, image_encoder), its prefix kept."""
        return self.parts.get(name, {})


def read_checkpoint(path: Path, compute_dtype=None) -> Checkpoint:
    """All tensors of a checkpoint file, ComfyUI's scaled fp8 weights multiplied out into `compute_dtype`."""
    suffix = path.suffix.lower()
    if suffix == ".gguf":
        return _with_parts(Checkpoint(path=path, state=_read_gguf(path), gguf=True))
    if suffix in (".safetensors", ".sft"):
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            state = load_file(str(path))
            metadata = _safetensors_metadata(path)
        except (SafetensorError, OSError) as exc:
            raise UsageError(f"{path.name} is not a readable safetensors file ({exc}); check the file") from exc
    elif suffix in (".ckpt", ".pt", ".pth", ".bin"):
        import pickle

        import torch

        try:
            state = torch.load(str(path), map_location="cpu", weights_only=True, mmap=True)
        except (pickle.UnpicklingError, RuntimeError, OSError) as exc:
            raise UsageError(f"{path.name} is not a plain weights file that loads without running code ({exc}); "
                             "use a .safetensors copy") from exc
        while isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
            state = state["state_dict"]
        metadata = {}
    else:
        raise UsageError(f"{path.name}: Kinograph reads .safetensors, .gguf, .ckpt, .pt, .pth and .bin weights; "
                         "convert the file to .safetensors")
    checkpoint = Checkpoint(path=path, state=state)
    checkpoint.fp8 = _unscale_fp8(checkpoint, metadata, compute_dtype)
    return _with_parts(checkpoint)


def _read_gguf(path: Path) -> dict:
    """A GGUF file's tensors over its memory map (no copy): quantized ones as diffusers' GGUFParameter."""
    import warnings

    import torch
    from diffusers.quantizers.gguf.utils import SUPPORTED_GGUF_QUANT_TYPES, GGUFParameter
    from gguf import GGMLQuantizationType, GGUFReader

    try:
        reader = GGUFReader(str(path))
    except (ValueError, OSError) as exc:
        raise UsageError(f"{path.name} is not a readable GGUF file ({exc}); check the file") from exc
    state = {}
    for tensor in reader.tensors:
        kind = tensor.tensor_type
        plain = kind in (GGMLQuantizationType.F32, GGMLQuantizationType.F16)
        if not plain and kind not in SUPPORTED_GGUF_QUANT_TYPES:
            supported = ", ".join(t.name for t in SUPPORTED_GGUF_QUANT_TYPES)
            raise UsageError(f"{path.name} stores {tensor.name} as {kind.name}, which diffusers cannot read; it reads "
                             f"{supported}, F16 and F32")
        with warnings.catch_warnings():  # the map is read-only; nothing writes into the weights
            warnings.simplefilter("ignore", UserWarning)
            data = torch.from_numpy(tensor.data)
        state[tensor.name] = data if plain else GGUFParameter(data, quant_type=kind)
    return state


def _safetensors_metadata(path: Path) -> dict:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        return handle.metadata() or {}


def _unscale_fp8(checkpoint: Checkpoint, metadata: dict, compute_dtype) -> bool:
    """Multiply ComfyUI's scaled fp8 weights (`scaled_fp8` + `.scale_weight`, or `.weight_scale` + `.comfy_quant`)
    out; True when the file stores any weight as float8."""
    import torch

    state = checkpoint.state
    fp8_types = (torch.float8_e4m3fn, torch.float8_e5m2)
    quant_layers = json.loads(metadata["_quantization_metadata"]).get("layers", {}) if (
        "_quantization_metadata" in metadata) else {}
    for key in [k for k in state if k.endswith(".comfy_quant")]:
        quant_layers[key[:-len(".comfy_quant")]] = json.loads(bytes(state[key].tolist()).decode("utf-8"))
    for layer, conf in quant_layers.items():
        fmt = conf.get("format") if isinstance(conf, dict) else conf
        if fmt not in ("float8_e4m3fn", "float8_e5m2"):
            raise UsageError(f"{checkpoint.path.name} stores {layer} as {fmt!r}; Kinograph reads ComfyUI's fp8 "
                             "(fp8_e4m3fn, fp8_scaled) and GGUF files, not this format")
    scaled = "scaled_fp8" in state or any(key.endswith(FP8_SCALES) for key in state)
    dtype = compute_dtype if compute_dtype is not None and compute_dtype.is_floating_point else torch.bfloat16
    converted = set()
    for key in list(state):
        if key == "scaled_fp8" or key.endswith(FP8_EXTRAS):
            del state[key]
            continue
        for ending in FP8_SCALES:
            if key.endswith(ending):
                weight_key = key[:-len(ending)] + ".weight"
                scale = state.pop(key)
                if weight_key in state:
                    state[weight_key] = (state[weight_key].to(torch.float32) * scale.to(torch.float32)).to(dtype)
                    converted.add(weight_key)
    if scaled:  # the rest copied out of the file's map, so that the map (fp8 weights now unscaled) can go
        for key in state.keys() - converted:
            state[key] = state[key].clone()
    return scaled or any(tensor.dtype in fp8_types for tensor in state.values())


def _with_parts(checkpoint: Checkpoint) -> Checkpoint:
    """Group a whole-model checkpoint's tensors by part; a file of one part gets it all as its denoiser."""
    parts: dict[str, dict] = {}
    rest = {}
    for key, tensor in checkpoint.state.items():
        for part, prefixes in PART_PREFIXES.items():
            if key.startswith(prefixes):
                parts.setdefault(part, {})[key] = tensor
                break
        else:
            rest[key] = tensor
    if rest:
        parts.setdefault("denoiser", {}).update(rest)
    checkpoint.parts = parts
    return checkpoint


def strip_prefix(state: dict, prefixes: tuple[str, ...]) -> dict:
    """The tensors with the first matching prefix taken off each name."""
    out = {}
    for key, tensor in state.items():
        for prefix in prefixes:
            if key.startswith(prefix):
                key = key[len(prefix):]
                break
        out[key] = tensor
    return out


@dataclass(frozen=True)
class Reference:
    """What a denoiser file is, and the Diffusers repo whose configs fit it."""

    family: str
    model_type: str
    repo: str


# diffusers' model types (infer_diffusers_model_type) of the families Kinograph has.
FAMILY_OF_MODEL_TYPE = (("wan", "wan"), ("ltx-video", "ltx"), ("animatediff", "animatediff"))


def infer_reference(state: dict) -> Reference | None:
    """The family and reference repo of a denoiser checkpoint, as diffusers' single-file loader tells them."""
    from diffusers.loaders.single_file_utils import (
        CHECKPOINT_KEY_NAMES,
        DIFFUSERS_DEFAULT_PIPELINE_PATHS,
        infer_diffusers_model_type,
    )

    vace = _wan_vace_reference(state, CHECKPOINT_KEY_NAMES, DIFFUSERS_DEFAULT_PIPELINE_PATHS)
    if vace is not None:
        return vace
    try:
        model_type = infer_diffusers_model_type(state)
    except (KeyError, ValueError, IndexError, NameError):  # NameError: a branch of it that sets no type
        return None
    if model_type == "v1" and CHECKPOINT_KEY_NAMES["v1"] not in state:
        return None  # diffusers' answer when nothing matched
    if model_type == "v1":  # a Stable Diffusion 1.5 checkpoint: AnimateDiff's base
        return Reference("animatediff", model_type, DIFFUSERS_DEFAULT_PIPELINE_PATHS["v1"][
            "pretrained_model_name_or_path"])
    repo = DIFFUSERS_DEFAULT_PIPELINE_PATHS.get(model_type, {}).get("pretrained_model_name_or_path")
    if model_type.startswith("wan"):
        prefix = "model.diffusion_model." if "model.diffusion_model.patch_embedding.weight" in state else ""
        embedding = state.get(prefix + "patch_embedding.weight")
        if embedding is not None and tuple(embedding.shape[:2]) == (3072, 48):  # diffusers files it as 14B I2V
            model_type, repo = "wan2.2-ti2v-5B", "Wan-AI/Wan2.2-TI2V-5B-Diffusers"
    for start, family in FAMILY_OF_MODEL_TYPE:
        if model_type.startswith(start) and repo:
            return Reference(family, model_type, repo)
    return None


def _wan_vace_reference(state: dict, key_names: dict, repos: dict) -> Reference | None:
    """A Wan VACE denoiser (wan2.1_vace_1.3B / 14B): a Wan file with VACE blocks. Told apart here, not by the
    family of its model type, which is "wan" to diffusers; a width that is neither size's takes the 14B configs,
    as diffusers does for other Wan files it cannot place."""
    marker = key_names.get("wan_vace")
    prefix = next((p for p in ("model.diffusion_model.", "") if marker and p + marker in state), None)
    embedding = state.get(f"{prefix}patch_embedding.weight") if prefix is not None else None
    if embedding is None:
        return None
    model_type = "wan-vace-1.3B" if embedding.shape[0] == 1536 else "wan-vace-14B"
    repo = repos.get(model_type, {}).get("pretrained_model_name_or_path")
    return Reference("wan_vace", model_type, repo) if repo else None


class _Shape:
    """A tensor's shape without its data, for telling a file's model from its header."""

    def __init__(self, shape):
        import torch

        self.shape = torch.Size(shape)


def header_view(path: Path) -> dict:
    """Tensor names and shapes of a .safetensors or .gguf file, read from its header only."""
    if path.suffix.lower() == ".gguf":
        from gguf import GGUFReader

        return {t.name: _Shape(reversed([int(n) for n in t.shape])) for t in GGUFReader(str(path)).tensors}
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        return {key: _Shape(handle.get_slice(key).get_shape()) for key in handle.keys()}
