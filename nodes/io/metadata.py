"""The workflow embedded in saved files: a container tag in videos and sound files (a WAV's comment), an iTXt
chunk in PNGs."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

WORKFLOW_KEY = "kinograph_workflow"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_MAX_PNG_SCAN = 256 * 1024 * 1024


def is_workflow_json(text: str | None) -> bool:
    """True when `text` is JSON of a Kinograph workflow (not just any comment)."""
    if not text:
        return False
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(data, dict) and data.get("format") == "kinograph.workflow"


def read_embedded_workflow(path: str | Path) -> str | None:
    """The workflow JSON stored in a video, sound file or PNG that Kinograph saved, or None."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError:
        return None
    if head == PNG_SIGNATURE:
        text = _png_text(path, WORKFLOW_KEY)
    else:
        text = _container_tag(path, WORKFLOW_KEY)
    return text if is_workflow_json(text) else None


def _container_tag(path: Path, key: str) -> str | None:
    import av

    try:
        container = av.open(str(path))
    except Exception:  # not a media file PyAV can open
        return None
    with container:
        tables = [container.metadata] + [s.metadata for s in container.streams]
        for table in tables:
            for name, value in table.items():
                if name.lower() == key:  # Matroska upper-cases tag names
                    return value
        comment = container.metadata.get("comment")  # a WAV keeps it there (read_embedded_workflow checks it)
    return comment if comment and comment.lstrip().startswith("{") else None


# -- PNG text chunks -----------------------------------------------------------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_with_text(png: bytes, key: str, text: str) -> bytes:
    """`png` with an uncompressed UTF-8 iTXt chunk `key` = `text` placed right after IHDR."""
    if png[:8] != PNG_SIGNATURE or png[12:16] != b"IHDR":
        raise ValueError("not a PNG stream")
    ihdr_end = 8 + 12 + struct.unpack(">I", png[8:12])[0]
    data = key.encode("latin-1") + b"\x00\x00\x00" + b"\x00" + b"\x00" + text.encode("utf-8")
    return png[:ihdr_end] + _chunk(b"iTXt", data) + png[ihdr_end:]


def _png_text(path: Path, key: str) -> str | None:
    want = key.encode("latin-1")
    with path.open("rb") as fh:
        fh.read(8)
        scanned = 0
        while scanned < _MAX_PNG_SCAN:
            header = fh.read(8)
            if len(header) < 8:
                return None
            length, kind = struct.unpack(">I", header[:4])[0], header[4:]
            if kind in (b"IDAT", b"IEND"):
                return None  # text chunks Kinograph writes come before the image data
            body = fh.read(length)
            fh.read(4)
            scanned += length + 12
            if kind == b"iTXt":
                name, _, rest = body.partition(b"\x00")
                if name == want and len(rest) >= 2 and rest[0] == 0:
                    _lang, _, rest = rest[2:].partition(b"\x00")
                    _translated, _, payload = rest.partition(b"\x00")
                    return payload.decode("utf-8", errors="replace")
            elif kind == b"tEXt":
                name, _, payload = body.partition(b"\x00")
                if name == want:
                    return payload.decode("latin-1")
    return None
