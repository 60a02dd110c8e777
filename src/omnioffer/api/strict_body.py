"""JSON bodies with strict types: `"k": "3"` is a 400, as docs/api.md promises.

Litestar converts a request body leniently (a numeric string becomes an int). Before
the handler runs, this hook decodes the same bytes (read once; Litestar keeps them) as
the route's contract struct in msgspec's strict mode, so a wrong JSON type fails with
the usual 400 problem naming the field. Bodies that are not JSON at all are left to
the normal path, which reports them as malformed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException

from omnioffer.contracts.http import (
    DecisionRequest,
    EventsRequest,
    FeedbackRequest,
    RecommendationRequest,
)

BODIES: Mapping[str, type[msgspec.Struct]] = {
    "/v1/decisions": DecisionRequest,
    "/v1/recommendations": RecommendationRequest,
    "/v1/events": EventsRequest,
    "/v1/feedback": FeedbackRequest,
}


async def strict_body(request: Request[Any, Any, Any]) -> None:
    """The app's before_request hook: refuse a body whose JSON types are wrong."""
    kind = BODIES.get(request.scope.get("path_template") or request.url.path)
    if kind is None or request.method != "POST":
        return
    try:
        raw = msgspec.json.decode(await request.body())
    except msgspec.DecodeError:
        return  # not JSON (or too deep): the handler's own decoding reports it
    try:
        msgspec.convert(raw, kind, strict=True)
    except msgspec.ValidationError as exc:
        raise ValidationException(str(exc)) from exc
