"""Output downloads stay inside the job's folder; webhooks are signed, retried and recorded; bind rules."""

from __future__ import annotations

import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from server.command import SERVE, ServeCommand
from server.security import is_loopback, resolve_output
from server.webhooks import SIGNATURE_HEADER, sign, verify
from tests.server.conftest import TOKEN, WEBHOOK_KEY, wait_for
from tests.server.testnodes import wait_write


def _raw_get(url: str, path: str, token: str) -> int:
    """GET a path exactly as written (no client-side '..' normalisation)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def test_output_downloads_refuse_traversal_and_symlink_escapes(server, client, tmp_path):
    job = wait_for(client, client.submit(wait_write(filename="keep.txt"))["id"])
    other = wait_for(client, client.submit(wait_write(filename="other.txt"))["id"])
    folder = server.output_root / job["id"]
    outside = tmp_path / "outside.txt"
    outside.write_text("private", encoding="utf-8")
    (folder / "link.txt").symlink_to(outside)
    (folder / "linkdir").symlink_to(tmp_path, target_is_directory=True)
    base = f"/v1/jobs/{job['id']}/outputs/"
    assert _raw_get(server.url, base + "keep.txt", server.token) == 200
    attempts = [
        "../" + other["id"] + "/other.txt", "..%2F" + other["id"] + "%2Fother.txt",
        "%2e%2e/%2e%2e/jobs.sqlite3", "%2e%2e%2f%2e%2e%2fjobs.sqlite3", "../../jobs.sqlite3",
        "..\\..\\jobs.sqlite3", "%2Fetc%2Fpasswd", "/etc/passwd", "link.txt", "linkdir/outside.txt",
        "keep.txt%00.png", "", "missing.txt", ".", "sub/../../" + other["id"] + "/other.txt",
    ]
    for attempt in attempts:
        status = _raw_get(server.url, base + attempt, server.token)
        assert status == 404, (attempt, status)
    # A job id that is not one: refused before any file is looked at.
    assert _raw_get(server.url, "/v1/jobs/..%2F..%2Fetc/outputs/passwd", server.token) in (404, 422)


def test_resolve_output_unit(tmp_path):
    (tmp_path / "job1").mkdir()
    (tmp_path / "job1" / "a.txt").write_text("a")
    (tmp_path / "job2").mkdir()
    (tmp_path / "job2" / "b.txt").write_text("b")
    assert resolve_output(tmp_path, "job1", "a.txt") == (tmp_path / "job1" / "a.txt").resolve()
    for bad in ("../job2/b.txt", str(tmp_path / "job2" / "b.txt"), "", "a.txt\x00", "..\\job2\\b.txt"):
        assert resolve_output(tmp_path, "job1", bad) is None


class _Receiver(BaseHTTPRequestHandler):
    fail_first = 1
    received: list[tuple[bytes, dict]] = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((body, dict(self.headers)))
        code = 500 if len(type(self).received) <= type(self).fail_first else 200
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    _Receiver.received = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/hook", _Receiver.received
    httpd.shutdown()
    httpd.server_close()


def _wait_webhook(client, job_id: str, state: str = "delivered") -> dict:
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        job = client.job(job_id)
        if job["webhook"]["state"] == state:
            return job
        time.sleep(0.02)
    raise AssertionError(f"webhook of {job_id} is {job['webhook']}")


def test_webhook_is_signed_retried_and_every_attempt_recorded(client, receiver):
    url, received = receiver
    job = client.submit(wait_write(value=3.0), webhook_url=url)
    done = _wait_webhook(client, job["id"])
    assert done["status"] == "succeeded"
    attempts = done["webhook"]["attempts"]
    assert [a["attempt"] for a in attempts] == [1, 2]
    assert all(set(a) == {"attempt", "at"} for a in attempts)  # what the receiver answered is not shown
    assert len(received) == 2
    body, headers = received[-1]
    assert verify(body, WEBHOOK_KEY, headers[SIGNATURE_HEADER])
    assert not verify(body, TOKEN, headers[SIGNATURE_HEADER])  # the access token is never the signing key
    assert not verify(body, "another-secret", headers[SIGNATURE_HEADER])
    assert not verify(body.replace(b"succeeded", b"failed"), WEBHOOK_KEY, headers[SIGNATURE_HEADER])
    summary = json.loads(body)
    assert summary["id"] == job["id"] and summary["status"] == "succeeded"
    assert summary["outputs"][0]["path"] == "value.txt"


def test_webhook_with_its_own_secret_on_cancel(client, receiver):
    url, received = receiver
    _Receiver.fail_first = 0
    try:
        job = client.submit(wait_write(ms=10000, steps=200), webhook_url=url, webhook_secret="s3cret")
        wait_for(client, job["id"], states=("running",))
        client.cancel(job["id"])
        done = _wait_webhook(client, job["id"])
    finally:
        _Receiver.fail_first = 1
    assert done["status"] == "cancelled" and len(done["webhook"]["attempts"]) == 1
    body, headers = received[0]
    assert headers[SIGNATURE_HEADER] == sign(body, "s3cret") and json.loads(body)["event"] == "job.cancelled"


def test_webhook_gives_up_after_the_last_attempt(client):
    job = client.submit(wait_write(), webhook_url="http://127.0.0.1:9/unreachable")
    done = _wait_webhook(client, job["id"], state="failed")
    attempts = done["webhook"]["attempts"]
    assert [a["attempt"] for a in attempts] == [1, 2, 3, 4]
    assert all(set(a) == {"attempt", "at"} for a in attempts)  # no "Connection refused": no port scanner


def test_non_http_webhook_urls_are_refused(client):
    from server.client import ServerError

    for url in ("file:///etc/passwd", "http://[::1", "http://[zz]/", "http://host:99999/", "http:///path"):
        with pytest.raises(ServerError, match="not an http") as refused:
            client.submit(wait_write(), webhook_url=url)
        assert refused.value.status_code == 422, url  # refused as invalid, never a server error


def test_serve_refuses_a_public_address_without_a_token(capsys, tmp_path):
    parser = __import__("argparse").ArgumentParser()
    ServeCommand().add_arguments(parser)
    args = parser.parse_args(["--host", "0.0.0.0", "--no-token", "--db", str(tmp_path / "db.sqlite3")])
    assert SERVE.run(args) == 2
    assert "refusing to serve 0.0.0.0 without a token" in capsys.readouterr().err
    assert not Path(tmp_path / "db.sqlite3").exists()
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2") and not is_loopback("example.com")
