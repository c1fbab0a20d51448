"""Issue 16's probes replayed end to end: a real `kinograph serve` on a loopback port and a real `kinograph run`,
each probe bounded in count and time."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from urllib.parse import urlsplit

import httpx
import pytest

from tests.nodes.test_cli_hostile import their_video
from tests.nodes.test_hostile_files import cut_short_mp4

from .conftest import REPO, TOKEN, RunningServer, wait_for

MiB = 1024 * 1024


def doc(*nodes: dict, links: tuple[tuple[str, str], ...] = ()) -> dict:
    return {"format": "kinograph.workflow", "version": 1, "nodes": list(nodes),
            "links": [{"from": a, "to": b} for a, b in links]}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    cut_short_mp4(folder / "short.mp4")
    their_video(folder, "copy.mp4")
    return folder


@pytest.fixture(scope="module")
def real(tmp_path_factory, inputs):
    """The real `kinograph serve` (every node pack), loopback, no trusted webhook hosts, a 512 MiB memory limit."""
    server = RunningServer(tmp_path_factory.mktemp("real"), input_dirs=(inputs,), command=("nodegraph.cli", "serve"),
                           env={"KINOGRAPH_MEMORY_LIMIT": "512M"})
    yield server
    server.stop()


def post(server, body, token: str | None = TOKEN, **kw) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(server.url + "/v1/jobs", json=body, headers=headers, timeout=30, **kw)


def refused(server, body) -> str:
    r = post(server, body)
    assert r.status_code == 422, r.text
    return r.json()["message"]


def test_save_frames_cannot_write_outside_the_job_folder(real, inputs):
    for name in ("/tmp/kinograph-probe/f_{:05d}.png", "../../../kinograph-probe/f_{:05d}.png", "a\nb/f_{:05d}.png"):
        message = refused(real, {"workflow": doc(
            {"id": "load", "type": "video.load", "params": {"path": "copy.mp4"}},
            {"id": "save", "type": "video.save_frames", "params": {"filename": name}},
            links=(("load.video", "save.video"),)), "base_dir": str(inputs)})
        assert "save.filename" in message
    assert not os.path.exists("/tmp/kinograph-probe")


def test_model_load_answers_the_same_for_a_file_that_exists_and_one_that_does_not(real):
    answers = []
    for source in ("/etc/passwd", "/etc/kinograph-not-here"):
        message = refused(real, {"workflow": doc({"id": "m", "type": "model.load", "params": {"source": source}}),
                                 "targets": ["m"]})
        answers.append(message.replace(source, "SOURCE"))
    assert answers[0] == answers[1] and "outside the server's input folders" in answers[0]


def test_bodies_are_refused_from_their_headers(real):
    parts = urlsplit(real.url)
    for auth, expected in (("", 401), (f"Authorization: Bearer {TOKEN}\r\n", 413)):
        started = time.monotonic()
        with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
            sock.sendall(f"POST /v1/jobs HTTP/1.1\r\nHost: {parts.netloc}\r\n{auth}Content-Type: application/json\r\n"
                         f"Content-Length: {64 * MiB}\r\n\r\n".encode() + b"{" * MiB)
            status = int(sock.recv(4096).split(b" ", 2)[1])
        assert status == expected and time.monotonic() - started < 3
    assert httpx.get(real.url + "/v1/health", timeout=5).status_code == 200
    nodes = [{"id": f"n{i}", "type": "value.int"} for i in range(2001)]
    assert "above the server's limit" in refused(real, {"workflow": doc(*nodes)})


def test_a_huge_json_integer_is_refused_cleanly(real):
    body = '{"workflow": {"format": "kinograph.workflow", "version": ' + "9" * 5000 + "}}"
    r = httpx.post(real.url + "/v1/jobs", content=body, headers={"Authorization": f"Bearer {TOKEN}",
                                                                  "Content-Type": "application/json"}, timeout=30)
    assert r.status_code in (400, 422) and "Traceback" not in r.text


def test_a_memory_bomb_is_refused_at_submission(real, inputs):
    message = refused(real, {"workflow": doc(
        {"id": "load", "type": "video.load", "params": {"path": str(inputs / "copy.mp4")}},
        {"id": "big", "type": "video.resize", "params": {"width": 16384, "height": 16384}},
        {"id": "save", "type": "video.save", "params": {}},
        links=(("load.video", "big.video"), ("big.video", "save.video")))})
    assert "big: 16384x16384 frames" in message and "memory limit of 512 MiB" in message


def test_a_clip_shorter_than_its_header_is_not_padded(real, inputs):
    with real.client() as client:
        job = client.submit(doc({"id": "load", "type": "video.load", "params": {"path": str(inputs / "short.mp4")}},
                                {"id": "save", "type": "video.save", "params": {"filename": "short.mp4"}},
                                links=(("load.video", "save.video"),)))
        done = wait_for(client, job["id"], timeout=60)
    assert done["status"] == "succeeded", done["error"]
    from nodes.io.video_reader import probe_video

    assert probe_video(str(real.output_root / job["id"] / "short.mp4")).frame_count < 30


def test_webhooks_to_loopback_are_refused(real):
    body = {"workflow": doc({"id": "v", "type": "value.int"}), "targets": ["v"],
            "webhook_url": "http://127.0.0.1:22/"}
    assert "loopback address" in refused(real, body) and "--allow-webhook-host" in refused(real, body)


def test_the_database_is_owner_only(real):
    assert stat.S_IMODE(os.stat(real.db).st_mode) == 0o600


def test_submit_takes_a_video_with_a_workflow_as_run_does(real, inputs, tmp_path):
    done = subprocess.run([sys.executable, "-m", "nodegraph.cli", "submit", str(inputs / "their.mp4"), "--wait",
                           "--server", real.url, "--token", TOKEN], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr


def test_kinograph_run_of_a_hostile_video_writes_nothing_outside(tmp_path):
    video = their_video(tmp_path, "/tmp/kinograph-probe/owned.mp4")
    done = subprocess.run([sys.executable, "-m", "nodegraph.cli", "run", str(video), "--output-dir", "out"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 2 and "absolute path" in done.stderr
    assert not os.path.exists("/tmp/kinograph-probe") and not (tmp_path / "out").exists()
