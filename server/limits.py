"""Refuse a request from its headers when it can be: a wrong token (401) or a body over the limit (413), so a
stranger's upload is never read, parsed or held in memory."""

from __future__ import annotations

import json

from nodegraph.sizes import show_size

from .security import token_matches

DEFAULT_MAX_BODY = 8 * 1024 * 1024
PUBLIC_PATHS = frozenset({"/v1/health"})


class RequestLimits:
    """ASGI middleware: the token first (from the header alone), then the body's size, before the app reads it."""

    def __init__(self, app, *, token: str | None, max_body: int = DEFAULT_MAX_BODY):
        self.app = app
        self.token = token
        self.max_body = max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        if self.token is not None and scope["path"] not in PUBLIC_PATHS:
            given = headers.get(b"authorization", b"").decode("latin-1")
            if not token_matches(given, self.token):
                return await _answer(send, 401, "missing or wrong token; send 'Authorization: Bearer <token>'",
                                     [(b"www-authenticate", b"Bearer")])
        length = headers.get(b"content-length")
        if length is not None:
            if not length.isdigit():
                return await _answer(send, 400, "the Content-Length header is not a number")
            if int(length) > self.max_body:
                return await _answer(send, 413, self._too_big(int(length)))
            return await self.app(scope, receive, send)
        if scope["method"] in ("GET", "HEAD", "DELETE", "OPTIONS"):
            return await self.app(scope, receive, send)
        # A body of unknown length (chunked): read at most the limit here, then hand it on.
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            size += len(message.get("body", b""))
            if size > self.max_body:
                return await _answer(send, 413, self._too_big(size, at_least=True))
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)

    def _too_big(self, size: int, at_least: bool = False) -> str:
        return (f"the request body is {'over ' if at_least else ''}{show_size(size)}, above the server's limit of "
                f"{show_size(self.max_body)}; send a smaller workflow, or start the server with a larger --max-body")


async def _answer(send, status: int, detail: str, headers: list | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})
