"""Finding models on disk and reading their configs, without loading any weights (no torch here)."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from nodegraph.api import MODEL_ID

from .families import FAMILIES, adapter, family_of_class

HF_ID = MODEL_ID
WEIGHT_SUFFIXES = (".safetensors", ".ckpt", ".pt", ".pth", ".bin", ".gguf")
COMPONENT_CONFIGS = ("config.json", "scheduler_config.json")


@dataclass
class ModelInfo:
    """What the files of a model say about it."""

    folder: Path
    family: str | None
    model_index: dict = field(default_factory=dict)
    configs: dict[str, dict] = field(default_factory=dict)
    name: str = ""

    @property
    def modes(self) -> tuple[str, ...]:
        if self.family is None:
            return ()
        return adapter(self.family).model_modes(self.model_index, self.configs)

    def size_bytes(self) -> int:
        total = 0
        for path in self.folder.rglob("*"):
            try:
                if path.is_file() and path.suffix in WEIGHT_SUFFIXES:
                    total += path.stat().st_size
            except OSError:
                continue
        return total


def fetch_command(model_id: str, pipeline: bool = True) -> str:
    """The command that fetches what loading `model_id` reads (for a pipeline: not the root checkpoints)."""
    return f"hf download {model_id}" + (" --include model_index.json '*/*'" if pipeline else "")


def is_hf_id(source: str) -> bool:
    return bool(HF_ID.match(source)) and not Path(source).expanduser().exists()


def offline() -> bool:
    value = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return value.strip().lower() in ("1", "true", "yes", "on")


def cached_snapshot(model_id: str) -> Path | None:
    """The local snapshot folder of a Hugging Face model id, when its model_index.json (or config.json) is cached."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - huggingface_hub ships with diffusers
        return None
    for marker in ("model_index.json", "config.json"):  # a pipeline, or a single component (MotionAdapter)
        found = try_to_load_from_cache(model_id, marker)
        if isinstance(found, str):
            return Path(found).parent
    return None


def read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def read_folder(folder: Path) -> ModelInfo | None:
    """Model index and component configs of a diffusers-layout folder (None if it is not one)."""
    try:
        stamp = os.stat(os.path.join(folder, "model_index.json")).st_mtime_ns
    except OSError:
        return None
    return _read_folder(str(folder), stamp)


@functools.lru_cache(maxsize=64)
def _read_folder(where: str, stamp: int) -> ModelInfo | None:
    """read_folder's work, kept per folder and model_index.json version: validation asks on every run."""
    folder = Path(where)
    index_path = folder / "model_index.json"
    if not index_path.is_file():
        return None
    index = read_json(index_path)
    configs: dict[str, dict] = {}
    for name, spec in index.items():
        if name.startswith("_") or not isinstance(spec, list):
            continue
        for filename in COMPONENT_CONFIGS:
            path = folder / name / filename
            if path.is_file():
                configs[name] = read_json(path)
                break
    family = family_of_class(str(index.get("_class_name", "")))
    return ModelInfo(folder=folder, family=family, model_index=index, configs=configs, name=folder.name)


def local_folder(source: str) -> Path | None:
    """The folder holding a model's configs: the folder itself, or a cached Hugging Face snapshot."""
    if not source:
        return None
    path = os.path.expanduser(source)
    if os.path.isdir(path):
        return Path(path)
    if is_hf_id(source):
        return cached_snapshot(source)
    return None


def describe_source(source: str, config: str = "") -> ModelInfo | None:
    """What can be learned about model.load's source without loading it (None when nothing is local)."""
    if source and os.path.isfile(os.path.expanduser(source)):
        folder = local_folder(config) if config else None
        return read_folder(folder) if folder else None
    folder = local_folder(source)
    return read_folder(folder) if folder else None


def resolve_family(requested: str, info: ModelInfo | None) -> str | None:
    if requested != "auto":
        return requested
    return info.family if info else None


def family_feeding(sources: dict) -> tuple[str, ModelInfo | None, bool] | None:
    """For a node's check_inputs: (family, what the model.load feeding its `model` input points at, whether that
    info is of that family), or None when no model.load of a known family feeds it directly."""
    source = sources.get("model")
    if source is None or source[0] != "model.load":
        return None
    load = source[1]
    info = describe_source(str(load.get("source", "")), str(load.get("config", "")))
    family = resolve_family(load.get("family", "auto"), info)
    if family not in FAMILIES:
        return None
    return family, info, info is not None and info.family == family


def scan_folder(root: Path, depth: int = 3) -> list[ModelInfo]:
    """Every diffusers-layout video model under `root` (a few levels deep)."""
    found: list[ModelInfo] = []
    if not root.is_dir():
        return found
    info = read_folder(root)
    if info is not None:
        if info.family in FAMILIES:
            found.append(info)
        return found
    if depth <= 0:
        return found
    try:
        children = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return found
    for child in children:
        found.extend(scan_folder(child, depth - 1))
    return found


def scan_hf_cache() -> list[ModelInfo]:
    """Video models in the local Hugging Face cache (latest snapshot of each)."""
    try:
        from huggingface_hub import scan_cache_dir
        cache = scan_cache_dir()
    except Exception:  # no cache folder yet, or an unreadable one
        return []
    found = []
    for repo in cache.repos:
        if repo.repo_type != "model" or not repo.revisions:
            continue
        revision = max(repo.revisions, key=lambda r: r.last_modified)
        info = read_folder(Path(revision.snapshot_path))
        if info is None or info.family is None:
            continue
        found.append(dataclasses.replace(info, name=repo.repo_id))  # read_folder's result is shared: copy
    return found


# -- Releases by family: Hugging Face ids in diffusers layout that workflows and messages name -----------------------

@dataclass(frozen=True)
class Release:
    """A published model: its Hugging Face id, family, and what it is for."""

    model_id: str
    family: str
    title: str
    notes: str = ""


RELEASES: tuple[Release, ...] = (
    Release("Lightricks/LTX-2", "ltx2", "LTX-2",
            "text, image or keyframes to video with sound; its latent_upsampler/ serves latent.upscale"),
    Release("Lightricks/LTX-2.5-Diffusers", "ltx2", "LTX-2.5",
            "text, image or keyframes to video with sound; predicts a clip length when frames is not set in diffusers"),
    Release("Lightricks/LTX-Video-0.9.7-dev", "ltx", "LTX-Video 0.9.7 dev", "text, image or keyframes to video"),
    Release("Lightricks/LTX-Video-0.9.7-distilled", "ltx", "LTX-Video 0.9.7 distilled",
            "the same, in about 8 steps"),
    Release("Lightricks/ltxv-spatial-upscaler-0.9.7", "ltx", "LTX-Video 0.9.7 latent upsampler",
            "2x spatial latent upsampler for latent.upscale (LTX-Video 0.9.7 and later)"),
)


def releases(family: str) -> list[Release]:
    """The known releases of `family`, in the order listed."""
    return [r for r in RELEASES if r.family == family]
