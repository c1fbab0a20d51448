"""Webhooks: a signed JSON summary POSTed when a job ends, retried with backoff, every attempt recorded."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import time
from typing import Any

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


class WebhookSender:
    """Delivers webhooks on one background thread so a slow receiver never holds up the queue."""

    def __init__(self, store: JobStore, default_secret: str, *, attempts: int = 5, backoff_s: float = 1.0,
                 timeout_s: float = 10.0):
        self.store = store
        self.default_secret = default_secret
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="kinograph-webhooks", daemon=True)
        self._thread.start()
        for job in self.store.pending_webhooks():  # left undelivered by a previous process
            self._queue.put(job["id"])

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout)

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
        for n in range(done + 1, self.attempts + 1):
            started = time.time()
            record: dict[str, Any] = {"attempt": n, "at": started}
            try:
                response = client.post(job["webhook_url"], content=body, headers=headers)
                record["status_code"] = response.status_code
                ok = 200 <= response.status_code < 300
            except Exception as exc:
                record["error"] = f"{type(exc).__name__}: {exc}"
                ok = False
            record["seconds"] = round(time.time() - started, 4)
            last = n == self.attempts
            self.store.add_webhook_attempt(job_id, record, "delivered" if ok else ("failed" if last else "pending"))
            if ok or last:
                return
            if self._stop.wait(self.backoff_s * 2 ** (n - 1)):
                return
