"""Contract: real-time state (events, dedup, identities, log, counters, decisions)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from omnioffer.store import FeatureStore, IdentityLink, StoredEvent, StoreError, StoreLimits

SMALL = StoreLimits(max_events_per_customer=3)


def ev(
    event_id: str,
    customer_id: str,
    payload: bytes | None = None,
    *,
    link: IdentityLink | None = None,
    counter: tuple[str, str] | None = None,
) -> StoredEvent:
    body = payload if payload is not None else event_id.encode()
    return StoredEvent(event_id, customer_id, body, link=link, counter=counter)


def events_of(store: FeatureStore, aio: asyncio.Runner, customer_id: str) -> list[bytes]:
    return aio.run(store.fetch_customer("v0", customer_id)).events


def test_fetch_unknown_customer(store: FeatureStore, aio: asyncio.Runner) -> None:
    record = aio.run(store.fetch_customer("v0", "nobody"))
    assert (record.batch, record.events) == (None, [])


def test_fetch_batch_and_events(store: FeatureStore, aio: asyncio.Runner) -> None:
    aio.run(store.begin_version("v1"))
    aio.run(store.put_customers("v1", [("c1", b"features")]))
    aio.run(store.finish_version("v1", {}))
    aio.run(store.ingest([ev("e1", "c1"), ev("e2", "c1"), ev("e3", "c2")]))
    record = aio.run(store.fetch_customer("v1", "c1"))
    assert (record.batch, record.events) == (b"features", [b"e1", b"e2"])
    assert aio.run(store.fetch_customer("v1", "c2")).batch is None


def test_events_oldest_first_and_capped(
    store_factory: Callable[..., FeatureStore], aio: asyncio.Runner
) -> None:
    store = store_factory(SMALL)
    aio.run(store.ingest([ev("e1", "c1"), ev("e2", "c1")]))
    assert events_of(store, aio, "c1") == [b"e1", b"e2"]
    aio.run(store.ingest([ev("e3", "c1"), ev("e4", "c1"), ev("e5", "c1")]))
    assert events_of(store, aio, "c1") == [b"e3", b"e4", b"e5"]


def test_ingest_is_idempotent(store: FeatureStore, aio: asyncio.Runner) -> None:
    first = aio.run(store.ingest([ev("e1", "c1", counter=("o1", "clicks"))]))
    assert (first.accepted, first.duplicates) == (("e1",), ())
    again = aio.run(
        store.ingest([ev("e1", "c1", counter=("o1", "clicks")), ev("e2", "c1"), ev("e2", "c1")])
    )
    assert (again.accepted, again.duplicates) == (("e2",), ("e1", "e2"))
    assert events_of(store, aio, "c1") == [b"e1", b"e2"]
    assert aio.run(store.offer_counters(["o1"])) == {"o1": {"clicks": 1}}
    assert aio.run(store.ingest([])).accepted == ()


def test_identity_link_moves_anonymous_events(
    store_factory: Callable[..., FeatureStore], aio: asyncio.Runner
) -> None:
    store = store_factory(StoreLimits(max_events_per_customer=4))
    aio.run(store.ingest([ev("k0", "c1"), ev("a1", "anon-1"), ev("a2", "anon-1")]))
    aio.run(store.ingest([ev("a3", "anon-1")]))
    login = ev("login", "c1", link=IdentityLink("email", "x@example.com", "anon-1"))
    assert aio.run(store.ingest([login])).accepted == ("login",)
    assert events_of(store, aio, "c1") == [b"a1", b"a2", b"a3", b"login"]  # capped at 4
    assert events_of(store, aio, "anon-1") == []
    assert aio.run(store.resolve("email", "x@example.com")) == "c1"
    aio.run(store.ingest([ev("again", "c1", link=IdentityLink("cookie", "c1", "c1"))]))
    assert events_of(store, aio, "c1") == [b"a2", b"a3", b"login", b"again"]
    assert aio.run(store.resolve("cookie", "c1")) == "c1"


def test_put_identities_and_resolve(store: FeatureStore, aio: asyncio.Runner) -> None:
    aio.run(store.put_identities([("email", "a@x", "c1"), ("card", "1234", "c2")]))
    assert aio.run(store.resolve("email", "a@x")) == "c1"
    assert aio.run(store.resolve("card", "1234")) == "c2"
    assert aio.run(store.resolve("card", "a@x")) is None
    aio.run(store.put_identities([("email", "a@x", "c3")]))
    assert aio.run(store.resolve("email", "a@x")) == "c3"


def test_read_log_pages_every_accepted_event_once(store: FeatureStore, aio: asyncio.Runner) -> None:
    aio.run(store.ingest([ev("e1", "c1"), ev("e2", "c2"), ev("e1", "c1")]))
    aio.run(store.ingest([ev("e2", "c2"), ev("e3", "c1"), ev("e4", "c3"), ev("e5", "c1")]))
    seen: list[tuple[str, str, bytes]] = []
    after: str | None = None
    while page := aio.run(store.read_log(after, 2)):
        assert len(page) <= 2
        seen += page
        after = page[-1][0]
    assert [(c, p) for _, c, p in seen] == [
        ("c1", b"e1"),
        ("c2", b"e2"),
        ("c1", b"e3"),
        ("c3", b"e4"),
        ("c1", b"e5"),
    ]
    assert len({entry_id for entry_id, _, _ in seen}) == 5
    assert aio.run(store.read_log(None, 0)) == []
    assert aio.run(store.read_log(seen[2][0], 100)) == seen[3:]


def test_trim_log_deletes_through_an_entry_and_keeps_the_rest(
    store: FeatureStore, aio: asyncio.Runner
) -> None:
    aio.run(store.ingest([ev(f"e{n}", f"c{n % 2}") for n in range(5)]))
    seen = aio.run(store.read_log(None, 10))
    assert aio.run(store.trim_log(seen[2][0])) == 3
    assert aio.run(store.read_log(None, 10)) == seen[3:]
    assert aio.run(store.read_log(seen[0][0], 10)) == seen[3:], "a trimmed id is still a cursor"
    aio.run(store.ingest([ev("e5", "c1")]))
    assert aio.run(store.trim_log(seen[2][0])) == 0, "nothing left up to there"
    assert aio.run(store.trim_log(seen[4][0])) == 2
    rest = aio.run(store.read_log(None, 10))
    assert [(c, p) for _, c, p in rest] == [("c1", b"e5")]
    assert events_of(store, aio, "c1") == [b"e1", b"e3", b"e5"], "real-time state untouched"


@pytest.mark.parametrize("bad", ["", "x", "1-x", "-1"])
def test_trim_log_refuses_an_id_that_is_not_an_entry_id(
    store: FeatureStore, aio: asyncio.Runner, bad: str
) -> None:
    aio.run(store.ingest([ev("e1", "c1")]))
    with pytest.raises(StoreError, match="invalid log entry id"):
        aio.run(store.trim_log(bad))
    assert len(aio.run(store.read_log(None, 10))) == 1


def test_offer_counters(store: FeatureStore, aio: asyncio.Runner) -> None:
    aio.run(
        store.ingest(
            [
                ev("e1", "c1", counter=("o1", "impressions")),
                ev("e2", "c2", counter=("o1", "impressions")),
                ev("e3", "c1", counter=("o1", "clicks")),
                ev("e4", "c1", counter=("o2", "impressions")),
            ]
        )
    )
    assert aio.run(store.offer_counters(["o1", "o2", "o3"])) == {
        "o1": {"impressions": 2, "clicks": 1},
        "o2": {"impressions": 1},
        "o3": {},
    }
    assert aio.run(store.offer_counters([])) == {}


def test_served_counters_add_up_beside_the_event_counters(
    store: FeatureStore, aio: asyncio.Runner
) -> None:
    aio.run(store.ingest([ev("e1", "c1", counter=("o1", "impressions"))]))
    aio.run(store.count_served(["o1", "o2"]))
    aio.run(store.count_served(["o1"]))
    aio.run(store.count_served([]))
    assert aio.run(store.offer_counters(["o1", "o2", "o3"])) == {
        "o1": {"impressions": 1, "served": 2},
        "o2": {"served": 1},
        "o3": {},
    }
    with pytest.raises(StoreError):
        aio.run(store.count_served(["o{1}"]))


def test_decisions(store: FeatureStore, aio: asyncio.Runner) -> None:
    aio.run(store.remember_decision("d1", "c1", b"offers: o1, o2"))
    assert aio.run(store.recall_decision("d1")) == ("c1", b"offers: o1, o2")
    assert aio.run(store.recall_decision("d2")) is None


def test_the_latest_decision_comes_with_the_customer(
    store: FeatureStore, aio: asyncio.Runner
) -> None:
    assert aio.run(store.fetch_customer("v1", "c1")).last_decision is None
    aio.run(store.remember_decision("d1", "c1", b"first"))
    aio.run(store.remember_decision("d2", "c1", b"second"))
    aio.run(store.remember_decision("d3", "c2", b"other customer"))
    assert aio.run(store.fetch_customer("v1", "c1")).last_decision == b"second"
    assert aio.run(store.recall_decision("d1")) == ("c1", b"first")


def test_realtime_state_survives_activation(store: FeatureStore, aio: asyncio.Runner) -> None:
    link = IdentityLink("email", "a@x", "anon")
    aio.run(store.ingest([ev("e1", "c1", link=link, counter=("o1", "clicks"))]))
    aio.run(store.remember_decision("d1", "c1", b"p"))
    for version in ("v1", "v2"):
        aio.run(store.begin_version(version))
        aio.run(store.put_customers(version, [("c1", version.encode())]))
        aio.run(store.finish_version(version, {}))
        aio.run(store.activate(version))
    aio.run(store.drop_version("v1"))
    record = aio.run(store.fetch_customer("v2", "c1"))
    assert (record.batch, record.events) == (b"v2", [b"e1"])
    assert aio.run(store.resolve("email", "a@x")) == "c1"
    assert aio.run(store.offer_counters(["o1"])) == {"o1": {"clicks": 1}}
    assert aio.run(store.recall_decision("d1")) == ("c1", b"p")
    assert len(aio.run(store.read_log(None, 10))) == 1


@pytest.mark.parametrize("bad", ["", "c{1}", "c}"])
def test_bad_ids_are_rejected_before_writing(
    store: FeatureStore, aio: asyncio.Runner, bad: str
) -> None:
    with pytest.raises(StoreError):
        aio.run(store.ingest([ev("ok", "c1"), ev("bad", bad)]))
    with pytest.raises(StoreError):
        aio.run(store.fetch_customer("v0", bad))
    assert aio.run(store.read_log(None, 10)) == []
    assert aio.run(store.ingest([ev("ok", "c1")])).accepted == ("ok",)
