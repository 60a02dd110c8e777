"""Contract: the decision log, first-touch records and the stored experiment definitions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from omnioffer.store import FeatureStore, IdentityLink, StoredEvent, StoreError
from omnioffer.store.base import RecordedDecision


def test_decision_log_pages_every_record_once_oldest_first(
    store: FeatureStore, aio: asyncio.Runner
) -> None:
    aio.run(store.log_decisions([("c1", b"1"), ("", b"2"), ("c2", b"3")]))
    aio.run(store.log_decisions([("c1", b"4"), ("c3", b"5")]))
    aio.run(store.log_decisions([]))
    seen: list[tuple[str, bytes]] = []
    after = None
    while page := aio.run(store.read_decisions(after, 2)):
        seen += page
        after = page[-1][0]
    assert [p for _, p in seen] == [b"1", b"2", b"3", b"4", b"5"]
    assert len({i for i, _ in seen}) == 5
    assert aio.run(store.read_decisions(seen[2][0], 10)) == seen[3:]
    assert aio.run(store.read_decisions(None, 0)) == []
    assert aio.run(store.read_log(None, 10)) == [], "the event log is another stream"


def test_decision_log_refuses_bad_customer_ids_before_writing(
    store: FeatureStore, aio: asyncio.Runner
) -> None:
    with pytest.raises(StoreError):
        aio.run(store.log_decisions([("c1", b"1"), ("c{2}", b"2")]))
    assert aio.run(store.read_decisions(None, 10)) == []


def test_record_decision_writes_link_log_and_first_touch_together(
    store: FeatureStore, aio: asyncio.Runner
) -> None:
    aio.run(store.record_decision(RecordedDecision("d1", "c1", b"served", b"L1", b"T1")))
    aio.run(store.record_decision(RecordedDecision("d2", "c1", b"again", b"L2", b"T2")))
    aio.run(store.record_decision(RecordedDecision("d3", None, None, b"L3")))
    assert aio.run(store.recall_decision("d1")) == ("c1", b"served")
    record = aio.run(store.fetch_customer("v0", "c1"))
    assert (record.last_decision, record.first_touch) == (b"again", b"T1"), "first touch wins"
    assert [p for _, p in aio.run(store.read_decisions(None, 10))] == [b"L1", b"L2", b"L3"]


def test_first_touch_is_kept_once_and_follows_an_identity_link(
    store: FeatureStore, aio: asyncio.Runner
) -> None:
    assert aio.run(store.keep_first_touch("anon:cookie:a1", b"anon-record"))
    assert not aio.run(store.keep_first_touch("anon:cookie:a1", b"other"))
    assert aio.run(store.keep_first_touch("anon:cookie:a2", b"second-anon"))
    assert aio.run(store.keep_first_touch("c2", b"own"))
    link = IdentityLink("cookie", "a1", "anon:cookie:a1")
    aio.run(store.ingest([StoredEvent("e1", "c1", b"login", link=link)]))
    assert aio.run(store.fetch_customer("v0", "c1")).first_touch == b"anon-record"
    assert aio.run(store.fetch_customer("v0", "anon:cookie:a1")).first_touch is None
    link2 = IdentityLink("cookie", "a2", "anon:cookie:a2")
    aio.run(store.ingest([StoredEvent("e2", "c2", b"login", link=link2)]))
    assert aio.run(store.fetch_customer("v0", "c2")).first_touch == b"own", "the customer's stays"


def test_experiment_definitions_are_replaced_atomically_and_conditionally(
    store_factory: Callable[..., FeatureStore], aio: asyncio.Runner
) -> None:
    store, other = store_factory(), store_factory()
    assert aio.run(store.get_experiments()) is None
    assert aio.run(store.experiments_checksum()) is None
    assert not aio.run(store.put_experiments("s1", b"one", "s0")), "none stored: not s0"
    assert aio.run(store.put_experiments("s1", b"one", ""))
    assert not aio.run(store.put_experiments("s2", b"two", ""))
    assert aio.run(other.get_experiments()) == ("s1", b"one")
    assert aio.run(other.put_experiments("s2", b"two", "s1"))
    assert not aio.run(store.put_experiments("s3", b"three", "s1"))
    assert aio.run(store.experiments_checksum()) == "s2"
    assert aio.run(store.put_experiments("s3", b"three", None))
    assert aio.run(other.get_experiments()) == ("s3", b"three")
