"""My subgraphs: the user's folder of `.kgsub.json` files, offered in the palette and Tab search."""

from __future__ import annotations

import copy
from pathlib import Path

from nodegraph.errors import Issue
from nodegraph.flatten import instance_class
from nodegraph.registry import NodeRegistry
from nodegraph.subgraphs import FILE_SUFFIX, SubgraphDef, parse_definitions
from nodegraph.workflow import save_subgraph_file

CATEGORY = "My subgraphs"


class SubgraphLibrary:
    """The definitions in `folder()`, read again when a file there changes; broken files are skipped and listed."""

    def __init__(self, registry: NodeRegistry, folder):
        self.registry = registry
        self.folder = folder  # () -> Path
        self._seen: tuple = ()
        self._defs: dict[str, SubgraphDef] = {}
        self.problems: list[Issue] = []

    def _files(self) -> list[Path]:
        folder = self.folder()
        return sorted(folder.glob("*" + FILE_SUFFIX)) if folder.is_dir() else []

    def definitions(self) -> dict[str, SubgraphDef]:
        files = self._files()
        seen = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in files)
        if seen != self._seen:
            entries = {p.name[:-len(FILE_SUFFIX)]: {"path": str(p)} for p in files}
            self.problems = []
            self._defs = parse_definitions(entries, self.registry, None, self.problems)
            self._seen = seen
        return self._defs

    def classes(self) -> list[type]:
        return sorted((instance_class(d, self.registry, category=CATEGORY) for d in self.definitions().values()),
                      key=lambda cls: cls.display_name())

    def copy_of(self, name: str) -> SubgraphDef | None:
        """The definition `name`, to keep in a workflow (its content, not a reference to the user's folder)."""
        defn = self.definitions().get(name)
        if defn is None:
            return None
        twin = copy.deepcopy(defn)
        twin.path = twin.file = None
        return twin

    def save(self, defn: SubgraphDef) -> Path:
        folder = self.folder()
        folder.mkdir(parents=True, exist_ok=True)
        return save_subgraph_file(defn, folder / (defn.name + FILE_SUFFIX), self.registry)
