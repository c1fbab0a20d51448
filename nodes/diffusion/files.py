"""model.load's sources: a Diffusers folder or id, one checkpoint file holding the whole model or its denoiser, and
separate text encoder, VAE and image encoder files, each a file, a folder or an id."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from nodegraph.api import UsageError

from . import catalog
from .checkpoints import Checkpoint, Reference, header_view, infer_reference, read_checkpoint
from .families import adapter
from .quantization import FP8_STORAGE, gguf_config, storage_dtypes, store_in_fp8

COMPONENT_PARAMS = ("text_encoder", "vae", "image_encoder")
# Components a Diffusers folder may hold without weights being needed from it.
NO_WEIGHTS = ("scheduler", "tokenizer", "tokenizer_2", "feature_extractor", "image_processor", "safety_checker")
NO_WEIGHTS += ("guider",)  # HunyuanVideo 1.5's classifier-free guidance settings
WEIGHT_FILES = (".safetensors", ".bin", ".gguf", ".pt", ".pth", ".ckpt")


def is_file(value: str) -> bool:
    return bool(value) and os.path.isfile(os.path.expanduser(value))


@functools.lru_cache(maxsize=32)
def _reference_of(path: str, stamp: int) -> Reference | None:
    try:
        return infer_reference(header_view(Path(path)))
    except Exception:  # not a readable weights file: load_model says why
        return None


def reference_of(source: str) -> Reference | None:
    """What a checkpoint file is, from its header (kept per file version)."""
    path = os.path.expanduser(source)
    try:
        stamp = os.stat(path).st_mtime_ns
    except OSError:
        return None
    return _reference_of(path, stamp)


def resolve_config(source: str, config: str) -> str:
    """The folder or id holding the configs of `source`: `config` when given; for a checkpoint file, the reference
    repo diffusers names for it, when that is in the local Hugging Face cache."""
    if config or not is_file(source):
        return config
    reference = reference_of(source)
    if reference is not None and catalog.cached_snapshot(reference.repo) is not None:
        return reference.repo
    return ""


def file_problems(params: dict) -> list[str]:
    """model.load's problems with files, found without loading any weights."""
    source = str(params.get("source", "")).strip()
    problems = []
    if is_file(source) and not params.get("config"):
        reference = reference_of(source)
        name = os.path.basename(source)
        if reference is None:
            problems.append(f"source {name!r} is a single file whose model Kinograph cannot tell; set config to the "
                            "folder or id holding its configs (the matching Diffusers repo)")
        elif catalog.cached_snapshot(reference.repo) is None:
            problems.append(f"source {name!r} is a {reference.model_type} checkpoint whose configs come from "
                            f"{reference.repo}, which is not in the local Hugging Face cache: fetch them with "
                            f"`hf download {reference.repo} --exclude '*.safetensors' '*.bin' '*.pth'`, or set config "
                            "to that model's Diffusers folder or id")
        family = params.get("family", "auto")
        if reference is not None and family not in ("auto", reference.family):
            problems.append(f"{name!r} is a {reference.family} model but family is {family!r}; set family to "
                            f"{reference.family!r} or auto")
    gguf = source.lower().endswith(".gguf")
    if gguf and params.get("dtype") == FP8_STORAGE:
        problems.append(f"dtype {FP8_STORAGE} stores weights in fp8, but {os.path.basename(source)!r} is already "
                        "quantized (GGUF); set dtype to auto or bfloat16")
    if gguf and not is_file(source):
        problems.append(f"source {source!r} is not a file; check the path")
    for name in COMPONENT_PARAMS:
        value = str(params.get(name, "") or "").strip()
        if value.lower().endswith(".gguf"):
            problems.append(f"{name} {os.path.basename(value)!r} is a GGUF file; GGUF is read for the denoiser only: "
                            f"give the {name} as .safetensors")
        elif value and not os.path.exists(os.path.expanduser(value)) and not catalog.is_hf_id(value):
            problems.append(f"{name} {value!r} is neither a file, a folder nor a Hugging Face id; check the path")
    return problems


def build_pipeline(handle, ctx):
    """The diffusers pipeline of a handle, and the dtype it computes in."""
    import diffusers

    from .loading import fetch_folder, pipeline_dtype, resolve_dtype

    dtype = resolve_dtype(handle.dtype, handle.device)
    storage, dtype = storage_dtypes(handle.dtype, dtype)
    source = Path(handle.source).expanduser()
    family = handle.family
    overrides: dict = {}
    checkpoint: Checkpoint | None = None
    if source.is_file():
        config = handle.config or resolve_config(handle.source, "")
        if not config:
            raise UsageError(file_problems({"source": handle.source})[0])
        folder = fetch_folder(config, ctx)
        checkpoint = read_checkpoint(source, storage or dtype)  # safetensors and GGUF are mapped, not yet read
    else:
        folder = fetch_folder(handle.source, ctx)
    info = catalog.read_folder(folder)
    if info is None:
        raise UsageError(f"{str(folder)!r} has no model_index.json; give a Diffusers-layout folder or id as config")
    index = info.model_index
    denoiser = adapter(family).denoiser
    from_checkpoint = [] if checkpoint is None else [denoiser] + [
        part for part in COMPONENT_PARAMS if checkpoint.part(part) and not getattr(handle, part) and
        _has_class(index, part)]
    given = [part for part in COMPONENT_PARAMS if getattr(handle, part)]
    _check_weights_present(folder, index, set(from_checkpoint + given + ["motion_adapter"] * bool(
        handle.motion_adapter)))
    if checkpoint is not None:
        from .single_file import load_component

        quantization = gguf_config(dtype) if checkpoint.gguf else None
        for name in from_checkpoint:
            part = "denoiser" if name == denoiser else name
            overrides[name] = load_component(part, name, index[name], checkpoint.part(part), folder, dtype, source,
                                             quantization if part == "denoiser" else None,
                                             keep_dtypes=part == "denoiser" and storage is not None)
        checkpoint = None  # let the file's tensors go once the models hold them
    for part in given:
        overrides[part] = _component(part, getattr(handle, part), index, folder, dtype, ctx)
    if handle.motion_adapter:
        overrides["motion_adapter"] = _motion_adapter(handle.motion_adapter, dtype, folder, ctx)
    if family == "animatediff" and handle.motion_adapter:
        pipe = diffusers.AnimateDiffPipeline.from_pretrained(str(folder), **pipeline_dtype(dtype), **overrides)
    elif overrides:
        pipe = _assemble(folder, index, overrides, dtype)
    else:
        pipe = diffusers.DiffusionPipeline.from_pretrained(str(folder), **pipeline_dtype(dtype))
    if storage is not None:
        for name in (denoiser, "transformer_2"):
            model = getattr(pipe, name, None)
            if model is not None:
                store_in_fp8(model, storage, dtype)
    return pipe, dtype


def _assemble(folder: Path, index: dict, overrides: dict, dtype):
    """The folder's pipeline with `overrides` in place of its components, the rest loaded from the folder
    (diffusers' from_pretrained would load an optional component such as Wan's transformer anyway)."""
    import importlib
    import inspect

    import diffusers
    import torch

    cls = getattr(diffusers, index["_class_name"])
    accepted = inspect.signature(cls.__init__).parameters
    kwargs = {}
    for name, spec in index.items():
        if name.startswith("_") or name not in accepted:
            continue
        if name in overrides:
            kwargs[name] = overrides[name]
        elif not isinstance(spec, list):
            kwargs[name] = spec  # a pipeline setting: boundary_ratio, expand_timesteps...
        elif not _has_class(index, name):
            kwargs[name] = None
        else:
            part = getattr(importlib.import_module(spec[0]), spec[1])
            extra = _dtype_keyword(spec[0], dtype) if issubclass(part, torch.nn.Module) else {}
            kwargs[name] = part.from_pretrained(str(folder), subfolder=name, **extra)
    pipe = cls(**kwargs)
    pipe.register_to_config(_name_or_path=str(folder))
    return pipe


def _has_class(index: dict, name: str) -> bool:
    spec = index.get(name)
    return isinstance(spec, list) and len(spec) == 2 and spec[0] is not None and spec[1] is not None


def _component(part: str, value: str, index: dict, folder: Path, dtype, ctx):
    """One component from its own file, folder or id."""
    from .loading import fetch_folder
    from .single_file import load_component

    if not _has_class(index, part):
        raise UsageError(f"{part} is set, but this model has no {part} (its model_index.json names none); clear it")
    path = Path(value).expanduser()
    if path.is_file():
        return load_component(part, part, index[part], read_checkpoint(path, dtype).state, folder, dtype, path)
    library, class_name = index[part]
    import importlib

    cls = getattr(importlib.import_module(library), class_name)
    where = fetch_folder(value, ctx, pipeline=False)
    subfolder = part if (where / part / "config.json").is_file() else None
    kwargs = {"subfolder": subfolder} if subfolder else {}
    return cls.from_pretrained(str(where), **_dtype_keyword(library, dtype), **kwargs)


def _dtype_keyword(library: str, dtype) -> dict:
    """transformers 5 names a model's dtype `dtype` (and warns about `torch_dtype`); diffusers models `torch_dtype`."""
    return {"dtype": dtype} if library == "transformers" else {"torch_dtype": dtype}


def _motion_adapter(value: str, dtype, folder: Path, ctx):
    import diffusers

    from .loading import fetch_folder

    path = Path(value).expanduser()
    if path.is_file():
        from .single_file import motion_adapter_from_file

        return motion_adapter_from_file(path, dtype, folder)
    return diffusers.MotionAdapter.from_pretrained(str(fetch_folder(value, ctx, pipeline=False)), torch_dtype=dtype)


def _check_weights_present(folder: Path, index: dict, overrides: set) -> None:
    """Every component not given as a file must have its weights in the config folder; say which param gives it."""
    for name, spec in index.items():
        if name.startswith("_") or name in overrides or name in NO_WEIGHTS or not _has_class(index, name):
            continue
        if spec[0] not in ("diffusers", "transformers"):
            continue
        sub = folder / name
        if sub.is_dir() and not any(p.suffix in WEIGHT_FILES for p in sub.iterdir()):
            how = f"give it with the {name} param (a file, folder or id)" if name in COMPONENT_PARAMS else (
                "set config to a folder that holds its weights")
            raise UsageError(f"{folder.name} holds no weights for its {name}; {how}")
