"""Choosing a file or folder for a path param: the one dialog behind the inspector's "…" button and the browse
button of a file widget on a node."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from nodegraph.node import Param

from .models_folders import short_name


def choose_path(parent: QWidget, param: Param, current: str, base_dir: Path | None, output_dir: Path,
                kind: str | None = None) -> tuple[str | None, str | None]:
    """(the value to set, None) after the user picks; (None, None) when they cancel; (None, why) when the pick
    cannot be used (an output outside the output folder). `kind` overrides the param's ("dir" or "path")."""
    kind = kind or param.kind
    start = param.resolve(current, base_dir) if current else str(base_dir or "")
    if param.names_model_id(start, base_dir):
        start = str(base_dir or "")
    if kind == "dir":
        path = QFileDialog.getExistingDirectory(parent, param.name, start)
    elif kind == "save_path":  # outputs are named inside the output folder, never anywhere else
        folder = Path(output_dir).resolve()
        path, _ = QFileDialog.getSaveFileName(parent, param.name, str(folder / (current or "")), param.file_filter)
        if path:
            try:
                return Path(path).resolve().relative_to(folder).as_posix(), None
            except ValueError:
                return None, (f"outputs are written into the output folder ({folder}); choose a name there, or a "
                              "subfolder of it")
    else:
        path, _ = QFileDialog.getOpenFileName(parent, param.name, start, param.file_filter)
    if not path:
        return None, None
    return (short_name(param, path) if param.models else path), None


def model_kind_menu(parent: QWidget, choose) -> QMenu:
    """For a model param (a Diffusers folder or a single checkpoint file): Folder… / File…, each calling
    `choose(kind)`."""
    menu = QMenu(parent)
    menu.addAction("Folder…", lambda: choose("dir"))
    menu.addAction("File…", lambda: choose("path"))
    return menu
