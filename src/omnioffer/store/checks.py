"""Checks every backend applies before it touches its data, with the same messages.

Version names end up in Redis keys and glob patterns, ids inside Redis Cluster hash
tags ("{c:<id>}"), so both backends keep to the stricter of the two: a store URL can be
switched without an id that one backend took being refused by the other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from omnioffer.store.base import StoredEvent, StoreError, StoreLimits

_VERSION_RE = re.compile(r"[A-Za-z0-9._-]{1,100}")
_MAX_ID_LEN = 1024


def check_version(version: str) -> str:
    """Version names end up inside keys and glob patterns: keep them to a safe alphabet."""
    if not isinstance(version, str) or _VERSION_RE.fullmatch(version) is None:
        raise StoreError(
            f"invalid version name {version!r}: use 1..100 characters of A-Z a-z 0-9 . _ -"
        )
    return version


def check_id(value: str, what: str = "id") -> str:
    """Braces would move or break the cluster hash tag; empty ids are always a bug."""
    if not isinstance(value, str) or not value:
        raise StoreError(f"invalid {what} {value!r}: must be a non-empty string")
    if "{" in value or "}" in value:
        raise StoreError(f"invalid {what} {value!r}: must not contain '{{' or '}}'")
    if len(value) > _MAX_ID_LEN:
        raise StoreError(f"invalid {what}: longer than {_MAX_ID_LEN} characters")
    return value


def check_id_type(id_type: str) -> str:
    """A colon in the type would make (type, value) pairs collide inside one key."""
    check_id(id_type, "identifier type")
    if ":" in id_type:
        raise StoreError(f"invalid identifier type {id_type!r}: must not contain ':'")
    return id_type


def check_limits(limits: StoreLimits) -> StoreLimits:
    """Both backends refuse the same nonsensical limits (a zero cap would keep everything)."""
    for name in ("max_events_per_customer", "events_ttl_s", "dedup_ttl_s", "decision_ttl_s"):
        if getattr(limits, name) < 1:
            raise StoreError(f"StoreLimits.{name} must be at least 1, got {getattr(limits, name)}")
    return limits


def check_consent(customer_id: str, consent: Mapping[str, bool]) -> list[tuple[str, bool]]:
    """A consent change's (channel, granted) pairs, its ids checked; at least one."""
    if not consent:
        raise StoreError("set_consent needs at least one channel")
    check_id(customer_id, "customer id")
    return [(check_id(channel, "channel"), bool(ok)) for channel, ok in consent.items()]


def check_event(e: StoredEvent) -> None:
    """Every id of an event, checked before any write, in the order the Redis keys of
    the event are built (so both backends name the same first bad id)."""
    check_id(e.event_id, "event id")
    check_id(e.customer_id, "customer id")
    if e.link is not None:
        check_id_type(e.link.id_type)
        check_id(e.link.id_value, "identifier value")
        check_id(e.link.anonymous_id, "customer id")
    if e.counter is not None:
        check_id(e.counter[0], "offer id")
