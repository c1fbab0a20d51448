"""The models folder setting: folders laid out like ComfyUI's `models/`, whose files params name by a short name.

How it fits together (one mechanism for every node pack):

- A file param says which kinds of model file it takes: `Param(..., kind="path", models=("loras",))`. The kinds
  are the keys of `KINDS` below; each knows the subfolder names it goes by (ComfyUI's `unet/` is an older name of
  `diffusion_models/`, `clip/` of `text_encoders/`). Tag a param with every kind it can load, most likely first.
- `Param.resolve` (nodegraph/node.py), the one rule the scheduler, validation, saving and the server's
  confinement all use, turns a relative value into a path: the file beside the workflow when there is one,
  else the one file of that name under the param's kinds in the models folders, else (path_or_id params) a
  Hugging Face id. Validation reports a name found twice, or nowhere, in one line listing the folders searched.
- The folders in effect are the configured ones (`--models-dir` on run, validate, serve and gui, or the
  editor's Settings) followed by those in `KINOGRAPH_MODELS` (os.pathsep-separated). The job server lets file
  params read inside them as it does inside its `--input-dir` folders.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

ENV = "KINOGRAPH_MODELS"
WEIGHT_SUFFIXES = (".safetensors", ".sft", ".gguf", ".ckpt", ".pt", ".pth", ".bin")
# A folder holding one of these is one model (a diffusers pipeline or component), listed as a single entry.
MODEL_FOLDER_MARKERS = ("model_index.json", "config.json")


@dataclass(frozen=True)
class ModelKind:
    """A kind of model file and the subfolders of a models folder that hold it (the first is the usual name)."""

    name: str
    folders: tuple[str, ...]
    title: str


KINDS: dict[str, ModelKind] = {kind.name: kind for kind in (
    ModelKind("diffusion_models", ("diffusion_models", "unet"), "diffusion models"),
    ModelKind("checkpoints", ("checkpoints",), "checkpoints (whole models in one file)"),
    ModelKind("diffusers", ("diffusers",), "Diffusers-layout folders"),
    ModelKind("text_encoders", ("text_encoders", "clip"), "text encoders"),
    ModelKind("vae", ("vae",), "VAEs"),
    ModelKind("clip_vision", ("clip_vision",), "image encoders"),
    ModelKind("loras", ("loras",), "LoRAs"),
    ModelKind("upscale_models", ("upscale_models",), "upscalers"),
    ModelKind("animatediff_models", ("animatediff_models",), "AnimateDiff motion modules"),
)}

_configured: tuple[Path, ...] = ()


def parse_folders(text: str) -> tuple[Path, ...]:
    """Folders from a KINOGRAPH_MODELS-style value: os.pathsep-separated, blanks skipped, "~" expanded."""
    return tuple(Path(os.path.expanduser(part.strip())) for part in text.split(os.pathsep) if part.strip())


def set_models_dirs(folders: Iterable[str | os.PathLike]) -> None:
    """Configure this process's models folders (`--models-dir`, the editor's setting); KINOGRAPH_MODELS follows."""
    global _configured
    _configured = tuple(Path(os.path.expanduser(str(f))) for f in folders if str(f).strip())


def models_dirs() -> tuple[Path, ...]:
    """The models folders in effect: the configured ones, then KINOGRAPH_MODELS, each once."""
    out: list[Path] = []
    for folder in (*_configured, *parse_folders(os.environ.get(ENV, ""))):
        if folder not in out:
            out.append(folder)
    return tuple(out)


def folder_problems(folders: Iterable[str | os.PathLike], option: str = "--models-dir") -> list[str]:
    """One line for each given folder that is not a folder."""
    return [f"{option} {str(f)!r} is not a folder; give the folder that holds diffusion_models/, loras/, ..."
            for f in folders if not Path(os.path.expanduser(str(f))).is_dir()]


def is_relative_name(value: str) -> bool:
    """Whether `value` can name a file inside a models subfolder: relative, no "~", no ".." step."""
    if not value or value.startswith("~") or os.path.isabs(value) or "\x00" in value:
        return False
    return ".." not in value.replace("\\", "/").split("/")


def kind_folders(kinds: Sequence[str], roots: Sequence[Path] | None = None) -> list[Path]:
    """Every subfolder searched for `kinds`, in search order (whether it exists or not)."""
    roots = models_dirs() if roots is None else roots
    return [root / sub for root in roots for kind in kinds for sub in KINDS[kind].folders]


def find(name: str, kinds: Sequence[str], roots: Sequence[Path] | None = None) -> list[str]:
    """The files (or model folders) `name` names under `kinds` in the models folders: one path per distinct file."""
    if not is_relative_name(name):
        return []
    found: list[str] = []
    seen: set[str] = set()
    for folder in kind_folders(kinds, roots):
        path = os.path.normpath(os.path.join(folder, name))
        if os.path.exists(path):
            real = os.path.realpath(path)
            if real not in seen:  # unet/ linked to diffusion_models/, say: one file, not two
                seen.add(real)
                found.append(path)
    return found


def describe_search(kinds: Sequence[str], roots: Sequence[Path] | None = None) -> str:
    """Where `find` looks, in a few words: "diffusion_models/, unet/ in /a, /b" (or that no folder is set)."""
    roots = models_dirs() if roots is None else roots
    if not roots:
        return (f"no models folder is set: set {ENV}, pass --models-dir or add one in the editor's "
                "Settings")
    subs = [sub + "/" for kind in kinds for sub in KINDS[kind].folders]
    shown = [str(r) if r.is_dir() else f"{r} (not a folder)" for r in roots]  # a typo in KINOGRAPH_MODELS shows
    return f"searched {', '.join(subs)} in {', '.join(shown)}"


@dataclass(frozen=True)
class ModelFile:
    """One entry of a models folder: its name as params take it, where it is and its size."""

    kind: str
    name: str
    path: Path
    size_bytes: int


def list_files(kind: str, roots: Sequence[Path] | None = None) -> list[ModelFile]:
    """The model files (and model folders) of one kind in the models folders, sorted by name."""
    out: list[ModelFile] = []
    for folder in kind_folders((kind,), roots):
        if folder.is_dir():
            out.extend(_walk(kind, folder, folder))
    return sorted(out, key=lambda f: (f.name.lower(), str(f.path)))


def _walk(kind: str, top: Path, folder: Path) -> list[ModelFile]:
    out: list[ModelFile] = []
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return out
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        name = path.relative_to(top).as_posix()
        try:
            if entry.is_dir():
                if any((path / marker).is_file() for marker in MODEL_FOLDER_MARKERS):
                    out.append(ModelFile(kind, name, path, _folder_size(path)))
                else:
                    out.extend(_walk(kind, top, path))
            elif entry.name.lower().endswith(WEIGHT_SUFFIXES):
                out.append(ModelFile(kind, name, path, entry.stat().st_size))
        except OSError:  # a broken link or an unreadable entry: not a model anyone can load
            continue
    return out


def _folder_size(folder: Path) -> int:
    total = 0
    for base, _dirs, files in os.walk(folder):
        for file in files:
            try:
                total += os.path.getsize(os.path.join(base, file))
            except OSError:
                continue
    return total


def add_argument(parser: argparse.ArgumentParser, *aliases: str) -> None:
    """The `--models-dir DIR` option (repeatable), as run, validate, serve, gui and models take it."""
    parser.add_argument("--models-dir", *aliases, dest="models_dir", action="append", default=[], metavar="DIR",
                        help=f"a models folder laid out like ComfyUI's (diffusion_models/, text_encoders/, vae/, "
                             f"loras/, ...): file params take names from it (repeatable; {ENV} adds more)")


def configure(folders: Sequence[str]) -> None:
    """Configure the folders given on a command line, after checking each is a folder (ValidationError if not)."""
    from .errors import ValidationError

    problems = folder_problems(folders)
    if problems:
        raise ValidationError(problems)
    set_models_dirs(folders)
