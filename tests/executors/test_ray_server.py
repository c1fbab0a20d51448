"""`kinograph serve --executor ray`: the real server (a subprocess) on the test's Ray: 20 jobs from 4 clients all
finish, none lost, while a worker is killed with SIGKILL mid-job; its job runs again elsewhere, attempts counted."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from tests.server.conftest import RunningServer, wait_for

pytest.importorskip("ray")

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = json.loads((ROOT / "resources" / "workflows" / "animate_image.json").read_text())
SMALL = ["camera.frames=24", "upscale.scale=0.5"]


def worker_pids() -> list[int]:
    """The processes of this test's Ray workers that run Kinograph's workflows (their title names the actor class;
    they descend from this process, which started the Ray, and not from another Ray on the machine)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if b"VariantWorker" in (entry / "cmdline").read_bytes() and descends_from_me(int(entry.name)):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def descends_from_me(pid: int) -> bool:
    while pid > 1:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        pid = int(stat.rsplit(")", 1)[1].split()[1])  # the parent's id, after the (command) field
        if pid == os.getpid():
            return True
    return False


@pytest.fixture(scope="module")
def ray_server(local_ray, tmp_path_factory):
    command = ("nodegraph.cli", "serve", "--ray-address", local_ray, "--device", "cpu")
    running = RunningServer(tmp_path_factory.mktemp("ray-server"), input_dirs=(ROOT / "resources",),
                            command=command)
    yield running
    running.stop()


def test_twenty_jobs_from_four_clients_finish_while_a_worker_is_killed(ray_server):
    submitted: list[str] = []
    lock = threading.Lock()

    def submit_five(client_no: int):
        with ray_server.client() as client:
            for i in range(5):
                job = client.submit(DEFAULT, overrides=[*SMALL, f"camera.zoom_to={1 + (client_no * 5 + i) / 100}"],
                                    base_dir=str(ROOT / "resources" / "workflows"), name=f"c{client_no}-{i}")
                with lock:
                    submitted.append(job["id"])

    clients = [threading.Thread(target=submit_five, args=(n,)) for n in range(4)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join(60)
    assert len(submitted) == 20
    with ray_server.client() as client:
        deadline = time.monotonic() + 60
        while len(client.jobs(["running"])["jobs"]) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        pids = worker_pids()
        assert len(pids) == 2, pids
        os.kill(pids[0], signal.SIGKILL)  # a worker dies mid-job
        jobs = [wait_for(client, job_id, timeout=180) for job_id in submitted]
        assert [job["status"] for job in jobs] == ["succeeded"] * 20
        assert all(job["outputs"] and job["outputs"][0]["path"] == "animate.mp4" for job in jobs)
        again = [job for job in jobs if job["attempts"] == 2]
        assert again and all("died" in " ".join(job["notes"]) for job in again)
        # a replacement worker took its place
        assert len(worker_pids()) == 2 and pids[0] not in worker_pids()
        folder = ray_server.output_root / jobs[0]["id"]
        assert (folder / "animate.mp4").stat().st_size > 0


def test_a_job_on_ray_streams_progress_and_previews_to_a_watcher_and_cancels(ray_server):
    with ray_server.client() as client:
        job = client.submit(DEFAULT, overrides=["camera.frames=600", "upscale.scale=0.5"],
                            base_dir=str(ROOT / "resources" / "workflows"))
        seen = set()
        for name, data in client.events(job["id"]):
            seen.add(name)
            if name == "node_preview":
                assert data["mime"] == "image/jpeg" and data["jpeg"]
            if {"node_progress", "node_preview"} <= seen:
                client.cancel(job["id"])
                break
        assert "node_started" in seen
        done = wait_for(client, job["id"], timeout=60)
        assert done["status"] == "cancelled" and not done["outputs"]
