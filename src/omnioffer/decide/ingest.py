"""Ingest: incoming contract events and feedback -> resolved, encoded store events
(validated with JSON paths).

An event names its customer by customer_id, by an identifier, or both; both at once
links the identifier to the customer and carries the identifier's anonymous events
over. An identifier nobody is linked to yet gets a stable anonymous pseudo-id.
Events without an event_id get one derived from their content, so a retried
batch is still deduplicated.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime

from omnioffer.contracts.erasure import ANON_PREFIX, anonymous_id
from omnioffer.contracts.http import EARLIEST_TS, ISO_TIMESTAMP, LATEST_TS, EventIn, FeedbackRequest
from omnioffer.contracts.payloads import Event, encode_event
from omnioffer.errors import InputError
from omnioffer.store.base import FeatureStore, IdentityLink, StoredEvent

ITEM_EVENTS = frozenset({"view", "add_to_cart", "purchase", "return"})
_ISO = re.compile(ISO_TIMESTAMP)


MAX_SKEW_S = 300.0  # default max_clock_skew_s: events stamped later than this are refused


def parse_timestamp(value: str | float, field: str) -> float:
    if isinstance(value, str):
        if _ISO.fullmatch(value) is None:  # the grammar the OpenAPI document states
            raise InputError(field, f"not an ISO 8601 timestamp of 1970..2099 "
                             f"(YYYY-MM-DD[THH:MM[:SS[.f]]][Z|+HH:MM]): {value!r}")  # fmt: skip
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        ts = parsed.timestamp()
    else:
        ts = float(value)
    if not EARLIEST_TS <= ts <= LATEST_TS:
        raise InputError(field, f"timestamp {value!r} is outside 1970..2100")
    return ts


def check_who(customer_id: str | None, id_type: str | None, id_value: str | None, at: str) -> None:
    if (id_type is None) != (id_value is None):
        raise InputError(f"{at}.id_value" if id_value is None else f"{at}.id_type",
                         "id_type and id_value go together")  # fmt: skip
    if customer_id is None and id_type is None:
        raise InputError(f"{at}.customer_id", "give customer_id or id_type + id_value")
    if customer_id is not None and customer_id.startswith(ANON_PREFIX):
        raise InputError(f"{at}.customer_id",
                         f"{customer_id!r} is an anonymous pseudo-id, not a customer id: "
                         "name the visitor by id_type + id_value")  # fmt: skip
    for name, value in (("customer_id", customer_id), ("id_type", id_type), ("id_value", id_value)):
        if value is not None and (
            "{" in value or "}" in value or (name == "id_type" and ":" in value)
        ):
            raise InputError(f"{at}.{name}", "must not contain '{', '}' (or ':' in id_type)")


def _validate(e: EventIn, at: str, channels: Sequence[str], now: float, skew: float) -> float:
    check_who(e.customer_id, e.id_type, e.id_value, at)
    if e.channel not in channels:
        raise InputError(
            f"{at}.channel", f"unknown channel {e.channel!r} (known: {', '.join(channels)})"
        )
    if e.event_type in ITEM_EVENTS and e.item_id is None:
        raise InputError(f"{at}.item_id", f"{e.event_type} events need an item_id")
    if e.event_type not in ITEM_EVENTS and e.offer_id is None:
        raise InputError(f"{at}.offer_id", f"{e.event_type} events need an offer_id")
    ts = parse_timestamp(e.timestamp, f"{at}.timestamp")
    if ts > now + skew:
        raise InputError(
            f"{at}.timestamp",
            f"timestamp {e.timestamp!r} is {ts - now:.0f} s after the service clock "
            f"(max_clock_skew_s is {skew:g})",
        )
    return ts


def _event_id(e: EventIn, ts: float) -> str:
    parts = (ts, e.event_type, e.channel, e.customer_id, e.id_type, e.id_value, e.item_id,
             e.offer_id, e.quantity, e.session_id)  # not revenue, as docs/api.md says  # fmt: skip
    key = "|".join(str(x) for x in parts)
    return "h:" + hashlib.sha256(key.encode()).hexdigest()[:32]


async def to_stored(
    events: Sequence[EventIn],
    store: FeatureStore,
    channels: Sequence[str],
    now: float,
    max_skew_s: float = MAX_SKEW_S,
) -> list[StoredEvent]:
    """Validate every event first (nothing is written on any error), then resolve.
    `now`: the service clock; no event may be stamped more than `max_skew_s` after it."""
    stamps = [_validate(e, f"$.events[{i}]", channels, now, max_skew_s)
              for i, e in enumerate(events)]  # fmt: skip
    resolved: dict[tuple[str, str], str | None] = {}
    out = []
    for e, ts in zip(events, stamps, strict=True):
        link = None
        if e.id_type is not None and e.id_value is not None:
            anon = anonymous_id(e.id_type, e.id_value)
            if e.customer_id is not None:
                link = IdentityLink(e.id_type, e.id_value, anon)
                resolved[(e.id_type, e.id_value)] = e.customer_id  # later events follow the link
            elif (e.id_type, e.id_value) not in resolved:
                resolved[(e.id_type, e.id_value)] = await store.resolve(e.id_type, e.id_value)
            who = e.customer_id or resolved.get((e.id_type, e.id_value)) or anon
        else:
            who = e.customer_id or ""
        event_id = e.event_id or _event_id(e, ts)
        payload = encode_event(Event(ts, e.event_type, e.channel, e.item_id, e.offer_id,
                                     e.quantity, e.revenue, event_id))  # fmt: skip
        counter = (
            (e.offer_id, e.event_type) if e.offer_id and e.event_type not in ITEM_EVENTS else None
        )
        out.append(StoredEvent(event_id, who, payload, link, counter))
    return out


def feedback_event(
    request: FeedbackRequest, customer_id: str, channel: str, now: float
) -> StoredEvent:
    """The offer event a feedback call records (idempotent per decision, offer, outcome)."""
    kind = f"offer_{request.outcome}"
    event_id = f"fb:{request.decision_id}:{request.offer_id}:{request.outcome}"
    event = Event(now, kind, channel, None, request.offer_id, event_id=event_id)
    return StoredEvent(event_id, customer_id, encode_event(event), None, (request.offer_id, kind))
