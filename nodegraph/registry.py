"""The node registry: built-in and third-party node packs, found through entry points."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from .node import Node
from .services import Services

log = logging.getLogger("kinograph.registry")

ENTRY_POINT_GROUP = "kinograph.nodes"
CATEGORY_ORDER = ("Input/Output", "Conditioning", "Dynamics", "Rendering", "Upscaling", "Evaluation", "Utility")

# Reads the workflow embedded in a media file: returns JSON text or None.
WorkflowReader = Callable[[Path], "str | None"]


class NodeRegistry:
    """Maps type ids (and their aliases) to node classes."""

    def __init__(self) -> None:
        self._nodes: dict[str, type[Node]] = {}
        self._aliases: dict[str, str] = {}
        self.workflow_readers: list[WorkflowReader] = []
        self.services = Services()  # what packs offer the editor, the CLI and the server, e.g. check_quality
        self.pack_errors: list[str] = []
        self.packs: list[str] = []

    # -- registration ---------------------------------------------------------------

    def register(self, cls: type[Node]) -> type[Node]:
        if not (isinstance(cls, type) and issubclass(cls, Node)):
            raise TypeError(f"{cls!r} is not a Node subclass")
        if not cls.type_id:
            raise ValueError(f"{cls.__name__} has no type_id")
        existing = self._nodes.get(cls.type_id)
        if existing is not None and existing is not cls:
            owner = f"{existing.__module__}.{existing.__name__}"
            raise ValueError(f"type id {cls.type_id!r} is already registered by {owner}")
        self._nodes[cls.type_id] = cls
        for alias in cls.aliases:
            self._aliases[alias] = cls.type_id
        return cls

    def register_all(self, classes: Iterable[type[Node]]) -> None:
        for cls in classes:
            self.register(cls)

    def add_workflow_reader(self, reader: WorkflowReader) -> None:
        self.workflow_readers.append(reader)

    def load_entry_points(self) -> None:
        """Load every node pack in the `kinograph.nodes` entry-point group."""
        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            try:
                self.load_pack(ep.load(), ep.name)
            except Exception as exc:  # a broken pack must not take the app down
                message = f"node pack {ep.name!r} ({ep.value}) failed to load: {exc}"
                log.warning(message)
                self.pack_errors.append(message)

    def load_pack(self, target: Any, name: str) -> None:
        """A pack is a `register(registry)` callable or a module with a NODES sequence."""
        if callable(target) and not isinstance(target, type):
            target(self)
        elif hasattr(target, "register"):
            target.register(self)
        elif hasattr(target, "NODES"):
            self.register_all(target.NODES)
        else:
            raise TypeError("entry point must be a register(registry) function or a module with NODES")
        self.packs.append(name)

    # -- lookup ---------------------------------------------------------------------

    def canonical(self, type_id: str) -> str:
        return self._aliases.get(type_id, type_id)

    def get(self, type_id: str) -> type[Node] | None:
        cls = self._nodes.get(type_id)  # the common case: a current id, looked up once
        return cls if cls is not None else self._nodes.get(self._aliases.get(type_id, type_id))

    def __contains__(self, type_id: str) -> bool:
        return self.get(type_id) is not None

    def __iter__(self):
        return iter(sorted(self._nodes.values(), key=lambda c: c.type_id))

    def __len__(self) -> int:
        return len(self._nodes)

    def suggest(self, type_id: str) -> str | None:
        """The closest registered type id, for 'did you mean' messages."""
        names = list(self._nodes) + list(self._aliases)
        match = difflib.get_close_matches(type_id, names, n=1, cutoff=0.5)
        if match:
            return self.canonical(match[0])
        lowered = type_id.lower()
        for name in names:
            if lowered and (lowered in name or name.endswith(lowered.split(".")[-1])):
                return self.canonical(name)
        return None

    def by_category(self) -> list[tuple[str, list[type[Node]]]]:
        """Categories in pipeline order, each with its nodes sorted by name."""
        groups: dict[str, list[type[Node]]] = {}
        for cls in self:
            groups.setdefault(cls.category, []).append(cls)
        order = {c: i for i, c in enumerate(CATEGORY_ORDER)}
        return [
            (cat, sorted(groups[cat], key=lambda c: c.display_name()))
            for cat in sorted(groups, key=lambda c: (order.get(c, len(order)), c))
        ]

    def read_embedded_workflow(self, path: Path) -> str | None:
        for reader in self.workflow_readers:
            try:
                text = reader(path)
            except Exception as exc:
                log.debug("workflow reader %r failed on %s: %s", reader, path, exc)
                continue
            if text:
                return text
        return None


_default: NodeRegistry | None = None


def default_registry() -> NodeRegistry:
    """The process-wide registry with every installed node pack loaded."""
    global _default
    if _default is None:
        registry = NodeRegistry()
        registry.load_entry_points()
        _default = registry
    return _default
