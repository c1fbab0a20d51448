"""`kinograph serve` that cannot start says why in one line, exits 2 and creates nothing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from .conftest import REPO


def serve(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nodegraph.cli", "serve", "--port", "0", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(REPO), "KINOGRAPH_TOKEN": ""})


def everything(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def one_line_exit_2(done: subprocess.CompletedProcess, *words: str) -> None:
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and all(w in lines[0] for w in words), done.stderr


def test_a_db_that_is_a_folder_is_refused_and_nothing_is_written_beside_it(tmp_path):
    (tmp_path / "data").mkdir()
    one_line_exit_2(serve("--db", str(tmp_path / "data"), cwd=tmp_path), "is a folder", "jobs.sqlite3")
    assert everything(tmp_path) == ["data"]


def test_a_db_in_a_missing_or_read_only_folder_is_refused(tmp_path):
    one_line_exit_2(serve("--db", str(tmp_path / "gone" / "jobs.sqlite3"), cwd=tmp_path), "does not exist")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.access(locked, os.W_OK):
        pytest.skip("running as a user who can write anywhere")
    one_line_exit_2(serve("--db", str(locked / "jobs.sqlite3"), cwd=tmp_path), "not writable")
    assert everything(tmp_path) == ["locked"]


def test_a_db_that_is_not_a_database_is_refused(tmp_path):
    (tmp_path / "jobs.sqlite3").write_bytes(b"not a database, just some bytes" * 100)
    one_line_exit_2(serve("--db", str(tmp_path / "jobs.sqlite3"), cwd=tmp_path), "cannot use the database")
    assert everything(tmp_path) == ["jobs.sqlite3"]


def test_a_port_in_use_creates_no_token_and_no_database(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = str(taken.getsockname()[1])
        done = subprocess.run([sys.executable, "-m", "nodegraph.cli", "serve", "--port", port, "--db",
                               str(tmp_path / "jobs.sqlite3")], cwd=tmp_path, capture_output=True, text=True,
                              timeout=60, env={**os.environ, "PYTHONPATH": str(REPO), "KINOGRAPH_TOKEN": ""})
    one_line_exit_2(done, "cannot listen", "pick another --port")
    assert everything(tmp_path) == []
