"""Start the real job server (uvicorn in a subprocess, loopback, a free port) for the server tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from server.client import Client

REPO = Path(__file__).resolve().parents[2]
TOKEN = "test-token-0123456789"
WEBHOOK_KEY = "test-webhook-key-0123456789"


class RunningServer:
    """A server process; `url`, `token`, `client()`, `kill()` (SIGKILL) and `stop()` (SIGTERM)."""

    def __init__(self, root: Path, token: str | None = TOKEN, input_dirs: tuple[Path, ...] = (),
                 command: tuple[str, ...] = ("tests.server.run_server",), env: dict | None = None):
        self.root = root
        self.token = token
        self.db = root / "jobs.sqlite3"
        self.output_root = root / "outputs"
        args = [sys.executable, "-m", *command, "--port", "0", "--db", str(self.db),
                "--output-root", str(self.output_root)]
        if token:
            args += ["--token", token]
        if command == ("tests.server.run_server",):
            args += ["--webhook-secret", WEBHOOK_KEY]
        for d in input_dirs:
            args += ["--input-dir", str(d)]
        self.proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env={**os.environ, **(env or {})})
        self.stderr_lines: list[str] = []
        self.url = self._read_url()
        threading.Thread(target=self._drain, daemon=True).start()
        self._wait_healthy()

    def _read_url(self) -> str:
        found: list[str] = []

        def read():
            for line in self.proc.stdout:
                if "serving on " in line:
                    found.append(line.split("serving on ", 1)[1].strip())
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(30)
        if not found:
            self.proc.kill()
            raise RuntimeError("server did not start: " + self.proc.stderr.read()[-3000:])
        return found[0]

    def _drain(self) -> None:
        for line in self.proc.stderr:
            self.stderr_lines.append(line)

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("server never became healthy")

    def client(self) -> Client:
        return Client(self.url, self.token)

    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def wait_for(client: Client, job_id: str, states=("succeeded", "failed", "cancelled"), timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.job(job_id)
        if job["status"] in states:
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} still {job['status']} after {timeout}s")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("inputs")
    (folder / "hello.txt").write_text("hello world", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory, inputs):
    running = RunningServer(tmp_path_factory.mktemp("server"), input_dirs=(inputs,))
    yield running
    running.stop()


@pytest.fixture
def client(server):
    with server.client() as c:
        yield c
