"""One log line per request: request id, route, status, latency, and for decisions the
hashed customer, channel, decision id, model version and fallback.

The request id comes from the caller's X-Request-ID (kept when it is a short token) or
is generated, and is echoed in the response's X-Request-ID. Handlers add their fields
with `note(...)` into a dict the middleware put in a context variable before calling
the app (a dict, so a handler run in a copied context still fills the same one).
`JsonFormatter` writes every record as one JSON object; the human format is the
plain formatter over the same message.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
import uuid
from contextvars import ContextVar
from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("omnioffer.access")
REQUEST_ID_HEADER = "x-request-id"
_GOOD_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")  # anything else is replaced, not logged
_fields: ContextVar[dict[str, Any] | None] = ContextVar("omnioffer_access", default=None)


def note(**fields: Any) -> None:
    """Add fields to this request's log line (no-op outside a request)."""
    current = _fields.get()
    if current is not None:
        current.update(fields)


def hash_customer(customer_id: str | None) -> str | None:
    """A stable, non-reversible-at-a-glance token to correlate lines, not the id itself."""
    if customer_id is None:
        return None
    return hashlib.sha256(customer_id.encode()).hexdigest()[:16]


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if _GOOD_ID.match(text):
                return text
    return uuid.uuid4().hex


class AccessLogMiddleware(ASGIMiddleware):
    """Logs every HTTP request once, after its answer was sent, with its real status."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        start = time.perf_counter()
        fields: dict[str, Any] = {"request_id": _request_id(scope), "status": 500}
        token = _fields.set(fields)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                fields["status"] = message["status"]
                MutableScopeHeaders.from_message(message)[REQUEST_ID_HEADER] = fields["request_id"]
            await send(message)

        try:
            await next_app(scope, receive, send_with_id)
        finally:
            _fields.reset(token)
            latency_ms = round((time.perf_counter() - start) * 1000, 3)
            line = {"request_id": fields.pop("request_id"), "method": scope.get("method"),
                    "route": scope.get("path_template") or scope.get("path"),
                    "status": fields.pop("status"), "latency_ms": latency_ms, **fields}  # fmt: skip
            log.info(" ".join(f"{k}={v}" for k, v in line.items() if v is not None),
                     extra={"fields": line})  # fmt: skip


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, and the record's fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        else:
            out["message"] = record.getMessage()
        if record.exc_info:
            out["error"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


JsonFormatter.converter = time.gmtime
