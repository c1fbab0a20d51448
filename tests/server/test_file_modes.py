"""What the server keeps on disk is its owner's alone, and a job's webhook secret cannot be read from the database."""

from __future__ import annotations

import os
import stat

from server.security import seal, unseal
from server.store import JobStore
from tests.server.conftest import wait_for
from tests.server.testnodes import wait_write


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_database_and_its_wal_are_owner_only_in_a_folder_that_already_existed(tmp_path):
    old = os.umask(0o022)
    try:
        tmp_path.chmod(0o755)
        store = JobStore(tmp_path / "jobs.sqlite3")
        store.add(workflow="{}", name="x", priority=0, targets=None)
        files = sorted(p.name for p in tmp_path.iterdir())
        assert files == ["jobs.sqlite3", "jobs.sqlite3-shm", "jobs.sqlite3-wal"]
        assert all(mode(tmp_path / name) == 0o600 for name in files), [oct(mode(tmp_path / n)) for n in files]
        store.close()
        (tmp_path / "jobs.sqlite3").chmod(0o644)  # made by an older version
        JobStore(tmp_path / "jobs.sqlite3").close()
        assert mode(tmp_path / "jobs.sqlite3") == 0o600
    finally:
        os.umask(old)


def test_a_webhook_secret_is_sealed_in_the_database_and_dropped_once_delivered(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    job_id = store.add(workflow="{}", name="x", priority=0, targets=None, webhook_url="http://example.com/hook",
                       webhook_secret=seal("server-key", "s3cret-xyz"))
    on_disk = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"s3cret-xyz" not in on_disk
    stored = store.get(job_id)["webhook_secret"]
    assert unseal("server-key", stored) == "s3cret-xyz" and unseal("another-key", stored) is None
    store.add_webhook_attempt(job_id, {"attempt": 1}, "delivered")
    assert store.get(job_id)["webhook_secret"] is None


def test_job_output_folders_are_owner_only(server, client):
    job = wait_for(client, client.submit(wait_write(filename="mode.txt"))["id"])
    assert mode(server.output_root / job["id"]) == 0o700
