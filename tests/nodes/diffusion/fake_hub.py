"""A small stand-in for the Hugging Face Hub's HTTP API on a loopback port: model info, the file tree, and
file downloads (HEAD and GET, with the headers the hub client reads), for one or more in-memory repos."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class FakeHub:
    def __init__(self, repos: dict[str, dict[str, bytes]]):
        self.repos = repos
        self.requests: list[str] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_HEAD(self):
                hub._answer(self, head=True)

            def do_GET(self):
                hub._answer(self, head=False)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeHub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _json(self, handler, data, head: bool) -> None:
        body = json.dumps(data).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if not head:
            handler.wfile.write(body)

    def _answer(self, handler, head: bool) -> None:
        path = handler.path.split("?", 1)[0]
        self.requests.append(f"{'HEAD' if head else 'GET'} {path}")
        info = re.match(r"^/api/models/([^/]+/[^/]+)(?:/revision/[^/]+)?$", path)
        tree = re.match(r"^/api/models/([^/]+/[^/]+)/tree/[^/]+(?:/(.*))?$", path)
        resolve = re.match(r"^/([^/]+/[^/]+)/resolve/[^/]+/(.+)$", path)
        if info and info.group(1) in self.repos:
            files = self.repos[info.group(1)]
            self._json(handler, {"id": info.group(1), "sha": COMMIT,
                                 "siblings": [{"rfilename": name, "size": len(data)} for name, data in files.items()]},
                       head)
        elif tree and tree.group(1) in self.repos:
            files = self.repos[tree.group(1)]
            entries = [{"type": "file", "path": name, "size": len(data),
                        "oid": hashlib.sha1(data).hexdigest()} for name, data in files.items()]
            self._json(handler, entries, head)
        elif resolve and resolve.group(1) in self.repos and resolve.group(2) in self.repos[resolve.group(1)]:
            data = self.repos[resolve.group(1)][resolve.group(2)]
            handler.send_response(200)
            handler.send_header("Content-Type", "application/octet-stream")
            handler.send_header("Content-Length", str(len(data)))
            handler.send_header("X-Repo-Commit", COMMIT)
            handler.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
            handler.end_headers()
            if not head:
                handler.wfile.write(data)
        else:
            handler.send_response(404)
            handler.send_header("X-Error-Code", "RepoNotFound" if not resolve else "EntryNotFound")
            handler.send_header("Content-Length", "0")
            handler.end_headers()
