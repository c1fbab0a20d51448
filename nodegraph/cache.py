"""Caches: node outputs keyed by content (with a memory budget) and loaded resources."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

DEFAULT_OUTPUT_BUDGET = 4 * 1024**3


def value_nbytes(value: Any) -> int:
    """Bytes a value holds in memory, as far as the engine can tell without importing torch."""
    if isinstance(value, dict):
        return sum(value_nbytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(value_nbytes(v) for v in value)
    cache_size = getattr(value, "cache_nbytes", None)
    if callable(cache_size):
        return int(cache_size())
    size = getattr(value, "nbytes", None)
    if isinstance(size, int):
        return size
    return 64


class OutputCache:
    """Least-recently-used node outputs under a memory budget, keyed by content hash."""

    def __init__(self, budget_bytes: int = DEFAULT_OUTPUT_BUDGET):
        self.budget_bytes = budget_bytes
        self._entries: OrderedDict[str, tuple[dict[str, Any], int]] = OrderedDict()
        self._files: dict[str, tuple[Path, ...]] = {}  # the files an entry's node wrote, for output nodes
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: str, outputs: dict[str, Any], files: Iterable[Path] = ()) -> None:
        """Keep `outputs`; `files` are what the node wrote, so a hit can be refused once they are gone."""
        size = value_nbytes(outputs)
        with self._lock:
            old = self._entries.pop(key, None)
            self._files.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            if size > self.budget_bytes:
                return  # larger than the whole budget: do not flush everything for it
            self._entries[key] = (outputs, size)
            if files:
                self._files[key] = tuple(files)
            self._bytes += size
            while self._bytes > self.budget_bytes and self._entries:
                dropped_key, (_, dropped) = self._entries.popitem(last=False)
                self._files.pop(dropped_key, None)
                self._bytes -= dropped

    def files(self, key: str) -> tuple[Path, ...]:
        """The files the node of a cached entry wrote when it ran (none for most nodes)."""
        return self._files.get(key, ())

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        return self._bytes

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._files.clear()
            self._bytes = 0


class ResourceCache:
    """Loaded models and other heavy handles, shared across runs, kept apart from outputs.

    `get_or_load(key, loader)` loads once per key; at most `max_items` stay loaded, the
    least recently used is released first (its `release()` is called when it has one).
    """

    def __init__(self, max_items: int = 2):
        self.max_items = max_items
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.RLock()
        self.loads = 0

    def get_or_load(self, key: str, loader: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = loader()
        with self._lock:
            self.loads += 1
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                _, old = self._items.popitem(last=False)
                release = getattr(old, "release", None)
                if callable(release):
                    release()
        return value

    def get(self, key: str) -> Any:
        with self._lock:
            return self._items.get(key)

    def __contains__(self, key: str) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            items = list(self._items.values())
            self._items.clear()
        for item in items:
            release = getattr(item, "release", None)
            if callable(release):
                release()
