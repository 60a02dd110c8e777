"""A JSON body must say it is JSON: any other `Content-Type` is a 415, before anything
is read or stored.

A browser lets any page post `text/plain`, `application/x-www-form-urlencoded` or
`multipart/form-data` to another origin without asking it first (no CORS preflight),
and Litestar would decode such a body as JSON all the same: that is how a cross-site
form could write events. Routes that take a body (their handler has `data`) accept
`application/json` and `application/<anything>+json`, with any parameters (`charset`);
a missing header is refused too (a page can send a body without one).
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import HTTPException
from litestar.status_codes import HTTP_415_UNSUPPORTED_MEDIA_TYPE


def is_json(content_type: str) -> bool:
    """`application/json` or `application/*+json`, parameters (charset) ignored."""
    media = content_type.partition(";")[0].strip().lower()
    kind, _, subtype = media.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


def require_json(request: Request[Any, Any, Any]) -> None:
    """Raise 415 naming the header when a route that takes a JSON body gets another type."""
    if request.route_handler.parsed_data_field is None:
        return
    given = request.headers.get("content-type")
    if given is not None and is_json(given):
        return
    shown = "no Content-Type header" if given is None else f"Content-Type {given[:100]!r}"
    raise HTTPException(
        status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        detail=f"the request body must be JSON: send Content-Type: application/json, not {shown}",
    )
