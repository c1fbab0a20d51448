"""Where a workflow may write and read: the one rule for output names, and input folders when confined."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from . import models_dir
from .errors import Issue, UsageError
from .params import resolve_params

if TYPE_CHECKING:
    from .graph import Graph
    from .registry import NodeRegistry

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DRIVE = re.compile(r"^[A-Za-z]:")
_PLAIN_NAME = "use a name relative to the output folder, such as 'video.mp4' or 'shots/video.mp4'"


def output_name_problem(name: object) -> str | None:
    """None when `name` may name an output (a plain relative path that stays in the output folder), else why not.

    Refused: control characters (a newline, tab or NUL), absolute paths (also 'C:...' and '\\\\server'), a leading
    '~', and any '..' part. Backslashes count as separators, as some nodes and other systems read them so."""
    if not isinstance(name, str):
        return None
    if _CONTROL.search(name):
        return f"{name!r} holds a control character (a newline, tab or NUL); remove it"
    text = name.replace("\\", "/")
    if text.startswith("/") or _DRIVE.match(text):
        return f"{name!r} is an absolute path, and outputs stay in the output folder; {_PLAIN_NAME}"
    parts = text.split("/")
    if parts[0].startswith("~"):
        return f"{name!r} names a home folder, and outputs stay in the output folder; {_PLAIN_NAME}"
    if ".." in parts:
        return f"{name!r} climbs out of the output folder with '..'; {_PLAIN_NAME}"
    return None


def symlink_problem(folder: Path, name: str) -> str | None:
    """None when `folder/name` stays inside `folder` with every existing symbolic link followed, else why not."""
    root = os.path.realpath(folder)
    target = os.path.realpath(os.path.join(folder, name))
    if target == root or target.startswith(root.rstrip(os.sep) + os.sep):
        return None
    return (f"{name!r} leads out of the output folder {str(folder)!r} through a symbolic link (to {target!r}); "
            "remove the link or choose another name")


def confined_output(folder: Path, name: str) -> Path:
    """`folder/name` when the output-name rule allows it (symbolic links included); UsageError when not."""
    problem = output_name_problem(name) or symlink_problem(folder, name)
    if problem:
        raise UsageError(problem)
    return folder / name


def is_inside(path: str | Path, root: Path) -> bool:
    """True when `path` lies within `root`, symbolic links in either resolved."""
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(root))
        return True
    except ValueError:
        return False


def readable_folders(input_dirs: list[Path]) -> list[Path]:
    """Where file params may read when confined: the input folders, then the models folders (models_dir.py)."""
    return [*input_dirs, *(d for d in models_dir.models_dirs() if d not in input_dirs)]


def confinement_issues(graph: Graph, registry: NodeRegistry, scope: Iterable[str], *,
                       output_dir: Path | None = None, input_dirs: list[Path] | None = None) -> list[Issue]:
    """Path params of the nodes in `scope` that leave their folders: output names that a symbolic link leads out
    of `output_dir`, and (when `input_dirs` is given: a server) file params outside the input and models folders,
    or fed by a link. Looks only inside the allowed folders, so the answer says nothing about files elsewhere."""
    issues: list[Issue] = []
    writes = False
    readable = readable_folders(input_dirs) if input_dirs is not None else []
    allowed = ", ".join(str(d) for d in readable) or "none configured (start the server with --input-dir)"
    for node_id in scope:
        node = graph.nodes.get(node_id)
        cls = registry.get(node.type) if node is not None else None
        if cls is None:
            continue
        effective = resolve_params(graph, node_id, cls)
        linked = effective.linked
        writes = writes or cls.is_output
        for param in cls.params:
            if not param.is_path and param.kind != "save_path":
                continue
            if param.name in linked:
                if input_dirs is not None:
                    issues.append(Issue(f"a file param may not be fed by a link in server mode (from "
                                        f"{linked[param.name].from_ref}); set the path directly", node.id, param.name))
                continue
            value = effective.stated[param.name]
            if not isinstance(value, str) or not value:
                continue
            if param.kind == "save_path":
                writes = True
                problem = output_name_problem(value) or (symlink_problem(output_dir, value) if output_dir else None)
                if problem:
                    issues.append(Issue(problem, node.id, param.name))
                continue
            if input_dirs is None:
                continue
            if "\x00" in value:
                issues.append(Issue(f"{value!r} holds a NUL character; remove it", node.id, param.name))
                continue
            beside = graph.resolve_path(value)
            # Judged where the run will read it (beside the workflow, else a models-folder file of that name, links
            # followed), and looked up only when the place beside it is allowed: no answer tells of files elsewhere.
            if any(is_inside(beside, d) for d in readable) \
                    and any(is_inside(effective.resolved(param.name), d) for d in readable):
                continue
            if param.names_model_id(value, graph.base_dir):
                continue  # a model id names the Hugging Face cache, not a file in the input folders
            issues.append(Issue(f"{value!r} is outside the server's input folders ({allowed}); put the file "
                                "in one of them", node.id, param.name))
    problem = folder_problem(output_dir) if writes and output_dir is not None else None
    if problem:
        issues.append(Issue(problem, field="output folder"))
    return issues


def folder_problem(folder: Path) -> str | None:
    """Why outputs cannot be written in `folder` (or in the folders a run would make for it), or None."""
    existing = Path(os.path.abspath(folder))
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        return f"{str(folder)!r} cannot be made: {str(existing)!r} is a file; choose another output folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{str(existing)!r} is not writable by this user, so outputs cannot go in {str(folder)!r}; choose " \
               "another output folder"
    return None
