"""Read a ComfyUI workflow from a file: JSON text, or the workflow ComfyUI embeds in the PNG, WebP, MP4 or WebM files
it saves (PNG text chunks, WebP EXIF fields, container metadata)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .errors import ComfyImportError

MAX_JSON_BYTES = 64 * 1024 * 1024  # a workflow read whole (images and videos have only their metadata read)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
VIDEO_SUFFIXES = (".mp4", ".webm", ".mov", ".mkv", ".m4v")
KEYS = ("workflow", "prompt")  # the UI workflow first: it has positions, groups and notes


def read_file(path: str | os.PathLike) -> tuple[Any, str]:
    """The workflow data in `path` and where it came from ('json', 'png', 'webp', 'video')."""
    path = Path(path)
    shown = str(path)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise ComfyImportError("is a folder; give a ComfyUI workflow (.json) or an image or video ComfyUI saved",
                                   source=shown)
    except OSError:
        raise ComfyImportError("file not found; check the path", source=shown) from None
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise ComfyImportError(f"cannot read the file: {exc.strerror or exc}", source=shown) from None
    if head.startswith(PNG_MAGIC):
        return _from_texts(_png_texts(path, shown), shown, "PNG"), "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _from_texts(_webp_texts(path, shown), shown, "WebP"), "webp"
    if path.suffix.lower() in VIDEO_SUFFIXES or head[4:8] == b"ftyp" or head[:4] == b"\x1aE\xdf\xa3":
        return _from_texts(_video_texts(path, shown), shown, "video"), "video"
    if size > MAX_JSON_BYTES:
        raise ComfyImportError(f"the file is {size / 2**20:.0f} MiB, too large for a workflow (at most "
                               f"{MAX_JSON_BYTES // 2**20} MiB); give a ComfyUI workflow, image or video", source=shown)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        raise ComfyImportError("neither JSON text nor a PNG, WebP or video ComfyUI saved", source=shown) from None
    return parse_json(text, shown), "json"


def parse_json(text: str, source: str | None = None) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise ComfyImportError("not valid JSON: nested too deeply", source=source) from None
    except ValueError as exc:
        where = f" at line {exc.lineno}, column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        msg = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise ComfyImportError(f"not valid JSON: {msg}{where}", source=source) from None


def _from_texts(texts: dict[str, str], source: str, kind: str) -> Any:
    """The workflow among an image's or video's text fields (the UI workflow before the API prompt)."""
    lowered = {key.lower(): value for key, value in texts.items()}
    for key in KEYS:
        if key in lowered:
            return parse_json(lowered[key], source)
    comment = lowered.get("comment")  # some writers keep {"workflow": ..., "prompt": ...} in one comment
    if comment:
        try:
            data = json.loads(comment)
        except (ValueError, RecursionError):
            data = None
        if isinstance(data, dict):
            for key in KEYS:
                if key in data:
                    value = data[key]
                    return parse_json(value, source) if isinstance(value, str) else value
    raise ComfyImportError(f"this {kind} carries no ComfyUI workflow (no 'workflow' or 'prompt' in its metadata); "
                           "ComfyUI embeds one unless it ran with --disable-metadata", source=source)


def _png_texts(path: Path, source: str) -> dict[str, str]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return {str(k): v for k, v in getattr(image, "text", {}).items() if isinstance(v, str)}
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as exc:
        raise ComfyImportError(f"cannot read this PNG: {exc}", source=source) from None


def _webp_texts(path: Path, source: str) -> dict[str, str]:
    """ComfyUI writes 'workflow:{...}' and 'prompt:{...}' into EXIF fields of the WebPs it saves."""
    from PIL import Image, UnidentifiedImageError

    texts: dict[str, str] = {}
    try:
        with Image.open(path) as image:
            exif = image.getexif()
            values = list(exif.values())
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as exc:
        raise ComfyImportError(f"cannot read this WebP: {exc}", source=source) from None
    for value in values:
        if isinstance(value, bytes):
            value = value.decode("utf-8", errors="replace")
        if isinstance(value, str):
            key, sep, rest = value.partition(":")
            if sep and key.strip().lower() in KEYS:
                texts.setdefault(key.strip().lower(), rest.rstrip("\x00"))
    return texts


def _video_texts(path: Path, source: str) -> dict[str, str]:
    import av

    try:
        with av.open(str(path)) as container:
            texts = dict(container.metadata)
            for stream in container.streams:
                for key, value in stream.metadata.items():
                    texts.setdefault(key, value)
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise ComfyImportError(f"cannot read this video: {exc}", source=source) from None
    return {str(k): v for k, v in texts.items() if isinstance(v, str)}


def is_comfyui_file(path: str | os.PathLike) -> bool:
    """Whether `path` holds a ComfyUI workflow (JSON, or in an image's or video's metadata), not a Kinograph one."""
    try:
        data, _kind = read_file(path)
    except ComfyImportError:
        return False
    if isinstance(data, dict) and isinstance(data.get("workflow"), dict):
        data = data["workflow"]
    if not isinstance(data, dict) or data.get("format") == "kinograph.workflow":
        return False
    return isinstance(data.get("nodes"), list) or bool(data) and all(
        isinstance(v, dict) and "class_type" in v for v in data.values())
