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


LIGHT_RESOURCE_BYTES = 512 * 1024**2  # below this a loaded resource is light (an upscaler, RIFE, a small depth model)
LIGHT_RESOURCES_BUDGET = 1536 * 1024**2  # what the light ones may hold together


def parameter_nbytes(*modules: Any) -> int:
    """Bytes of the parameters and buffers of torch modules, asked without importing torch."""
    total = 0
    for module in modules:
        for kind in ("parameters", "buffers"):
            tensors = getattr(module, kind, None)
            if callable(tensors):
                total += sum(t.numel() * t.element_size() for t in tensors())
    return total


def resource_nbytes(value: Any) -> int | None:
    """What a loaded resource holds: its own `resource_nbytes()`, a torch module's parameters, or None (unknown)."""
    own = getattr(value, "resource_nbytes", None)
    if callable(own):
        return int(own())
    if callable(getattr(value, "parameters", None)):
        return parameter_nbytes(value)
    return None


class ResourceCache:
    """Loaded models and other heavy handles, shared across runs, kept apart from outputs.

    `get_or_load(key, loader)` loads once per key; at most `max_items` heavy ones stay loaded (a diffusion model,
    anything whose size is unknown), the least recently used released first (its `release()` is called when it has
    one). Light ones (under LIGHT_RESOURCE_BYTES: upscalers, RIFE, small depth models) do not count against that:
    they stay while together they hold at most LIGHT_RESOURCES_BUDGET, so a workflow of a diffusion model, a depth
    model, an upscaler and RIFE does not load its diffusion model again on every run.
    """

    def __init__(self, max_items: int = 2, light_budget: int = LIGHT_RESOURCES_BUDGET):
        self.max_items = max_items
        self.light_budget = light_budget
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._light: dict[str, int] = {}  # key -> bytes, for the light items
        self._lock = threading.RLock()
        self.loads = 0

    def get_or_load(self, key: str, loader: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = loader()
        size = resource_nbytes(value)
        with self._lock:
            self.loads += 1
            self._items[key] = value
            self._items.move_to_end(key)
            if size is not None and size < LIGHT_RESOURCE_BYTES:
                self._light[key] = size
            else:
                self._light.pop(key, None)
            released = self._over_limits()
        for old in released:
            release = getattr(old, "release", None)
            if callable(release):
                release()
        return value

    def _over_limits(self) -> list[Any]:
        """Take out the least recently used heavy items beyond `max_items` and light ones beyond the budget."""
        heavy = [k for k in self._items if k not in self._light]
        out = [self._items.pop(k) for k in heavy[:max(0, len(heavy) - self.max_items)]]
        light = [k for k in self._items if k in self._light]
        held = sum(self._light[k] for k in light)
        for k in light[:-1]:  # the newest stays whatever it holds
            if held <= self.light_budget:
                break
            held -= self._light.pop(k)
            out.append(self._items.pop(k))
        return out

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
            self._light.clear()
        for item in items:
            release = getattr(item, "release", None)
            if callable(release):
                release()
