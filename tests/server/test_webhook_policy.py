"""Webhooks go to public addresses unless a host is trusted, tell the submitter only delivered or failed after N
tries, and are delivered concurrently (a slow receiver does not hold up another's hook)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from server.webhooks import host_problem
from tests.server.testnodes import wait_write

from .test_security import _wait_webhook


@pytest.mark.parametrize("url", ["http://127.0.0.1:8470/hook", "http://localhost/", "http://169.254.169.254/latest",
                                 "http://10.1.2.3/", "http://192.168.0.1/", "http://[::1]/", "http://0.0.0.0/",
                                 "http://[::ffff:127.0.0.1]/", "http://[fe80::1]/", "http://100.64.0.1/"])
def test_loopback_link_local_and_private_hosts_are_refused_by_default(url):
    problem = host_problem(url)
    assert problem and "--allow-webhook-host" in problem


def test_trusted_hosts_addresses_and_networks_are_allowed():
    assert host_problem("http://93.184.216.34/hook") is None  # a public address
    assert host_problem("http://127.0.0.1:9000/", ["127.0.0.1"]) is None
    assert host_problem("http://localhost:9000/", ["LOCALHOST"]) is None
    assert host_problem("http://10.1.2.3/", ["10.0.0.0/8"]) is None
    assert host_problem("http://10.1.2.3/", ["192.168.0.0/16"]) is not None
    assert "cannot be resolved" in host_problem("http://no-such-host.invalid/")


class _Slow(BaseHTTPRequestHandler):
    delivered: dict[str, float] = {}

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/slow":
            time.sleep(3)
        type(self).delivered.setdefault(self.path, time.monotonic())
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_good_hook_is_not_held_up_by_slow_ones(client):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    port = httpd.server_address[1]
    try:
        for _ in range(3):
            client.submit(wait_write(), webhook_url=f"http://127.0.0.1:{port}/slow")
        good = client.submit(wait_write(), webhook_url=f"http://localhost:{port}/good")
        started = time.monotonic()
        _wait_webhook(client, good["id"])
        assert time.monotonic() - started < 2.5  # one sender thread took 9 s or more here
    finally:
        httpd.shutdown()
        httpd.server_close()
