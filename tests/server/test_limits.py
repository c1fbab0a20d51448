"""Requests are refused from their headers: a wrong token (401) or a body over --max-body (413) is never read."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import httpx

from nodegraph.sizes import parse_size

from .conftest import TOKEN


def raw_post(url: str, headers: dict[str, str], body: bytes = b"", timeout: float = 5.0) -> tuple[int, float]:
    """POST with the given headers over a plain socket, sending only `body` (however large the header says the
    body is); the status line, and how long it took to come."""
    parts = urlsplit(url)
    started = time.monotonic()
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        head = "".join(f"{k}: {v}\r\n" for k, v in {"Host": parts.netloc, **headers}.items())
        sock.sendall(f"POST /v1/jobs HTTP/1.1\r\n{head}\r\n".encode() + body)
        reply = sock.recv(4096).decode("latin-1")
    return int(reply.split(" ", 2)[1]), time.monotonic() - started


def test_a_huge_body_is_refused_from_its_headers_with_or_without_the_token(server):
    declared = {"Content-Type": "application/json", "Content-Length": str(64 * 1024 * 1024)}
    status, seconds = raw_post(server.url, declared)  # no token: 401 before a byte of the body
    assert status == 401 and seconds < 2
    status, seconds = raw_post(server.url, {**declared, "Authorization": f"Bearer {TOKEN}"})
    assert status == 413 and seconds < 2
    status, _ = raw_post(server.url, {**declared, "Authorization": "Bearer wrong"})
    assert status == 401


def test_a_chunked_body_over_the_limit_is_refused(server):
    chunk = b"x" * (1024 * 1024)
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(9)) + b"0\r\n\r\n"
    status, _ = raw_post(server.url, {"Transfer-Encoding": "chunked", "Content-Type": "application/json",
                                      "Authorization": f"Bearer {TOKEN}"}, body)
    assert status == 413
    r = httpx.post(server.url + "/v1/jobs", content=b"x" * (9 * 1024 * 1024), headers=server.headers())
    assert r.status_code == 413 and "--max-body" in r.json()["detail"]


def test_a_workflow_with_too_many_nodes_is_refused(server):
    nodes = [{"id": f"n{i}", "type": "value.int"} for i in range(2001)]
    doc = {"format": "kinograph.workflow", "version": 1, "nodes": nodes}
    r = httpx.post(server.url + "/v1/jobs", json={"workflow": doc}, headers=server.headers(), timeout=30)
    assert r.status_code == 422 and "above the server's limit of 2000" in r.json()["message"]


def test_sizes_parse():
    assert parse_size("8M") == parse_size("8MiB") == 8 * 1024 * 1024
    assert parse_size("512k") == 512 * 1024 and parse_size("100") == 100
