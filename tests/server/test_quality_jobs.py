"""The server's `quality` job option (issue 25): a job whose first attempt fails the quality check runs again on
the next seed, keeps and lists every attempt's files, and its notes say which attempt passed; bad options are
refused at submission with every problem named."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from nodegraph.registry import NodeRegistry
from server.app import ServerConfig, create_app
from tests.nodes.evaluation.test_retry_on_quality import SeededClip


def seeded(seed: int) -> dict:
    return {"format": "kinograph.workflow", "version": 1, "name": "seeded",
            "nodes": [{"id": "gen", "type": "test.seeded_clip", "params": {"seed": seed}},
                      {"id": "save", "type": "video.save", "params": {"filename": "take.mp4", "preset": "ultrafast"}}],
            "links": [{"from": "gen.video", "to": "save.video"}]}


@pytest.fixture
def api(tmp_path, monkeypatch):
    monkeypatch.setenv("KINOGRAPH_C2PA", "off")
    registry = NodeRegistry()  # not the process-wide one: the test's own node stays here
    registry.load_entry_points()
    registry.register(SeededClip)
    config = ServerConfig(db_path=tmp_path / "jobs.sqlite3", output_root=tmp_path / "out", token=None,
                          registry=registry, device="cpu")
    with TestClient(create_app(config)) as client:
        yield client


def finished(api, job_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish in {timeout}s")


def test_a_job_that_fails_its_first_attempt_runs_again_on_the_next_seed(api):
    reply = api.post("/v1/jobs", json={"workflow": seeded(4), "quality": {"retries": 2}})
    assert reply.status_code == 202, reply.text
    job = finished(api, reply.json()["id"])
    assert job["status"] == "succeeded"
    notes = "\n".join(job["notes"])
    assert "quality: attempt 1: " in notes and "flicker_index" in notes
    assert "attempt 2 of 3: running again with gen.seed=5" in notes
    assert "attempt 2 of 3 passed the quality check" in notes
    assert sorted(o["path"] for o in job["outputs"]) == ["take.mp4", "take_0001.mp4"]  # both attempts kept


def test_a_job_checked_without_retries_says_what_it_found(api):
    job = finished(api, api.post("/v1/jobs", json={"workflow": seeded(5), "quality": {}}).json()["id"])
    assert job["status"] == "succeeded" and job["notes"] == ["quality: passed for 1 file(s)"]
    job = finished(api, api.post("/v1/jobs", json={"workflow": seeded(4), "quality": {}}).json()["id"])
    assert any("flicker_index" in note for note in job["notes"]) and len(job["outputs"]) == 1


def test_bad_quality_options_are_refused_with_every_problem(api):
    reply = api.post("/v1/jobs", json={"workflow": seeded(4), "quality": {"thresholds": {"sharpness": 3}}})
    assert reply.status_code == 422
    assert "unknown quality threshold 'sharpness'" in reply.text
    reply = api.post("/v1/jobs", json={"workflow": seeded(4), "quality": {"retries": 99}})
    assert reply.status_code == 422 and "retries" in reply.text


def test_a_database_from_before_the_option_gains_it(tmp_path):
    import sqlite3

    from server.store import JobStore

    old = sqlite3.connect(tmp_path / "old.sqlite3")
    old.execute("CREATE TABLE jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, name TEXT NOT "
                "NULL DEFAULT '', status TEXT NOT NULL, priority INTEGER NOT NULL DEFAULT 0, workflow TEXT NOT NULL, "
                "targets TEXT, submitted_at REAL NOT NULL, started_at REAL, finished_at REAL, attempts INTEGER NOT "
                "NULL DEFAULT 0, reruns INTEGER NOT NULL DEFAULT 0, cancel_requested INTEGER NOT NULL DEFAULT 0, "
                "notes TEXT NOT NULL DEFAULT '[]', nodes TEXT NOT NULL DEFAULT '{}', outputs TEXT NOT NULL DEFAULT "
                "'[]', error TEXT, webhook_url TEXT, webhook_secret TEXT, webhook_state TEXT, webhook_attempts TEXT "
                "NOT NULL DEFAULT '[]')")
    old.execute("INSERT INTO jobs (id, status, workflow, submitted_at) VALUES ('a', 'succeeded', '{}', 0)")
    old.commit()
    old.close()
    store = JobStore(tmp_path / "old.sqlite3")
    assert store.get("a")["quality"] is None  # the old job is kept
    job_id = store.add(workflow="{}", quality={"thresholds": {}, "retries": 1})
    assert store.get(job_id)["quality"] == {"thresholds": {}, "retries": 1}
