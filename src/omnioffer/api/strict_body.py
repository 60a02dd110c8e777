"""JSON bodies with strict types: `"k": "3"` is a 400, as docs/api.md promises.

Litestar converts a request body leniently (a numeric string becomes an int). Before
the handler runs, the app's hook decodes the same bytes once (Litestar keeps them;
the API-key check reads its channels from the same decoded body) and converts them
to the route's contract struct in msgspec's strict mode, so a wrong JSON type fails
with the usual 400 problem naming the field. An integral number (`"k": 3.0`) is an
integer, as JSON Schema (so the OpenAPI document) has it. Bodies that are not JSON at
all are left to the normal path, which reports them as malformed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException

from omnioffer.contracts.http import (
    ConsentRequest,
    DecisionRequest,
    EventsRequest,
    FeedbackRequest,
    RecommendationRequest,
    member_path,
)

CONSENT_PATH = "/v1/customers/{customer_id}/consent"
BODIES: Mapping[str, Any] = {  # route template -> the contract type of its body
    "/v1/decisions": DecisionRequest,
    "/v1/recommendations": RecommendationRequest,
    "/v1/events": EventsRequest,
    "/v1/feedback": FeedbackRequest,
    CONSENT_PATH: ConsentRequest,
}
METHODS = ("POST", "PUT")


async def json_body(request: Request[Any, Any, Any]) -> Any:
    """The body of a POST or PUT to a contract route as plain JSON values, decoded once for
    the checks before the handler; None for other routes and bodies that are not JSON
    (or too deep), which the handler's own decoding reports."""
    if request.method not in METHODS or _kind(request) is None:
        return None
    try:
        return msgspec.json.decode(await request.body())
    except msgspec.DecodeError:
        return None


def check_types(request: Request[Any, Any, Any], body: Any) -> None:
    """Refuse a body (as json_body decoded it) whose JSON types are wrong for its route."""
    kind = _kind(request)
    if body is None or kind is None:
        return
    try:
        msgspec.convert(body, kind, strict=True)
    except msgspec.ValidationError:
        try:  # JSON (and JSON Schema) has one number type: 3.0 is the integer 3, 2.5 is not
            msgspec.convert(integral(body), kind, strict=True)
        except msgspec.ValidationError as exc:
            raise ValidationException(str(exc)) from _named_member(body, kind, exc)


def integral(value: Any) -> Any:
    """`value` with every float that has no fractional part made an int (in lists and
    objects too). Asked only after a strict check failed, so a valid body pays nothing."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [integral(v) for v in value]
    if isinstance(value, dict):
        return {k: integral(v) for k, v in value.items()}
    return value


def _named_member(body: Any, kind: Any, exc: msgspec.ValidationError) -> msgspec.ValidationError:
    """msgspec locates a bad value of a dict body at `$[...]`: name its member instead."""
    if kind is not ConsentRequest or not isinstance(body, dict) or "`$[...]`" not in str(exc):
        return exc
    for name, value in body.items():
        if not isinstance(value, bool):
            got = type(value).__name__ if value is not None else "null"
            return msgspec.ValidationError(
                f"Expected `bool`, got `{got}` - at `{member_path(str(name))}`"
            )
    return exc


def _kind(request: Request[Any, Any, Any]) -> Any:
    return BODIES.get(request.scope.get("path_template") or request.url.path)
