"""Byte sizes: parsing '8M', and the memory limit that validation holds a node's frames to."""

from __future__ import annotations

import os
import re

MEMORY_LIMIT_ENV = "KINOGRAPH_MEMORY_LIMIT"
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """'8MiB', '512k', '1.5G', '1048576' as bytes (K, M, G, T are powers of 1024); ValueError when not a size."""
    found = _SIZE.match(text)
    if not found:
        raise ValueError(f"{text!r} is not a size; give bytes or a number with K, M, G or T (e.g. 8M)")
    return int(float(found.group(1)) * 1024 ** " kmgt".index(found.group(2).lower() or " "))


def show_size(size: float) -> str:
    """'1.5 GiB', '800 MiB', '512 bytes'."""
    for unit, scale in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{int(size)} bytes"


def physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not POSIX: assume a modest machine
        return 8 << 30


def memory_limit() -> tuple[int, str]:
    """(bytes, where it comes from): $KINOGRAPH_MEMORY_LIMIT when set (e.g. 48G), else half this machine's memory."""
    text = os.environ.get(MEMORY_LIMIT_ENV, "").strip()
    if text:
        try:
            return parse_size(text), f"${MEMORY_LIMIT_ENV}"
        except ValueError:
            pass  # a typo must not lift the limit: fall back to the default
    return physical_memory() // 2, "half of this machine's memory"


def frame_problem(width: int, height: int, what: str) -> str | None:
    """Why (width x height) RGB frames from `what` cannot be held in memory, or None when they can."""
    limit, origin = memory_limit()
    needed = width * height * 3
    if needed <= limit:
        return None
    return (f"{what} has {width}x{height} frames, {show_size(needed)} each, above the memory limit of "
            f"{show_size(limit)} ({origin}); use a smaller picture, or raise the limit with {MEMORY_LIMIT_ENV} "
            f"(e.g. {MEMORY_LIMIT_ENV}=64G)")
