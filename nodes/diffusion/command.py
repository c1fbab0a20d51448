"""`kinograph models`: the video models on this machine, with family, modes and size."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import catalog
from .families import MODE_NAMES, adapter


def find_models(paths: list[str], include_hf_cache: bool = True) -> list[dict]:
    """Models in the given folders, KINOGRAPH_MODELS and (optionally) the Hugging Face cache."""
    roots = list(paths)
    roots += [p for p in os.environ.get("KINOGRAPH_MODELS", "").split(os.pathsep) if p]
    infos: list[tuple[str, catalog.ModelInfo]] = []
    for root in roots:
        for info in catalog.scan_folder(Path(root).expanduser()):
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
    help = "list the video models found in the Hugging Face cache and in model folders"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--path", action="append", default=[], metavar="DIR",
                            help="also look in this folder (repeatable; KINOGRAPH_MODELS adds more)")
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
        parser.add_argument("--no-hf-cache", action="store_true", help="skip the Hugging Face cache")

    def run(self, args: argparse.Namespace) -> int:
        missing = [p for p in args.path if not Path(p).expanduser().is_dir()]
        if missing:
            print(f"kinograph models: --path {missing[0]!r} is not a folder; check the path", file=sys.stderr)
            return 2
        rows = find_models(args.path, include_hf_cache=not args.no_hf_cache)
        if args.json:
            print(json.dumps(rows, indent=2))
            return 0
        if not rows:
            print("no video models found; download one with e.g. "
                  f"'{catalog.fetch_command('Wan-AI/Wan2.1-T2V-1.3B-Diffusers')}' or pass --path DIR")
            return 0
        headers = ("MODEL", "FAMILY", "MODES", "SIZE")
        table = [(r["name"], r["family"], ", ".join(r["modes"]), human_size(r["size_bytes"])) for r in rows]
        widths = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(headers)]
        for row in (headers, *table):
            print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        return 0


COMMAND = ModelsCommand()
