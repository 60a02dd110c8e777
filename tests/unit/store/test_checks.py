"""The backend-neutral checks: both stores refuse the same ids, names and limits, with
the same messages."""

from __future__ import annotations

import pytest

from omnioffer.store import IdentityLink, StoredEvent, StoreError, StoreLimits
from omnioffer.store.checks import check_event, check_id, check_id_type, check_limits
from omnioffer.store.redis import keys


def test_limits_are_checked() -> None:
    assert check_limits(StoreLimits()) == StoreLimits()
    with pytest.raises(StoreError, match="max_events_per_customer"):
        check_limits(StoreLimits(max_events_per_customer=0))


def event_keys(e: StoredEvent) -> None:
    """Every Redis key of an event, built in the order the ingest script's keys are."""
    check_id(e.event_id, "event id")  # the marker's member in keys.customer_seen
    keys.customer_events(e.customer_id)
    if e.link is not None:
        keys.identity(e.link.id_type, e.link.id_value)
        keys.customer_events(e.link.anonymous_id)
    if e.counter is not None:
        keys.counters(e.counter[0])


def message(call: object, e: StoredEvent) -> str:
    with pytest.raises(StoreError) as info:
        call(e)  # type: ignore[operator]
    return str(info.value)


@pytest.mark.parametrize(
    "e",
    [
        StoredEvent("", "c1", b""),
        StoredEvent("e1", "c{1}", b""),
        StoredEvent("e{", "c{", b""),  # the event id is named first
        StoredEvent("e1", "c1", b"", IdentityLink("a:b", "x", "anon")),
        StoredEvent("e1", "c1", b"", IdentityLink("", "", "anon")),
        StoredEvent("e1", "c1", b"", IdentityLink("email", "x" * 1025, "anon")),
        StoredEvent("e1", "c1", b"", IdentityLink("email", "x", "")),
        StoredEvent("e1", "c1", b"", None, ("o}", "clicks")),
    ],
)
def test_an_event_is_refused_as_its_redis_keys_would_refuse_it(e: StoredEvent) -> None:
    assert message(check_event, e) == message(event_keys, e)


def test_good_ids_pass_through() -> None:
    assert check_id("ünï a:b") == "ünï a:b"
    assert check_id_type("email") == "email"
    check_event(StoredEvent("e1", "c1", b"", IdentityLink("email", "a@x", "anon"), ("o1", "n")))
