"""The job store on its own: queue order, crash recovery, cancellation, and many threads at once."""

from __future__ import annotations

import threading

from server.store import JobStore


def test_queue_order_is_priority_then_submission(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    ids = [store.add(workflow="{}", priority=p) for p in (0, 5, 0, 5, -1)]
    order = [store.claim_next()["id"] for _ in ids]
    assert order == [ids[1], ids[3], ids[0], ids[2], ids[4]]
    assert store.claim_next() is None
    assert store.counts()["running"] == 5


def test_recovery_requeues_running_jobs_once_with_a_note(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    a, b = store.add(workflow="{}"), store.add(workflow="{}")
    assert store.claim_next()["id"] == a
    store.close()
    store = JobStore(tmp_path / "jobs.sqlite3")  # as a new process would
    assert store.recover_interrupted() == [a]
    assert store.recover_interrupted() == []
    job = store.get(a)
    assert job["status"] == "queued" and job["reruns"] == 1 and job["attempts"] == 1
    assert "attempt 1 was interrupted" in job["notes"][0]
    again = store.claim_next()
    assert again["id"] == a and again["attempts"] == 2  # it keeps its place at the head of the queue
    assert store.get(b)["reruns"] == 0


def test_cancel_queued_at_once_running_by_request(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    running, queued = store.add(workflow="{}"), store.add(workflow="{}")
    store.claim_next()
    assert store.request_cancel(queued) == "cancelled"
    assert store.request_cancel(running) == "running" and store.get(running)["cancel_requested"] == 1
    assert store.request_cancel("missing") is None
    assert store.claim_next() is None


def test_many_threads_share_one_store(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    errors: list[BaseException] = []

    def hammer(n: int):
        try:
            for i in range(150):
                job_id = store.add(workflow="{}", priority=i % 3)
                assert store.get(job_id)["id"] == job_id
                store.list(["queued", "running"], limit=20)
                store.counts()
                if n % 2 and (job := store.claim_next()) is not None:
                    store.finish(job["id"], "succeeded", nodes={}, outputs=[], error=None)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    counts = store.counts()
    assert sum(counts.values()) == 1200 and counts["running"] == 0
