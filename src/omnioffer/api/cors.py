"""CORS for an allow-list of browser origins (`cors_origins`); none by default.

Without an allow-list the middleware is not installed at all: no answer carries
`Access-Control-Allow-Origin`, so a page on another origin can send simple requests
(which the 415 for non-JSON bodies stops) but never read an answer. With one, an
allowed origin's preflight (`OPTIONS` with `Access-Control-Request-Method`) is
answered 204 with the methods and headers the API uses, and its requests' answers
carry the origin back; any other origin's preflight gets a 403 problem and no CORS
header, and its requests are served without one (the browser hides the answer).
Preflights are answered here, before the API-key check: a browser sends them
without credentials.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.status_codes import HTTP_204_NO_CONTENT, HTTP_403_FORBIDDEN
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Message,
    Receive,
    Scope,
    Send,
)

from omnioffer.api.errors import PROBLEM_MEDIA_TYPE, status_problem

ALLOW_METHODS = "GET, POST, PUT, DELETE"
ALLOW_HEADERS = "authorization, content-type, x-api-key, x-request-id"
EXPOSE_HEADERS = "retry-after, x-request-id"
MAX_AGE_S = 600


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


class CorsMiddleware(ASGIMiddleware):
    """Answers preflights and marks answers for the allowed origins only."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, origins: Iterable[str]) -> None:
        self.origins = frozenset(origins)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        origin = _header(scope, b"origin")
        if origin is None:
            await next_app(scope, receive, send)
            return
        allowed = origin in self.origins
        preflight = scope.get("method") == "OPTIONS" and (
            _header(scope, b"access-control-request-method") is not None
        )
        if preflight:
            await (self._preflight(origin, send) if allowed else self._refuse(origin, send))
            return
        if not allowed:
            await next_app(scope, receive, send)
            return

        async def send_with_origin(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                headers["access-control-allow-origin"] = origin
                headers["access-control-expose-headers"] = EXPOSE_HEADERS
                headers.add("vary", "Origin")
            await send(message)

        await next_app(scope, receive, send_with_origin)

    @staticmethod
    async def _preflight(origin: str, send: Send) -> None:
        headers = [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-methods", ALLOW_METHODS.encode()),
            (b"access-control-allow-headers", ALLOW_HEADERS.encode()),
            (b"access-control-max-age", str(MAX_AGE_S).encode()),
            (b"vary", b"Origin"),
        ]
        await _answer(send, HTTP_204_NO_CONTENT, headers, b"")

    @staticmethod
    async def _refuse(origin: str, send: Send) -> None:
        detail = f"origin {origin[:200]!r} may not call this API from a browser (cors_origins)"
        body = msgspec.json.encode(status_problem(HTTP_403_FORBIDDEN, detail))
        headers = [(b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                   (b"content-length", str(len(body)).encode()), (b"vary", b"Origin")]  # fmt: skip
        await _answer(send, HTTP_403_FORBIDDEN, headers, body)


async def _answer(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    start: HTTPResponseStartEvent = {"type": "http.response.start", "status": status,
                                     "headers": headers}  # fmt: skip
    await send(start)
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(end)
