"""The run history: every finished run of the editor with its graph, status, time, files and a thumbnail,
kept on disk across restarts (newest first, the last HISTORY_LIMIT runs)."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nodegraph.workflow import atomic_write_text

HISTORY_LIMIT = 200


@dataclass
class HistoryEntry:
    """One finished run: `workflow` and `thumbnail` are file names inside the history folder."""

    id: str
    finished: float
    status: str
    seconds: float
    name: str
    files: list[str] = field(default_factory=list)
    workflow: str = ""
    thumbnail: str = ""
    error: str = ""


class RunHistory:
    """The history folder: `index.json` and, per run, its workflow (`<id>.json`) and thumbnail (`<id>.png`)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._entries: list[HistoryEntry] | None = None

    def entries(self) -> list[HistoryEntry]:
        """Newest first. A missing or unreadable index is an empty history, never an error."""
        if self._entries is None:
            try:
                data = json.loads((self.folder / "index.json").read_text(encoding="utf-8"))
                self._entries = [HistoryEntry(**item) for item in data if isinstance(item, dict)]
            except (OSError, ValueError, TypeError):
                self._entries = []
        return list(self._entries)

    def record(self, *, status: str, seconds: float, name: str, files: list[str], workflow_json: str,
               thumbnail=None, error: str = "") -> HistoryEntry:
        """Keep a finished run; `thumbnail` is a QImage (or None)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        run_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        entry = HistoryEntry(run_id, time.time(), status, round(seconds, 3), name, [str(f) for f in files],
                             f"{run_id}.json", "", error)
        atomic_write_text(self.folder / entry.workflow, workflow_json)
        if thumbnail is not None and not thumbnail.isNull() and thumbnail.save(str(self.folder / f"{run_id}.png")):
            entry.thumbnail = f"{run_id}.png"
        entries = [entry] + self.entries()
        for old in entries[HISTORY_LIMIT:]:
            for name in (old.workflow, old.thumbnail):
                if name:
                    (self.folder / name).unlink(missing_ok=True)
        self._entries = entries[:HISTORY_LIMIT]
        atomic_write_text(self.folder / "index.json", json.dumps([asdict(e) for e in self._entries], indent=1))
        return entry

    def workflow_text(self, entry: HistoryEntry) -> str:
        return (self.folder / entry.workflow).read_text(encoding="utf-8")

    def thumbnail_path(self, entry: HistoryEntry) -> Path | None:
        path = self.folder / entry.thumbnail if entry.thumbnail else None
        return path if path is not None and path.is_file() else None
