"""The /v1 API against a real server process: jobs, progress, validation, cancellation, priorities."""

from __future__ import annotations

import base64
import threading
import time

import cv2
import httpx
import numpy as np
import pytest

from nodegraph.errors import ValidationError, WorkflowError
from nodegraph.overrides import apply_overrides
from nodegraph.validate import validate
from nodegraph.workflow import parse_workflow
from server.client import ServerError
from tests.server.conftest import wait_for
from tests.server.testnodes import make_registry, wait_write, workflow


def test_health_is_open_and_everything_else_needs_the_token(server):
    assert httpx.get(server.url + "/v1/health").json()["status"] == "ok"
    job = server.client().submit(wait_write())
    calls = [("GET", "/v1/jobs"), ("GET", "/v1/nodes"), ("GET", "/v1/openapi.json"), ("POST", "/v1/jobs"),
             ("GET", f"/v1/jobs/{job['id']}"), ("POST", f"/v1/jobs/{job['id']}/cancel"),
             ("GET", f"/v1/jobs/{job['id']}/events"), ("GET", f"/v1/jobs/{job['id']}/outputs/value.txt")]
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": server.token}):
        for method, path in calls:
            r = httpx.request(method, server.url + path, headers=headers, json={} if method == "POST" else None)
            assert r.status_code == 401, (method, path, headers, r.status_code)
            assert r.headers["www-authenticate"] == "Bearer"
    done = wait_for(server.client(), job["id"])
    assert done["status"] == "succeeded"
    r = httpx.get(server.url + f"/v1/jobs/{job['id']}/outputs/value.txt", headers=server.headers())
    assert r.status_code == 200 and r.text == "1.0"


def test_job_reports_per_node_progress_timings_and_outputs(client):
    accepted = client.submit(wait_write(ms=300, steps=3, value=2.5, filename="sub/result.txt"), priority=3)
    assert accepted["status"] == "queued"
    seen_running = None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        job = client.job(accepted["id"])
        wait = job["nodes"].get("wait", {})
        if job["status"] == "running" and wait.get("state") == "running" and wait.get("done", 0) >= 1:
            seen_running = job  # part way through the node (the job runs on a moment after it is done)
        if job["status"] == "succeeded":
            break
        time.sleep(0.02)
    assert seen_running is not None, "never saw per-node progress while running"
    assert seen_running["nodes"]["wait"]["total"] == 3
    assert job["status"] == "succeeded" and job["attempts"] == 1 and job["reruns"] == 0
    assert job["nodes"]["wait"]["state"] == "done" and job["nodes"]["wait"]["done"] == 3
    assert 0.25 < job["nodes"]["wait"]["seconds"] < 5
    assert job["started_at"] >= job["submitted_at"] and job["finished_at"] >= job["started_at"]
    assert [o["path"] for o in job["outputs"]] == ["sub/result.txt"]
    assert client.http.get(job["outputs"][0]["url"]).text == "2.5"


def test_identical_jobs_each_write_their_own_output(client):
    doc = workflow({"id": "v", "type": "value.float", "params": {"value": 4.25}},
                   {"id": "write", "type": "test.write", "params": {"filename": "same.txt"}},
                   links=(("v.value", "write.value"),))
    first = wait_for(client, client.submit(doc)["id"])
    second = wait_for(client, client.submit(doc)["id"])
    assert first["nodes"]["v"]["state"] == "done" and second["nodes"]["v"]["state"] == "cached"
    for job in (first, second):
        assert job["status"] == "succeeded"
        assert [o["path"] for o in job["outputs"]] == ["same.txt"]
        assert client.http.get(job["outputs"][0]["url"]).text == "4.25"


def _expected_message(doc: dict, overrides: list[str] = ()) -> str:
    registry = make_registry()
    try:
        graph = parse_workflow(doc, registry)
        apply_overrides(graph, list(overrides), registry)
        validate(graph, registry)
    except (WorkflowError, ValidationError) as exc:
        return str(exc)
    raise AssertionError("the workflow was expected to be invalid")


@pytest.mark.parametrize("doc, overrides", [
    (workflow({"id": "wait", "type": "test.wait", "params": {"ms": -5, "stepz": 2}},
              {"id": "write", "type": "test.write"}, links=(("wait.value", "write.value"),)), []),
    (wait_write(), ["wait.ms=soon", "write.nope=1"]),
    ({"format": "kinograph.workflow", "version": 1, "nodes": [{"id": "a"}], "links": "x"}, []),
    ({"format": "other"}, []),
])
def test_invalid_workflows_are_refused_with_the_cli_messages(server, doc, overrides):
    r = httpx.post(server.url + "/v1/jobs", json={"workflow": doc, "overrides": overrides}, headers=server.headers())
    assert r.status_code == 422
    body = r.json()
    assert body["message"] == _expected_message(doc, overrides)
    assert body["issues"] and all(i["message"] in body["message"] for i in body["issues"])


def test_a_workflow_without_outputs_is_refused(client):
    with pytest.raises(ServerError, match="nothing to run") as info:
        client.submit(workflow({"id": "v", "type": "value.int"}))
    assert info.value.status_code == 422


def test_file_params_are_limited_to_the_input_folders(client, inputs, tmp_path):
    def read_job(path: str, **kw):
        return workflow({"id": "read", "type": "test.read", "params": {"path": path}},
                        {"id": "write", "type": "test.write"}, links=(("read.value", "write.value"),), **kw)

    ok = wait_for(client, client.submit(read_job(str(inputs / "hello.txt")))["id"])
    assert client.http.get(ok["outputs"][0]["url"]).text == "11.0"
    relative = wait_for(client, client.submit(read_job("hello.txt"), base_dir=str(inputs))["id"])
    assert relative["status"] == "succeeded"

    secret = tmp_path / "secret.txt"
    secret.write_text("top secret", encoding="utf-8")
    (inputs / "escape.txt").symlink_to(secret)
    for path, base in ((str(secret), None), ("../" + secret.name, None), ("escape.txt", str(inputs)),
                       (str(inputs / ".." / secret.name), None)):
        with pytest.raises(ServerError, match="outside the server's input folders") as info:
            client.submit(read_job(path), base_dir=base)
        assert info.value.status_code == 422
    with pytest.raises(ServerError, match="outside the server's input folders"):
        client.submit(read_job(str(inputs / "hello.txt")), overrides=[f"read.path={secret}"])
    with pytest.raises(ServerError, match="control character"):
        client.submit(wait_write(filename="a\x00b.txt"))
    for name in ("/tmp/owned.txt", "../owned.txt", "a/../../owned.txt"):
        with pytest.raises(ServerError, match="output folder"):
            client.submit(wait_write(filename=name))


def test_cancel_a_running_and_a_queued_job(client):
    running = client.submit(wait_write(ms=20000, steps=400))
    deadline = time.monotonic() + 10
    while client.job(running["id"])["nodes"].get("wait", {}).get("state") != "running":
        assert time.monotonic() < deadline, "the job's first node never started"
        time.sleep(0.02)
    queued = client.submit(wait_write())
    assert client.cancel(queued["id"])["status"] == "cancelled"
    after = client.cancel(running["id"])
    assert after["cancel_requested"] is True
    job = wait_for(client, running["id"], timeout=5)
    assert job["status"] == "cancelled" and job["finished_at"] - job["started_at"] < 5
    # The node the cancel cut off says so, not "running" for ever; the one it never got to is still pending.
    wait, write = job["nodes"]["wait"], job["nodes"]["write"]
    assert wait["state"] == "stopped" and wait["reason"] == "the run was cancelled while it ran"
    assert write["state"] == "pending"
    never = client.job(queued["id"])
    assert never["status"] == "cancelled" and never["attempts"] == 0 and never["started_at"] is None
    with pytest.raises(ServerError) as info:
        client.cancel(running["id"])
    assert info.value.status_code == 409
    with pytest.raises(ServerError) as info:
        client.cancel("0123456789abcdef")
    assert info.value.status_code == 404


def test_higher_priority_runs_first(client, tmp_path):
    gate = tmp_path / "open"
    blocker = client.submit(wait_write(gate=str(gate)))
    wait_for(client, blocker["id"], states=("running",))
    low = [client.submit(wait_write(), priority=0)["id"] for _ in range(3)]
    high = client.submit(wait_write(), priority=5)["id"]
    gate.touch()
    jobs = {j: wait_for(client, j) for j in low + [high]}
    assert all(j["status"] == "succeeded" for j in jobs.values())
    starts = sorted(jobs, key=lambda j: jobs[j]["started_at"])
    assert starts == [high] + low


def test_event_stream_carries_progress_previews_and_the_end(client):
    accepted = client.submit(wait_write(ms=400, steps=4, value=7.0))
    events = list(client.events(accepted["id"]))
    names = [name for name, _ in events]
    assert names[0] == "job" and names[-2:] == ["job_finished", "end"]
    assert events[-1][1]["status"] == "succeeded"
    progress = [d["done"] for n, d in events if n == "node_progress" and d["node_id"] == "wait"]
    assert progress == sorted(progress) and progress[-1] == 4
    previews = [d for n, d in events if n == "node_preview"]
    assert previews and all(p["mime"] == "image/jpeg" for p in previews)
    frame = cv2.imdecode(np.frombuffer(base64.b64decode(previews[-1]["jpeg"]), np.uint8), cv2.IMREAD_COLOR)
    assert frame.shape == (48, 64, 3)
    assert frame[..., 2].mean() > 200 and frame[..., 0].mean() < 40  # red (BGR) across the whole last preview
    assert "node_started" in names and "run_finished" in names
    # A finished job's stream is its final snapshot and the end.
    again = list(client.events(accepted["id"]))
    assert [n for n, _ in again] == ["job", "end"] and again[0][1]["status"] == "succeeded"


def test_a_model_loads_once_across_jobs(client):
    def model_job(name: str):
        return workflow({"id": "m", "type": "test.model", "params": {"name": name}},
                        {"id": "write", "type": "test.write"}, links=(("m.value", "write.value"),))

    values = []
    for name in ("shared", "shared", "other"):
        job = wait_for(client, client.submit(model_job(name))["id"])
        values.append(float(client.http.get(job["outputs"][0]["url"]).text))
    assert values[1] == values[0] and values[2] == values[0] + 1


def test_failures_are_recorded_with_the_node_and_message(client):
    doc = workflow({"id": "boom", "type": "test.boom"}, {"id": "write", "type": "test.write"},
                   links=(("boom.value", "write.value"),))
    job = wait_for(client, client.submit(doc)["id"])
    assert job["status"] == "failed"
    assert "boom" in job["error"] and "the widget exploded" in job["error"]
    assert job["nodes"]["boom"]["state"] == "failed"


def test_listing_filters_by_status_and_the_catalogue_and_openapi_are_served(client):
    done = wait_for(client, client.submit(wait_write())["id"])
    listing = client.jobs(["succeeded"], limit=1000)
    assert listing["jobs"] and all(j["status"] == "succeeded" for j in listing["jobs"])
    assert done["id"] in {j["id"] for j in listing["jobs"]}
    assert listing["counts"]["succeeded"] == len(listing["jobs"])
    assert all(j["status"] == "failed" for j in client.jobs(["failed"])["jobs"])
    assert {"test.wait", "value.float"} <= {n["type"] for n in client.nodes()}
    paths = client.http.get("/v1/openapi.json").json()["paths"]
    assert {"/v1/jobs", "/v1/jobs/{job_id}", "/v1/jobs/{job_id}/cancel", "/v1/jobs/{job_id}/events",
            "/v1/jobs/{job_id}/outputs/{path}", "/v1/nodes", "/v1/health"} <= set(paths)


def test_many_jobs_from_concurrent_clients_all_finish(server):
    ids: list[str] = []
    errors: list[Exception] = []

    def submit_some():
        with server.client() as c:
            for i in range(25):
                try:
                    ids.append(c.submit(wait_write(value=float(i)))["id"])
                except Exception as exc:
                    errors.append(exc)

    threads = [threading.Thread(target=submit_some) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(ids)) == 200
    with server.client() as c:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            counts = c.health()["counts"]
            if counts["queued"] == 0 and counts["running"] == 0:
                break
            time.sleep(0.1)
        statuses = {j["id"]: j["status"] for j in c.jobs(limit=1000)["jobs"]}
    assert all(statuses[i] == "succeeded" for i in ids)


def test_previews_are_rendered_by_the_stream_that_sends_them_not_by_the_worker():
    """The hub hands previews to each stream as events: the sampling thread publishing them renders nothing,
    and a preview a full queue drops is never rendered at all."""
    import asyncio

    from nodegraph import events as ev
    from server.sse import EventHub, event_to_dict

    renders = []

    def render():
        renders.append(1)
        return np.full((2, 8, 8, 3), 200, np.uint8)

    async def main():
        hub = EventHub()
        sub = hub.subscribe("job")
        hub.publish("job", ev.NodePreview(node_id="sample", source=render, fps=8.0))
        hub.publish("job", ev.NodeProgress(node_id="sample", done=1, total=4))
        await asyncio.sleep(0)
        first, second = sub.queue.get_nowait(), sub.queue.get_nowait()
        assert renders == [] and second["kind"] == "node_progress"
        data = event_to_dict(first)
        assert renders == [1] and data["kind"] == "node_preview" and data["mime"] == "image/jpeg"

    asyncio.run(main())


def test_a_job_nobody_streams_makes_no_previews(tmp_path):
    """The worker takes previews only while a client streams the running job's events; nodes are told so."""
    import json

    from nodegraph import events as ev
    from server.store import JobStore
    from server.worker import LocalExecutor

    watching = {"on": False}
    published = []
    store = JobStore(tmp_path / "jobs.sqlite3")
    executor = LocalExecutor(store, make_registry(), tmp_path / "out", publish=lambda j, e: published.append(e),
                             watched=lambda job_id: watching["on"])
    for on in (False, True):
        watching["on"] = on
        published.clear()
        store.add(workflow=json.dumps(wait_write(steps=3, value=float(on))))
        executor._run(store.claim_next())
        previews = [e for e in published if isinstance(e, ev.NodePreview)]
        progress = [e for e in published if isinstance(e, ev.NodeProgress)]
        assert len(progress) == 3 and len(previews) == (3 if on else 0)
    store.close()
