"""Who may call what: API keys with scopes (and channels), checked before any handler.

Each route needs one scope: decisions `decide`; recommendations and similar items
`recommend`; events `events`; feedback `feedback`; `/admin/...`, `/v1/experiments...`,
`/v1/holdout` and erasure (`DELETE /v1/customers/{id}`) `admin`. A consent change (`PUT
/v1/customers/{id}/consent`) needs `admin`, or an `events` key limited to channels, for
those channels only (a channel's own system, say the e-mail platform's unsubscribe link,
withdraws its own consent; an unlimited events key may not). A key limited to some
channels may only name those (the body's `channel`, every event's `channel`, every
channel of a consent change).
No key, or one that is unknown, malformed or revoked: 401; a key without the scope or
the channel: 403. `/health/live` and the API document are always open; `/health/ready`
and `/metrics` are open when the service listens on a loopback address only, and need
any valid key otherwise. Without a keys file the service checks nothing (the demo);
`omnioffer serve` refuses that on a non-loopback address unless `--insecure`.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from litestar import Request
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException

from omnioffer.api_keys import ApiKey, KeyRing

OPEN = ("/health/live", "/schema")
ADMIN_PATHS = ("/v1/holdout",)
PROBES = ("/health/ready", "/metrics")
SCOPE_OF = {"/v1/decisions": "decide", "/v1/recommendations": "recommend",
            "/v1/events": "events", "/v1/feedback": "feedback"}  # fmt: skip


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


CONSENT = "consent"  # not a key scope: admin, or a channel-limited events key (see above)
CUSTOMERS = "/v1/customers/"


def scope_of(path: str) -> str | None:
    """The scope a path needs; None for the open ones and the probes."""
    if path in SCOPE_OF:
        return SCOPE_OF[path]
    if path.startswith("/v1/items/"):
        return "recommend"
    if path.startswith(CUSTOMERS):
        return CONSENT if path.endswith("/consent") else "admin"
    if path.startswith(("/admin/", "/v1/experiments")) or path in ADMIN_PATHS:
        return "admin"
    return None


def presented(request: Request[Any, Any, Any]) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("x-api-key") or None


def authenticate(
    request: Request[Any, Any, Any], ring: KeyRing, *, open_probes: bool
) -> ApiKey | None:
    """The key the request is made with, or None on a route that needs none; raise 401
    without a valid key and 403 when its scopes do not cover the route. The channels
    are checked once the body is decoded (`check_channels`)."""
    path = request.url.path
    if path in OPEN or path.startswith(OPEN[1] + "/"):
        return None
    scope = scope_of(path)
    if scope is None and (open_probes or path not in PROBES):
        return None  # unrouted paths get their 404 from the router
    token = presented(request)
    key = ring.find(token) if token else None
    if key is None:
        raise NotAuthorizedException(
            "a valid API key is required (Authorization: Bearer <key> or X-API-Key)",
            headers={"WWW-Authenticate": 'Bearer realm="omnioffer"'},
        )
    if scope == CONSENT and "admin" not in key.scopes:
        if "events" not in key.scopes or not key.channels:
            raise PermissionDeniedException(
                f"key {key.key_id} may not change consent: that needs the 'admin' scope, or "
                "an 'events' key limited to the channels it changes"
            )
    elif scope not in (None, CONSENT) and scope not in key.scopes:
        raise PermissionDeniedException(f"key {key.key_id} has no {scope!r} scope")
    return key


def check_channels(body: Any, key: ApiKey | None, path: str = "") -> None:
    """Raise 403 when a channel-limited `key` is used for a channel it lacks, in the
    request's JSON `body` (decoded once by the app's hook, or None) to `path`."""
    if key is None or not key.channels or not isinstance(body, dict):
        return  # no key, no body, or not an object: the handler reports it
    if scope_of(path) == CONSENT:
        if "admin" in key.scopes:
            return
        named: list[Any] = list(body)  # a consent change names channels as its keys
    else:
        events = body.get("events")
        named = [body.get("channel"),
                 *(e.get("channel") for e in events or () if isinstance(e, dict))]  # fmt: skip
    for channel in named:
        if isinstance(channel, str) and not key.allows_channel(channel):
            raise PermissionDeniedException(
                f"key {key.key_id} is limited to {', '.join(key.channels)}, not {channel!r}"
            )
