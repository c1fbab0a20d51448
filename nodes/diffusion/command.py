"""`kinograph models`: the video models on this machine, with family, modes and size."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from nodegraph.api import models_dir

from . import catalog
from .families import MODE_NAMES, adapter


def find_models(paths: list[str], include_hf_cache: bool = True) -> list[dict]:
    """Diffusers-layout models in the given folders and KINOGRAPH_MODELS (and optionally the Hugging Face cache),
    then the files of the models folders by kind (diffusion_models/, text_encoders/, vae/, loras/, ...)."""
    roots = list(dict.fromkeys([*map(Path, paths), *models_dir.parse_folders(os.environ.get(models_dir.ENV, ""))]))
    infos: list[tuple[str, catalog.ModelInfo]] = []
    for root in roots:
        for info in catalog.scan_folder(root.expanduser()):
            infos.append(("folder", info))
    if include_hf_cache:
        infos += [("hf-cache", info) for info in catalog.scan_hf_cache()]
    rows = []
    for where, info in infos:
        rows.append({
            "name": info.name if where == "hf-cache" else str(info.folder),
            "family": info.family,
            "family_title": adapter(info.family).title,
            "pipeline": info.model_index.get("_class_name", ""),
            "modes": [MODE_NAMES[m] for m in info.modes],
            "size_bytes": info.size_bytes(),
            "path": str(info.folder),
            "where": where,
        })
    listed = {row["path"] for row in rows}
    for root in roots:
        for kind in models_dir.KINDS:
            for file in models_dir.list_files(kind, [root.expanduser()]):
                if str(file.path) in listed:  # a pipeline in diffusers/: in the table above already
                    continue
                rows.append({"name": file.name, "kind": kind, "family": None, "family_title": "", "pipeline": "",
                             "modes": [], "size_bytes": file.size_bytes, "path": str(file.path),
                             "where": "models-folder", "root": str(root)})
    return rows


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"  # pragma: no cover


class ModelsCommand:
    name = "models"
    help = "list the video models in the Hugging Face cache and the models folders (by kind, with sizes)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        models_dir.add_argument(parser, "--path")
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
        parser.add_argument("--no-hf-cache", action="store_true", help="skip the Hugging Face cache")

    def run(self, args: argparse.Namespace) -> int:
        problems = models_dir.folder_problems(args.models_dir)
        if problems:
            print(f"kinograph models: {problems[0]}", file=sys.stderr)
            return 2
        rows = find_models(args.models_dir, include_hf_cache=not args.no_hf_cache)
        if args.json:
            print(json.dumps(rows, indent=2))
            return 0
        if not rows:
            print("no video models found; download one with e.g. "
                  f"'{catalog.fetch_command('Wan-AI/Wan2.1-T2V-1.3B-Diffusers')}' or name a models folder with "
                  f"--models-dir DIR (or {models_dir.ENV})")
            return 0
        pipelines = [r for r in rows if r["where"] != "models-folder"]
        files = [r for r in rows if r["where"] == "models-folder"]
        if pipelines:
            print_table(("MODEL", "FAMILY", "MODES", "SIZE"),
                        [(r["name"], r["family"], ", ".join(r["modes"]), human_size(r["size_bytes"]))
                         for r in pipelines])
        if files:
            if pipelines:
                print()
            roots = sorted({r["root"] for r in files})
            print(f"In the models folder{'s' if len(roots) > 1 else ''} {', '.join(roots)} (file params take these "
                  "names):")
            many = len(roots) > 1  # then say which folder each is in: a name in two is ambiguous
            print_table(("KIND", "NAME", "SIZE") + (("FOLDER",) if many else ()),
                        [(r["kind"], r["name"], human_size(r["size_bytes"])) + ((r["root"],) if many else ())
                         for r in files])
        return 0


def print_table(headers: tuple[str, ...], table: list[tuple[str, ...]]) -> None:
    widths = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(headers)]
    for row in (headers, *table):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


COMMAND = ModelsCommand()
