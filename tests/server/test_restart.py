"""A server killed with jobs queued and one running picks them all up again on restart."""

from __future__ import annotations

import time

from server.store import JobStore
from tests.server.conftest import RunningServer, wait_for
from tests.server.testnodes import wait_write


def _wait_all_done(client, ids: list[str], timeout: float = 30) -> dict[str, dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = {j["id"]: j for j in client.jobs(limit=1000)["jobs"]}
        if all(jobs[i]["status"] in ("succeeded", "failed", "cancelled") for i in ids):
            return {i: client.job(i) for i in ids}
        time.sleep(0.05)
    raise AssertionError("jobs did not finish after the restart")


def test_sigkill_with_21_jobs_loses_none_and_marks_the_rerun(tmp_path):
    first = RunningServer(tmp_path)
    with first.client() as c:
        gate = tmp_path / "gate"  # the long job runs until this file appears: only after the kill
        running = c.submit(wait_write(ms=200, steps=10, filename="long.txt", gate=str(gate)), priority=10)["id"]
        wait_for(c, running, states=("running",))
        queued = [c.submit(wait_write(ms=5, steps=1, value=float(i)))["id"] for i in range(20)]
        assert c.health()["counts"] == {"queued": 20, "running": 1, "succeeded": 0, "failed": 0, "cancelled": 0}
    first.kill()
    assert first.proc.returncode == -9
    (first.output_root / running / "partial.tmp").write_text("left by the killed attempt")
    gate.touch()

    second = RunningServer(tmp_path)
    try:
        with second.client() as c:
            jobs = _wait_all_done(c, [running] + queued)
    finally:
        second.stop()
    assert all(j["status"] == "succeeded" for j in jobs.values()), {i: j["status"] for i, j in jobs.items()}
    long = jobs[running]
    assert long["reruns"] == 1 and long["attempts"] == 2
    assert len(long["notes"]) == 1 and "attempt 1 was interrupted" in long["notes"][0]
    assert [o["path"] for o in long["outputs"]] == ["long.txt"]
    assert sorted(p.name for p in (second.output_root / running).iterdir()) == ["long.txt"]
    for i, job_id in enumerate(queued):
        job = jobs[job_id]
        assert job["reruns"] == 0 and job["attempts"] == 1 and job["notes"] == []
        assert (second.output_root / job_id / "value.txt").read_text() == repr(float(i))
    # Priority first: the re-run long job (priority 10) ended before any queued job started.
    assert long["finished_at"] <= min(jobs[j]["started_at"] for j in queued)


def test_a_graceful_stop_requeues_the_running_job_and_says_so(tmp_path):
    first = RunningServer(tmp_path)
    with first.client() as c:
        job_id = c.submit(wait_write(ms=20000, steps=400))["id"]
        wait_for(c, job_id, states=("running",))
    started = time.monotonic()
    first.stop()
    assert first.proc.returncode in (0, -15) and time.monotonic() - started < 10  # uvicorn re-raises SIGTERM
    store = JobStore(tmp_path / "jobs.sqlite3")
    job = store.get(job_id)
    store.close()
    assert job["status"] == "queued" and job["reruns"] == 1
    assert "server stopped while this job ran" in job["notes"][0]
