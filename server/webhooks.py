"""Webhooks: a signed JSON summary POSTed when a job ends, retried with backoff, to public addresses only unless
a host is allowed."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import queue
import socket
import threading
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from .security import unseal
from .store import JobStore

log = logging.getLogger("kinograph.server.webhooks")

SIGNATURE_HEADER = "X-Kinograph-Signature"
EVENT_HEADER = "X-Kinograph-Event"


def sign(body: bytes, secret: str) -> str:
    """The signature header value: 'sha256=' + hex HMAC-SHA256 of the exact body bytes."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, header: str | None) -> bool:
    return bool(header) and hmac.compare_digest(sign(body, secret), header)


def summary(job: dict[str, Any]) -> dict[str, Any]:
    """What a webhook receiver gets: status, timings, outputs and the error, no workflow."""
    return {
        "event": f"job.{job['status']}",
        "id": job["id"],
        "name": job["name"],
        "status": job["status"],
        "priority": job["priority"],
        "submitted_at": job["submitted_at"],
        "started_at": job["started_at"],
        "finished_at": job["finished_at"],
        "attempts": job["attempts"],
        "reruns": job["reruns"],
        "error": job["error"],
        "outputs": job["outputs"],
        "node_seconds": {k: v.get("seconds") for k, v in (job["nodes"] or {}).items()},
    }


PER_HOST = 2  # deliveries in flight to one host at a time


def _allowed(host: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address | None,
             allowed: Sequence[str]) -> bool:
    for entry in allowed:
        entry = entry.strip().lower()
        if entry == host.lower():
            return True
        if address is not None:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
    return False


def host_problem(url: str, allowed: Sequence[str] = ()) -> str | None:
    """Why the server will not post to `url`, or None. By default only public addresses are posted to: the host
    is resolved, and a loopback, link-local, private or otherwise non-public address is refused unless the
    host (or its address, or a network holding it) is in `allowed` (--allow-webhook-host)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").strip("[]")
    if _allowed(host, None, allowed):
        return None
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80),
                                   type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError) as exc:
        return f"the webhook host {host!r} cannot be resolved ({exc}); check the URL"
    for address in sorted({info[4][0] for info in infos}):
        ip = ipaddress.ip_address(address.split("%")[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        if ip.is_global and not ip.is_multicast or _allowed(host, ip, allowed):
            continue
        kind = ("loopback" if ip.is_loopback else "link-local" if ip.is_link_local
                else "private" if ip.is_private else "non-public")
        return (f"the webhook host {host!r} is {ip}, a {kind} address, and this server posts webhooks only to "
                f"public addresses; start it with --allow-webhook-host {host} to trust this host")
    return None


class WebhookSender:
    """Delivers webhooks on a few background threads, at most PER_HOST at a time to one host, so a slow or
    failing receiver never holds up the others' hooks."""

    def __init__(self, store: JobStore, default_secret: str, *, attempts: int = 5, backoff_s: float = 1.0,
                 timeout_s: float = 10.0, allowed_hosts: Sequence[str] = (), threads: int = 8):
        self.store = store
        self.default_secret = default_secret
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self.allowed_hosts = tuple(allowed_hosts)
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._count = threads
        self._per_host: dict[str, threading.Semaphore] = {}
        self._hosts_lock = threading.Lock()

    def start(self) -> None:
        self._threads = [threading.Thread(target=self._loop, name=f"kinograph-webhooks-{i}", daemon=True)
                         for i in range(self._count)]
        for thread in self._threads:
            thread.start()
        for job in self.store.pending_webhooks():  # left undelivered by a previous process
            self._queue.put(job["id"])

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        for _ in self._threads:
            self._queue.put(None)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def job_ended(self, job_id: str) -> None:
        self._queue.put(job_id)

    def idle(self) -> bool:
        return self._queue.unfinished_tasks == 0

    def _loop(self) -> None:
        import httpx

        with httpx.Client(timeout=self.timeout_s, follow_redirects=False) as client:
            while not self._stop.is_set():
                job_id = self._queue.get()
                try:
                    if job_id is not None:
                        self._deliver(client, job_id)
                except Exception:  # never let one bad job stop deliveries
                    log.exception("webhook for job %s failed", job_id)
                finally:
                    self._queue.task_done()

    def _host_slot(self, url: str) -> threading.Semaphore:
        host = (urlsplit(url).hostname or "").lower()
        with self._hosts_lock:
            return self._per_host.setdefault(host, threading.Semaphore(PER_HOST))

    def _deliver(self, client, job_id: str) -> None:
        job = self.store.get(job_id)
        if job is None or not job["webhook_url"] or job["webhook_state"] != "pending":
            return
        body = json.dumps(summary(job), sort_keys=True, separators=(",", ":")).encode()
        key = unseal(self.default_secret, job["webhook_secret"]) if job["webhook_secret"] else self.default_secret
        if key is None:  # sealed under another server key (--webhook-secret changed): it cannot be signed
            self.store.add_webhook_attempt(job_id, {"attempt": len(job["webhook_attempts"]) + 1, "at": time.time(),
                                                    "error": "the job's webhook secret was sealed with another "
                                                             "server key"}, "failed")
            return
        headers = {"Content-Type": "application/json", EVENT_HEADER: f"job.{job['status']}",
                   SIGNATURE_HEADER: sign(body, key),
                   "User-Agent": "kinograph-server"}
        done = len(job["webhook_attempts"])
        url = job["webhook_url"]
        for n in range(done + 1, self.attempts + 1):
            # The submitter sees only that try n was made and the state (delivered, or failed after n tries): what
            # the receiver answered, or why it could not be reached, goes to the server's log alone, so a job
            # cannot be used to probe the server's network.
            record: dict[str, Any] = {"attempt": n, "at": time.time()}
            problem = host_problem(url, self.allowed_hosts)  # again now: a name may resolve elsewhere since
            if problem:
                log.warning("webhook of job %s not sent: %s", job_id, problem)
                self.store.add_webhook_attempt(job_id, record, "failed")
                return
            with self._host_slot(url):
                try:
                    response = client.post(url, content=body, headers=headers)
                    ok = 200 <= response.status_code < 300
                    outcome = f"HTTP {response.status_code}"
                except Exception as exc:
                    ok, outcome = False, f"{type(exc).__name__}: {exc}"
            last = n == self.attempts
            if not ok:
                log.info("webhook of job %s, try %d: %s", job_id, n, outcome)
            self.store.add_webhook_attempt(job_id, record, "delivered" if ok else ("failed" if last else "pending"))
            if ok or last:
                return
            if self._stop.wait(self.backoff_s * 2 ** (n - 1)):
                return
