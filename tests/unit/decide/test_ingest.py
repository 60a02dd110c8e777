"""Incoming events: timestamps, who, and resolution against a fake store (resolve only)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator, Sequence
from typing import Any, cast

import pytest

from omnioffer.contracts.http import EventIn
from omnioffer.contracts.payloads import Event, decode_event
from omnioffer.decide.ingest import check_who, parse_timestamp, to_stored
from omnioffer.errors import InputError
from omnioffer.store.base import FeatureStore, IdentityLink, StoredEvent

CHANNELS = ("web", "app", "store")
JAN_1_2024 = 1_704_067_200.0
NOW = 4_102_444_800.0  # the service clock of these tests (2100): nothing is in the future


class FakeStore:
    """Only what to_stored needs: identifier -> customer, with every call recorded."""

    def __init__(self, known: dict[tuple[str, str], str] | None = None) -> None:
        self.known = known or {}
        self.calls: list[tuple[str, str]] = []

    async def resolve(self, id_type: str, id_value: str) -> str | None:
        self.calls.append((id_type, id_value))
        return self.known.get((id_type, id_value))


def ein(**fields: Any) -> EventIn:
    base: dict[str, Any] = {"timestamp": "2024-01-01T00:00:00", "event_type": "view",
                            "channel": "web", "item_id": "i1"}  # fmt: skip
    return EventIn(**(base | fields))


def stored(
    events: Sequence[EventIn], store: FakeStore | None = None, now: float = NOW
) -> list[StoredEvent]:
    fake = store or FakeStore()
    return asyncio.run(to_stored(events, cast(FeatureStore, fake), CHANNELS, now))


# --- parse_timestamp --------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-01-01T00:00:00", JAN_1_2024),  # no zone: UTC
    ("2024-01-01", JAN_1_2024),
    ("2024-01-01T00:00:00Z", JAN_1_2024),
    ("2024-01-01T02:00:00+02:00", JAN_1_2024),
    ("2023-12-31T19:00:00-05:00", JAN_1_2024),
    ("2024-01-01T00:00:01.5", JAN_1_2024 + 1.5),
    (JAN_1_2024, JAN_1_2024),
    (1_704_067_200, JAN_1_2024),  # epoch int
    (0.0, 0.0),  # 1970 is the lower bound, inclusive
    (4_102_444_800.0, 4_102_444_800.0),  # 2100-01-01 is the upper bound, inclusive
    ("2024-02-29 00:00", JAN_1_2024 + 59 * 86_400),  # a leap day; a space for the T
    ("2024-01-01T01:00:00.123456789+0100", JAN_1_2024 + 0.123456),  # 9 digits; +HHMM
    ("2024-01-01T01:00+01", JAN_1_2024),
])  # fmt: skip
def test_parse_timestamp(value: str | float, expected: float) -> None:
    assert parse_timestamp(value, "$.t") == expected


@pytest.fixture
def server_in_new_york() -> Iterator[None]:
    """The process time zone is not UTC (naive timestamps must not follow it)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


@pytest.mark.usefixtures("server_in_new_york")
def test_naive_timestamp_is_utc_whatever_the_server_zone() -> None:
    assert parse_timestamp("2024-01-01T00:00:00", "$.t") == JAN_1_2024


@pytest.mark.parametrize("value", [
    -1.0, 4_102_444_801.0, float("nan"), float("inf"),
    "1970-01-01T00:00:00+01:00", "2099-12-31T23:00:00-02:00",  # in the grammar, not the range
])  # fmt: skip
def test_parse_timestamp_out_of_range(value: str | float) -> None:
    with pytest.raises(InputError, match=r"outside 1970\.\.2100") as err:
        parse_timestamp(value, "$.events[4].timestamp")
    assert err.value.field == "$.events[4].timestamp"


@pytest.mark.parametrize("value", [
    "yesterday", "2024-13-01", "", "1704067200",
    # outside the grammar the OpenAPI document states, though Python could read some of them
    "1969-12-31T23:59:59Z", "2100-01-01T00:00:01", "0001-01-01T00:00:00+14:00", "2024-02-30",
    "2023-02-29", "2024-05-01T10:00:00,5", "2024-05-01t10:00", "2024-05-01T10", "20240501",
    "2024-01-01\n", "2024-05-01T10:00:00z", "197\u0660-01-31",  # an Arabic-Indic zero
])  # fmt: skip
def test_parse_timestamp_not_iso(value: str) -> None:
    with pytest.raises(InputError, match="not an ISO 8601 timestamp") as err:
        parse_timestamp(value, "$.timestamp")
    assert err.value.field == "$.timestamp"


# --- check_who --------------------------------------------------------------------------------


@pytest.mark.parametrize(("customer_id", "id_type", "id_value"), [
    ("c1", None, None),
    (None, "cookie", "abc"),
    ("c1", "cookie", "abc"),
    (None, "email_sha", "a:b"),  # ':' is fine in a value
])  # fmt: skip
def test_check_who_accepts(customer_id: str | None, id_type: str | None,
                           id_value: str | None) -> None:  # fmt: skip
    check_who(customer_id, id_type, id_value, "$")


@pytest.mark.parametrize(("customer_id", "id_type", "id_value", "field"), [
    (None, None, None, "$.x.customer_id"),
    ("c1", "cookie", None, "$.x.id_value"),  # the pair must be complete
    ("c1", None, "abc", "$.x.id_type"),
    (None, "cookie", None, "$.x.id_value"),
    ("{c1}", None, None, "$.x.customer_id"),  # braces would break store keys
    ("c}1", None, None, "$.x.customer_id"),
    (None, "cookie", "a{b", "$.x.id_value"),
    (None, "co{okie", "abc", "$.x.id_type"),
    (None, "coo:kie", "abc", "$.x.id_type"),
])  # fmt: skip
def test_check_who_refuses(customer_id: str | None, id_type: str | None, id_value: str | None,
                           field: str) -> None:  # fmt: skip
    with pytest.raises(InputError) as err:
        check_who(customer_id, id_type, id_value, "$.x")
    assert err.value.field == field


# --- to_stored: identities --------------------------------------------------------------------


def test_identities_resolve_link_and_fall_back_to_anonymous() -> None:
    store = FakeStore({("card", "k3"): "cust3"})
    out = stored([
        ein(id_type="cookie", id_value="c1"),  # nobody linked yet: pseudo-id
        ein(customer_id="cust9", id_type="cookie", id_value="c2"),  # links c2 -> cust9
        ein(id_type="cookie", id_value="c2"),  # follows the link, no store lookup
        ein(id_type="card", id_value="k3"),  # linked in the store
        ein(id_type="cookie", id_value="c1", item_id="i2"),  # looked up once per batch
        ein(customer_id="cust1"),
    ], store)  # fmt: skip
    assert [s.customer_id for s in out] == [
        "anon:cookie:c1", "cust9", "cust9", "cust3", "anon:cookie:c1", "cust1"]  # fmt: skip
    assert [s.link for s in out] == [
        None, IdentityLink("cookie", "c2", "anon:cookie:c2"), None, None, None, None]  # fmt: skip
    assert store.calls == [("cookie", "c1"), ("card", "k3")]


def test_only_later_events_follow_a_link() -> None:
    store = FakeStore()
    out = stored([ein(id_type="cookie", id_value="c2"),
                  ein(customer_id="cust9", id_type="cookie", id_value="c2"),
                  ein(id_type="cookie", id_value="c2", item_id="i3")], store)  # fmt: skip
    assert [s.customer_id for s in out] == ["anon:cookie:c2", "cust9", "cust9"]
    assert store.calls == [("cookie", "c2")]


def test_payload_is_the_encoded_event() -> None:
    sale = ein(customer_id="c", event_type="purchase", channel="store", item_id="i4",
               quantity=2, revenue=19.5, timestamp="2024-01-01T01:00:00+01:00")  # fmt: skip
    [s] = stored([sale])
    assert decode_event(s.payload) == Event(JAN_1_2024, "purchase", "store", "i4", None, 2, 19.5,
                                            s.event_id)  # fmt: skip


# --- to_stored: event ids and counters --------------------------------------------------------


def test_given_event_id_is_kept() -> None:
    [s] = stored([ein(customer_id="c", event_id="pos-1")])
    assert s.event_id == "pos-1"
    assert decode_event(s.payload).event_id == "pos-1"


def test_derived_event_id_is_stable() -> None:
    first = stored([ein(customer_id="c", session_id="s1")])[0].event_id
    assert first.startswith("h:")
    assert len(first) == 2 + 32
    assert stored([ein(customer_id="c", session_id="s1")])[0].event_id == first
    # the same instant written differently is the same event (a retried batch)
    same = ein(customer_id="c", session_id="s1", timestamp=JAN_1_2024)
    assert stored([same])[0].event_id == first


def test_derived_event_id_differs_when_content_differs() -> None:
    variants = [
        ein(customer_id="c"),
        ein(customer_id="d"),
        ein(customer_id="c", timestamp="2024-01-01T00:00:01"),
        ein(customer_id="c", channel="app"),
        ein(customer_id="c", item_id="i2"),
        ein(customer_id="c", event_type="add_to_cart"),
        ein(customer_id="c", quantity=2),
        ein(customer_id="c", session_id="s1"),
        ein(customer_id="c", offer_id="o1"),
        ein(id_type="cookie", id_value="c"),
        ein(id_type="card", id_value="c"),
    ]
    event_ids = [s.event_id for s in stored(variants)]
    assert len(set(event_ids)) == len(variants)


def test_counters_for_offer_events_only() -> None:
    out = stored([
        ein(customer_id="c", event_type="offer_click", item_id=None, offer_id="o1"),
        ein(customer_id="c", event_type="offer_impression", item_id=None, offer_id="o2"),
        ein(customer_id="c", event_type="offer_redeem", offer_id="o3"),
        ein(customer_id="c", event_type="purchase", offer_id="o1"),  # item event, even with offer
        ein(customer_id="c"),
    ])  # fmt: skip
    assert [s.counter for s in out] == [
        ("o1", "offer_click"),
        ("o2", "offer_impression"),
        ("o3", "offer_redeem"),
        None,
        None,
    ]


# --- to_stored: validation --------------------------------------------------------------------


@pytest.mark.parametrize(("bad", "field"), [
    (ein(customer_id="c", channel="fax"), "channel"),
    (ein(customer_id="c", item_id=None), "item_id"),  # view needs an item
    (ein(customer_id="c", event_type="offer_click", item_id=None), "offer_id"),
    (ein(customer_id="c", timestamp="yesterday"), "timestamp"),
    (ein(customer_id="c", timestamp=-5.0), "timestamp"),
    (ein(), "customer_id"),
    (ein(customer_id="c", id_type="cookie"), "id_value"),
    (ein(customer_id="{c}"), "customer_id"),
])  # fmt: skip
def test_a_bad_event_anywhere_refuses_the_batch(bad: EventIn, field: str) -> None:
    store = FakeStore()
    good = [ein(id_type="cookie", id_value="c1"), ein(customer_id="c", event_id="e")]
    for position in (0, 2):
        batch = [*good[:position], bad, *good[position:]]
        with pytest.raises(InputError) as err:
            stored(batch, store)
        assert err.value.field == f"$.events[{position}].{field}"
    assert store.calls == []  # validated before anything is resolved


def test_an_event_stamped_after_the_clock_beyond_the_skew_is_refused() -> None:
    now = JAN_1_2024
    stored([ein(customer_id="c1", timestamp=now + 300)], now=now)  # 5 minutes of skew: accepted
    with pytest.raises(InputError) as refused:
        stored([ein(customer_id="c1"), ein(customer_id="c1", timestamp=now + 301)], now=now)
    assert refused.value.field == "$.events[1].timestamp"
    assert "after the service clock" in str(refused.value)
    with pytest.raises(InputError):  # six impressions dated 2099 no longer mute anyone
        stored([ein(customer_id="c1", timestamp="2099-01-01T00:00:00Z")], now=now)


def test_an_anonymous_pseudo_id_is_not_a_customer_id() -> None:
    with pytest.raises(InputError) as refused:
        stored([ein(customer_id="anon:cookie:abc")])
    assert refused.value.field == "$.events[0].customer_id"
    with pytest.raises(InputError):
        check_who("anon:cookie:abc", None, None, "$")


def test_the_derived_event_id_leaves_revenue_out_as_the_docs_say() -> None:
    (a,) = stored([ein(customer_id="c1", event_type="purchase", revenue=3.2)])
    (b,) = stored([ein(customer_id="c1", event_type="purchase", revenue=9.9)])
    (c,) = stored([ein(customer_id="c1", event_type="purchase", quantity=2)])
    assert a.event_id == b.event_id != c.event_id and a.event_id.startswith("h:")
