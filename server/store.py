"""The job store: one SQLite database in WAL mode, safe to share between threads."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any

STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
TERMINAL = ("succeeded", "failed", "cancelled")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    workflow TEXT NOT NULL,
    targets TEXT,
    submitted_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    reruns INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    notes TEXT NOT NULL DEFAULT '[]',
    nodes TEXT NOT NULL DEFAULT '{}',
    outputs TEXT NOT NULL DEFAULT '[]',
    error TEXT,
    webhook_url TEXT,
    webhook_secret TEXT,
    webhook_state TEXT,
    webhook_attempts TEXT NOT NULL DEFAULT '[]',
    quality TEXT
);
CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (status, priority DESC, seq);
"""

_JSON_FIELDS = ("notes", "nodes", "outputs", "webhook_attempts", "targets", "quality")
# Columns added after the first release, with their definitions: a database made before gets them on opening.
_ADDED_COLUMNS = {"quality": "TEXT"}


def default_data_dir() -> Path:
    """The per-user folder for the server's database, token and outputs."""
    if os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "kinograph" / "server"


def owner_only(path: Path) -> None:
    """Make a file this server owns readable and writable by its owner alone (when it exists)."""
    try:
        os.chmod(path, 0o600)
    except FileNotFoundError:
        pass


def new_job_id() -> str:
    return uuid.uuid4().hex[:16]


class JobStore:
    """Jobs with their status, priority, timestamps, per-node state, outputs, errors and webhook attempts."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self.path.exists():  # created owner-only: SQLite gives its WAL and shared-memory files the same mode
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        have = {row["name"] for row in self._db.execute("PRAGMA table_info(jobs)")}
        for column, definition in _ADDED_COLUMNS.items():
            if column not in have:
                self._db.execute(f"ALTER TABLE jobs ADD COLUMN {column} {definition}")
        for suffix in ("", "-wal", "-shm"):  # a database made by an older version, or with a loose umask
            owner_only(self.path.with_name(self.path.name + suffix))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- helpers ----------------------------------------------------------------------

    def _execute(self, sql: str, args: tuple = ()) -> None:
        with self._lock:
            self._db.execute(sql, args)

    def _query(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        """Rows fetched while holding the lock (the connection is shared between threads)."""
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    @staticmethod
    def _row(row: sqlite3.Row | None) -> dict[str, Any] | None:
        if row is None:
            return None
        job = dict(row)
        for key in _JSON_FIELDS:
            if job.get(key) is not None:
                job[key] = json.loads(job[key])
        return job

    # -- writing ----------------------------------------------------------------------

    def add(self, *, workflow: str, name: str = "", priority: int = 0, targets: list[str] | None = None,
            webhook_url: str | None = None, webhook_secret: str | None = None,
            quality: dict | None = None) -> str:
        job_id = new_job_id()
        self._execute(
            "INSERT INTO jobs (id, name, status, priority, workflow, targets, submitted_at, webhook_url, "
            "webhook_secret, webhook_state, quality) VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?)",
            (job_id, name, priority, workflow, json.dumps(targets) if targets else None, time.time(),
             webhook_url, webhook_secret, "pending" if webhook_url else None,
             json.dumps(quality) if quality is not None else None))
        return job_id

    def claim_next(self) -> dict[str, Any] | None:
        """Move the most urgent queued job (highest priority, then oldest) to running and return it."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    "SELECT seq FROM jobs WHERE status = 'queued' ORDER BY priority DESC, seq LIMIT 1").fetchone()
                if row is None:
                    self._db.execute("COMMIT")
                    return None
                self._db.execute(
                    "UPDATE jobs SET status = 'running', started_at = ?, attempts = attempts + 1, nodes = '{}' "
                    "WHERE seq = ?", (time.time(), row["seq"]))
                job = self._db.execute("SELECT * FROM jobs WHERE seq = ?", (row["seq"],)).fetchone()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return self._row(job)

    def finish(self, job_id: str, status: str, *, nodes: dict, outputs: list[dict], error: str | None) -> None:
        self._execute(
            "UPDATE jobs SET status = ?, finished_at = ?, nodes = ?, outputs = ?, error = ? WHERE id = ?",
            (status, time.time(), json.dumps(nodes), json.dumps(outputs), error, job_id))

    def save_nodes(self, job_id: str, nodes: dict) -> None:
        self._execute("UPDATE jobs SET nodes = ? WHERE id = ? AND status = 'running'", (json.dumps(nodes), job_id))

    def add_note(self, job_id: str, note: str) -> None:
        """Add a line to a job's notes (what happened to it that its status does not say)."""
        with self._lock:
            row = self._db.execute("SELECT notes FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is not None:
                notes = json.loads(row["notes"]) + [note]
                self._db.execute("UPDATE jobs SET notes = ? WHERE id = ?", (json.dumps(notes), job_id))

    def requeue(self, job_id: str, note: str) -> None:
        """Put a running job back in the queue, saying why (it will run again)."""
        with self._lock:
            row = self._db.execute("SELECT notes FROM jobs WHERE id = ?", (job_id,)).fetchone()
            notes = json.loads(row["notes"]) + [note] if row else [note]
            self._db.execute(
                "UPDATE jobs SET status = 'queued', reruns = reruns + 1, notes = ?, started_at = NULL "
                "WHERE id = ? AND status = 'running'", (json.dumps(notes), job_id))

    def recover_interrupted(self) -> list[str]:
        """Jobs left 'running' by a process that died: mark them and queue them again."""
        with self._lock:
            rows = self._db.execute("SELECT id, attempts, notes FROM jobs WHERE status = 'running'").fetchall()
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
            for row in rows:
                notes = json.loads(row["notes"]) + [
                    f"{stamp}: attempt {row['attempts']} was interrupted (the server stopped while it ran); "
                    "queued to run again from the start"]
                self._db.execute(
                    "UPDATE jobs SET status = 'queued', reruns = reruns + 1, notes = ?, started_at = NULL "
                    "WHERE id = ?", (json.dumps(notes), row["id"]))
        return [row["id"] for row in rows]

    def request_cancel(self, job_id: str) -> str | None:
        """Cancel a queued job at once, or flag a running one. Returns the status after, None if unknown."""
        with self._lock:
            row = self._db.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return None
            if row["status"] == "queued":
                self._db.execute("UPDATE jobs SET status = 'cancelled', finished_at = ?, cancel_requested = 1 "
                                 "WHERE id = ?", (time.time(), job_id))
                return "cancelled"
            if row["status"] == "running":
                self._db.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ?", (job_id,))
            return row["status"]

    def add_webhook_attempt(self, job_id: str, attempt: dict, state: str) -> None:
        with self._lock:
            row = self._db.execute("SELECT webhook_attempts FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return
            attempts = json.loads(row["webhook_attempts"]) + [attempt]
            # Once the hook is delivered or given up on, its secret is needed no more: it is not kept.
            self._db.execute("UPDATE jobs SET webhook_attempts = ?, webhook_state = ?, webhook_secret = "
                             "CASE WHEN ? = 'pending' THEN webhook_secret END WHERE id = ?",
                             (json.dumps(attempts), state, state, job_id))

    # -- reading ----------------------------------------------------------------------

    def get(self, job_id: str) -> dict[str, Any] | None:
        rows = self._query("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return self._row(rows[0]) if rows else None

    def list(self, statuses: list[str] | None = None, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """Newest first; without the workflow text."""
        where, args = "", ()
        if statuses:
            where = f"WHERE status IN ({', '.join('?' * len(statuses))})"
            args = tuple(statuses)
        rows = self._query(f"SELECT * FROM jobs {where} ORDER BY seq DESC LIMIT ? OFFSET ?", args + (limit, offset))
        return [self._row(r) for r in rows]

    def counts(self) -> dict[str, int]:
        rows = self._query("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")
        out = dict.fromkeys(STATUSES, 0)
        out.update({r["status"]: r["n"] for r in rows})
        return out

    def pending_webhooks(self) -> list[dict[str, Any]]:
        """Finished jobs whose webhook has not been delivered nor given up on (e.g. after a restart)."""
        rows = self._query(
            "SELECT * FROM jobs WHERE webhook_state = 'pending' AND status IN ('succeeded', 'failed', 'cancelled') "
            "ORDER BY seq")
        return [self._row(r) for r in rows]
