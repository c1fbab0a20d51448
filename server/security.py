"""Tokens, bind-address checks and path confinement for the job server."""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path

from nodegraph import models_dir
from nodegraph.errors import Issue
from nodegraph.graph import Graph
from nodegraph.registry import NodeRegistry

TOKEN_FILE = "token"
WEBHOOK_SECRET_FILE = "webhook_secret"


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def load_or_create_secret(folder: Path, name: str = TOKEN_FILE) -> tuple[str, bool]:
    """The secret saved as `folder/name`, or a new one saved there (owner-only). Returns (secret, created)."""
    path = folder / name
    try:
        text = path.read_text(encoding="utf-8").strip()
        if text:
            return text, False
    except FileNotFoundError:
        pass
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    secret = secrets.token_urlsafe(32)
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(secret + "\n")
    return secret, True


def read_saved_token(folder: Path) -> str | None:
    try:
        return (folder / TOKEN_FILE).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def token_matches(header: str | None, token: str) -> bool:
    if not header:
        return False
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and secrets.compare_digest(given.strip().encode(), token.encode())


def inside(path: Path, root: Path) -> bool:
    """True when `path` (symlinks resolved) lies within `root` (symlinks resolved)."""
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except (ValueError, OSError, RuntimeError):
        return False


def resolve_output(root: Path, job_id: str, relative: str) -> Path | None:
    """The file `relative` inside the job's own output folder, or None (traversal, symlink escape, missing)."""
    if not relative or "\x00" in relative or Path(relative).is_absolute() or "\\" in relative:
        return None
    folder = root / job_id
    try:
        folder_real = folder.resolve(strict=True)
        target = (folder / relative).resolve(strict=True)
        target.relative_to(folder_real)
    except (ValueError, OSError, RuntimeError):
        return None
    return target if target.is_file() else None


def readable_folders(input_dirs: list[Path]) -> list[Path]:
    """Where file params may read: the --input-dir folders and the models folders (--models-dir, KINOGRAPH_MODELS)."""
    return [*input_dirs, *(d for d in models_dir.models_dirs() if d not in input_dirs)]


def path_issues(graph: Graph, registry: NodeRegistry, input_dirs: list[Path]) -> list[Issue]:
    """File params that reach outside the readable folders, or save paths that leave the job's folder. A path is
    judged as the run resolves it (`Param.resolve`), so a models-folder name is judged where it is found."""
    issues: list[Issue] = []
    readable = readable_folders(input_dirs)
    allowed = ", ".join(str(d) for d in readable) or "none configured (start the server with --input-dir)"
    for node in graph.nodes.values():
        cls = registry.get(node.type)
        if cls is None:
            continue
        linked = graph.links_into(node.id)
        for param in cls.params:
            if not param.is_path and param.kind != "save_path":
                continue
            if param.name in linked:
                issues.append(Issue(f"a file param may not be fed by a link in server mode (from "
                                    f"{linked[param.name].from_ref}); set the path directly", node.id, param.name))
                continue
            value = node.params.get(param.name, param.default)
            if not isinstance(value, str) or not value:
                continue
            if "\x00" in value:
                issues.append(Issue(f"{value!r} holds a NUL character; remove it", node.id, param.name))
                continue
            if param.kind == "save_path":
                parts = Path(value).parts
                if Path(value).is_absolute() or ".." in parts or value.startswith("~"):
                    issues.append(Issue(f"{value!r} leaves the job's output folder; use a plain relative file "
                                        "name such as 'video.mp4'", node.id, param.name))
                continue
            if param.names_model_id(value, graph.base_dir):
                continue  # a model id names the Hugging Face cache, not a file in the input folders
            full = Path(param.resolve(value, graph.base_dir))
            if not any(inside(full, d) for d in readable):
                issues.append(Issue(f"{value!r} is outside the server's input folders ({allowed}); "
                                    "put the file in one of them", node.id, param.name))
    return issues
