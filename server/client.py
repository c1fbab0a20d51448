"""A small HTTP client for the job server (used by `kinograph submit`, `jobs` and `cancel`)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from .security import read_saved_token
from .store import default_data_dir

DEFAULT_URL = "http://127.0.0.1:8470"


class ServerError(Exception):
    """The server answered with an error, or could not be reached."""

    def __init__(self, message: str, status_code: int = 0, body: Any = None):
        super().__init__(message)
        self.status_code = status_code
        self.body = body


def default_url() -> str:
    return os.environ.get("KINOGRAPH_SERVER") or DEFAULT_URL


def default_token() -> str | None:
    return os.environ.get("KINOGRAPH_TOKEN") or read_saved_token(default_data_dir())


class Client:
    """Talks to one server; every call raises ServerError with a readable message on failure."""

    def __init__(self, url: str | None = None, token: str | None = None, timeout: float = 30.0):
        self.url = (url or default_url()).rstrip("/")
        token = token if token is not None else default_token()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs) -> Any:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ServerError(f"cannot reach the server at {self.url}: {exc}; start it with 'kinograph serve' "
                              "or pass --server URL") from None
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = response.text
            raise ServerError(_message(response.status_code, body), response.status_code, body)
        return response.json()

    # -- the API ----------------------------------------------------------------------

    def health(self) -> dict:
        return self._call("GET", "/v1/health")

    def submit(self, workflow: dict, *, overrides: list[str] = (), priority: int = 0, name: str | None = None,
               base_dir: str | None = None, targets: list[str] | None = None, webhook_url: str | None = None,
               webhook_secret: str | None = None, quality: dict | None = None) -> dict:
        body = {"workflow": workflow, "overrides": list(overrides), "priority": priority}
        for key, value in (("name", name), ("base_dir", base_dir), ("targets", targets),
                           ("webhook_url", webhook_url), ("webhook_secret", webhook_secret), ("quality", quality)):
            if value is not None:
                body[key] = value
        return self._call("POST", "/v1/jobs", json=body)

    def job(self, job_id: str) -> dict:
        return self._call("GET", f"/v1/jobs/{job_id}")

    def jobs(self, statuses: list[str] | None = None, limit: int = 50, offset: int = 0) -> dict:
        params: list[tuple[str, Any]] = [("limit", limit), ("offset", offset)]
        params += [("status", s) for s in statuses or ()]
        return self._call("GET", "/v1/jobs", params=params)

    def cancel(self, job_id: str) -> dict:
        return self._call("POST", f"/v1/jobs/{job_id}/cancel")

    def nodes(self) -> list[dict]:
        return self._call("GET", "/v1/nodes")

    def events(self, job_id: str) -> Iterator[tuple[str, dict]]:
        """(event name, data) pairs from the job's event stream, until the server ends it."""
        try:
            with self.http.stream("GET", f"/v1/jobs/{job_id}/events", timeout=httpx.Timeout(30, read=60)) as r:
                if r.status_code >= 400:
                    r.read()
                    raise ServerError(_message(r.status_code, r.text), r.status_code)
                name, data = "message", []
                for line in r.iter_lines():
                    if not line:
                        if data:
                            yield name, json.loads("\n".join(data))
                        name, data = "message", []
                    elif line.startswith("event:"):
                        name = line[6:].strip()
                    elif line.startswith("data:"):
                        data.append(line[5:].strip())
        except httpx.HTTPError as exc:
            raise ServerError(f"lost the event stream from {self.url}: {exc}") from None

    def download(self, url_path: str, dest: Path) -> Path:
        try:
            with self.http.stream("GET", url_path) as r:
                if r.status_code >= 400:
                    r.read()
                    raise ServerError(_message(r.status_code, r.text), r.status_code)
                dest.parent.mkdir(parents=True, exist_ok=True)
                with dest.open("wb") as fh:
                    for chunk in r.iter_bytes():
                        fh.write(chunk)
        except httpx.HTTPError as exc:
            raise ServerError(f"download of {url_path} failed: {exc}") from None
        return dest


def _message(status: int, body: Any) -> str:
    if isinstance(body, dict):
        if "message" in body:
            return str(body["message"])
        detail = body.get("detail")
        if isinstance(detail, str):
            return detail
        if isinstance(detail, list):  # FastAPI request validation
            return "; ".join(f"{'.'.join(map(str, d.get('loc', [])))}: {d.get('msg')}" for d in detail)
    return f"HTTP {status}: {str(body)[:300]}"
