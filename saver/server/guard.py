"""What stands before every route: the token, read-only mode, the size of a request body, and
the request metrics. One ASGI middleware, so that streamed responses pass through untouched."""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException

from saver.server import metrics
from saver.server.context import Settings
from saver.server.ui import security

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("saver.server")
OPEN = ("/healthz",)  # answered without a token: a load balancer's probe
# Reads that the Agent Server API asks for with POST (a search's filter is a body).
READS = re.compile(
    r"/(threads|assistants)/(search|count)|/threads/[^/]+/(history|state/checkpoint)"
)
MUTATING = ("POST", "PUT", "PATCH", "DELETE")
METHODS = ("GET", "HEAD", "OPTIONS", *MUTATING)  # what /metrics counts by name


class Guard:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":  # no websocket route here: none gets past unchecked
            await send({"type": "websocket.close", "code": 1008})
            return
        path: str = scope.get("path", "")
        root: str = scope.get("root_path", "")
        local = path[len(root) :] if root and path.startswith(root) else path
        method = scope["method"]
        refusal = self._refusal(scope, local)
        if refusal is not None:
            metrics.request(method if method in METHODS else "other", "refused", refusal[0], 0.0)
            await _answer(send, *refusal)
            return
        started, status, answered = time.perf_counter(), [500], [False]

        async def sent(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0], answered[0] = message["status"], True
            await send(message)

        try:
            await self.app(scope, self._limited(receive), sent)
        except Exception as e:  # a bug: one line in the log, no stack trace out or in it
            log.error("%s %s failed: %s", method, local, type(e).__name__)
            if not answered[0]:
                await _answer(send, 500, f"internal error ({type(e).__name__})")
        finally:
            route = scope.get("route")
            metrics.request(
                method if method in METHODS else "other",
                getattr(route, "path", "unmatched"),
                status[0],
                time.perf_counter() - started,
            )

    def _refusal(self, scope: Scope, path: str) -> tuple[int, str] | None:
        token = self.settings.token
        method = scope["method"]
        page = security.page_path(path, self.settings.ui_path)
        if token and path not in OPEN and not _authorized(scope, token.encode()):
            if page is None:
                return 401, "missing or wrong token: send Authorization: Bearer <token>"
            if not (security.is_open(page) or security.has_session(_cookies(scope), token)):
                if method == "GET":  # a person at a browser: the page that asks for the token
                    pages = scope.get("root_path", "") + (self.settings.ui_path or "").rstrip("/")
                    query = scope.get("query_string", b"").decode("latin-1")
                    came = pages + page + (f"?{query}" if query else "")
                    return 303, f"{pages}/login?next={quote(came, safe='')}"
                return 401, "log in first: this server needs its token"
        read = method == "POST" and (
            READS.fullmatch(path) is not None or page in ("/login", "/logout")
        )
        if self.settings.read_only and method in MUTATING and not read:
            return 405, "this server is read-only (--read-only)"
        length = _header(scope, b"content-length")
        if length.isdigit() and int(length) > self.settings.max_body:
            return 413, f"request body over {self.settings.max_body} bytes"
        return None

    def _limited(self, receive: Receive) -> Receive:
        seen = [0]

        async def limited() -> Message:
            message = await receive()
            seen[0] += len(message.get("body", b""))
            if seen[0] > self.settings.max_body:
                raise _TooLarge(self.settings.max_body)
            return message

        return limited


def _authorized(scope: Scope, expected: bytes) -> bool:
    """`Authorization: Bearer <token>`, or `x-api-key: <token>`: what langgraph-sdk sends
    for `get_client(api_key=...)`. Compared in constant time."""
    scheme, _, bearer = _header(scope, b"authorization").partition(" ")
    key = _header(scope, b"x-api-key")
    by_bearer = hmac.compare_digest(bearer.encode(), expected) and scheme.lower() == "bearer"
    return by_bearer or hmac.compare_digest(key.encode(), expected)


class _TooLarge(HTTPException):
    """A body past the limit, found while it streams in (FastAPI lets an HTTPException out of
    its body parsing, and answers it)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=f"request body over {limit} bytes")


def _cookies(scope: Scope) -> dict[str, str]:
    pairs = (part.strip().partition("=") for part in _header(scope, b"cookie").split(";"))
    return {name: value for name, sep, value in pairs if sep}


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return ""


async def _answer(send: Send, status: int, detail: str) -> None:
    """A refusal as JSON naming it; 303: `detail` is where to go instead."""
    if status == 303:
        headers = [(b"location", detail.encode()), (b"content-length", b"0")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
