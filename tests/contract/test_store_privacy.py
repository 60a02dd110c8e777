"""Contract: event ids scoped per customer, the live consent overlay, and erasure
(every family of a customer gone, tombstones written, retryable to completion)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable

import pytest

from omnioffer.contracts.erasure import customer_digest, identifier_digest
from omnioffer.store import FeatureStore, IdentityLink, StoredEvent, StoreUnavailable, families
from omnioffer.store.base import RecordedDecision
from omnioffer.store.families import FAMILY_NAMES
from omnioffer.store.redis import RedisStore
from omnioffer.store.redis import keys as redis_keys
from omnioffer.store.sqlite import EmbeddedStore
from omnioffer.store.sqlite.erase import ROWS
from store_traces import redis_traces, sqlite_traces

CID, OTHER = "c-erase-1", "c-keep-2"
COOKIE, EMAIL = ("cookie", "ck-erase-1"), ("email", "erase-1@example.org")
# everything of CID that must not survive: its id, its identifiers, its payloads
NEEDLES = (CID, COOKIE[1], EMAIL[1], "erase-1-payload", "erase-1-decision")


def ev(event_id: str, customer_id: str, payload: bytes | None = None,
       link: IdentityLink | None = None) -> StoredEvent:  # fmt: skip
    body = payload if payload is not None else event_id.encode()
    return StoredEvent(event_id, customer_id, body, link=link)


def traces(store: FeatureStore) -> list[str]:
    if isinstance(store, RedisStore):
        return redis_traces(store.url, NEEDLES)
    assert isinstance(store, EmbeddedStore)
    return sqlite_traces(store.path, NEEDLES)


def populate(store: FeatureStore, aio: asyncio.Runner) -> None:
    """CID in every family (two versions, an anonymous past, a batch link, a decision,
    consent, log entries), and OTHER beside it."""
    for version in ("v1", "v2"):
        aio.run(store.begin_version(version))
        aio.run(store.put_customers(version, [(CID, b"erase-1-payload-batch"),
                                              (OTHER, b"other-batch")]))  # fmt: skip
        aio.run(store.finish_version(version, {}))
    aio.run(store.activate("v2"))
    aio.run(store.put_identities([(EMAIL[0], EMAIL[1], CID), ("email", "o@x", OTHER)]))
    anon = f"anon:{COOKIE[0]}:{COOKIE[1]}"
    aio.run(store.ingest([ev("a1", anon, b"erase-1-payload-anon")]))
    aio.run(store.keep_first_touch(anon, b"erase-1-payload-touch"))  # the login moves it
    login = ev("e1", CID, b"erase-1-payload-login", IdentityLink(*COOKIE, anon))
    aio.run(store.ingest([login, ev("e2", CID, b"erase-1-payload-2"), ev("o1", OTHER)]))
    aio.run(store.remember_decision("d-erase-1", CID, b"erase-1-decision"))
    aio.run(store.remember_decision("d-keep-2", OTHER, b"other-decision"))
    logged = b'{"customer_id": "c-erase-1", "decision_id": "d-erase-2"}'
    aio.run(store.record_decision(RecordedDecision("d-erase-2", CID, b"erase-1-decision", logged)))
    aio.run(store.log_decisions([(CID, b"erase-1-payload-dlog"), ("", b"nobody-dlog"),
                                 (OTHER, b"other-dlog")]))  # fmt: skip
    aio.run(store.set_consent(CID, {"email": False}, b"erase-1-payload-consent"))
    aio.run(store.count_served(["o1"]))


def test_the_same_event_id_for_two_customers_is_two_events(
    store: FeatureStore, aio: asyncio.Runner
) -> None:
    """One client reusing another's event id suppresses nothing (it did before: the
    marker was keyed by the event id alone)."""
    first = aio.run(store.ingest([ev("pos-1", "c1")]))
    second = aio.run(store.ingest([ev("pos-1", "c2")]))
    assert (first.accepted, second.accepted) == (("pos-1",), ("pos-1",))
    assert aio.run(store.fetch_customer("v0", "c2")).events == [b"pos-1"]
    assert aio.run(store.ingest([ev("pos-1", "c1"), ev("pos-1", "c2")])).duplicates == (
        "pos-1", "pos-1")  # fmt: skip
    assert len(aio.run(store.read_log(None, 10))) == 2


def test_a_link_carries_the_anonymous_markers_over(
    store: FeatureStore, aio: asyncio.Runner
) -> None:
    """A batch retried after its link resolves its anonymous events to the customer:
    they are still duplicates."""
    anon = "anon:cookie:k1"
    aio.run(store.ingest([ev("a1", anon), ev("l1", "c1", link=IdentityLink("cookie", "k1", anon))]))
    retry = aio.run(store.ingest([ev("a1", "c1"), ev("l1", "c1")]))
    assert (retry.accepted, retry.duplicates) == ((), ("a1", "l1"))
    assert aio.run(store.fetch_customer("v0", "c1")).events == [b"a1", b"l1"]


def test_consent_overlays_merge_and_are_logged(store: FeatureStore, aio: asyncio.Runner) -> None:
    assert aio.run(store.fetch_customer("v0", "c1")).consent == {}
    assert aio.run(store.set_consent("c1", {"email": False}, b"p1")) == {"email": False}
    after = aio.run(store.set_consent("c1", {"sms": True, "email": True}, b"p2"))
    assert after == {"email": True, "sms": True}
    assert aio.run(store.fetch_customer("v0", "c1")).consent == after
    assert aio.run(store.fetch_customer("v0", "c2")).consent == {}
    assert [(c, p) for _, c, p in aio.run(store.read_log(None, 10))] == [("c1", b"p1"),
                                                                        ("c1", b"p2")]  # fmt: skip


def test_erasure_leaves_no_trace_and_keeps_everyone_else(
    store: FeatureStore, aio: asyncio.Runner
) -> None:
    populate(store, aio)
    assert traces(store)  # the scan finds what is there
    done = aio.run(store.erase_customer(CID, 1_000.0))
    assert list(done.removed) == list(FAMILY_NAMES)
    assert done.removed == {
        "batch": 2,
        "events": 3,
        "dedup": 3,
        "last_decision": 1,
        "decisions": 2,
        "consent": 1,
        "log": 4,
        "first_touch": 1,
        "decision_log": 2,
        "identities": 2,
    }
    assert done.tombstones == 3 and done.anything
    assert traces(store) == []
    other = aio.run(store.fetch_customer("v2", OTHER))
    assert (other.batch, other.events) == (b"other-batch", [b"o1"])
    assert aio.run(store.resolve("email", "o@x")) == OTHER
    assert aio.run(store.recall_decision("d-keep-2")) == (OTHER, b"other-decision")
    assert aio.run(store.offer_counters(["o1"])) == {"o1": {"served": 1}}  # aggregates stay
    assert [c for _, c, _ in aio.run(store.read_log(None, 10))] == [OTHER]
    assert [p for _, p in aio.run(store.read_decisions(None, 10))] == [b"nobody-dlog",
                                                                      b"other-dlog"]  # fmt: skip
    assert aio.run(store.tombstones()) == {
        customer_digest(CID): 1_000.0,
        identifier_digest(*COOKIE): 1_000.0,
        identifier_digest(*EMAIL): 1_000.0,
    }


def test_erasure_is_idempotent_and_moves_the_tombstone_forward(
    store: FeatureStore, aio: asyncio.Runner
) -> None:
    populate(store, aio)
    aio.run(store.erase_customer(CID, 1_000.0))
    again = aio.run(store.erase_customer(CID, 2_000.0))
    assert again.removed == dict.fromkeys(FAMILY_NAMES, 0) and not again.anything
    assert aio.run(store.tombstones())[customer_digest(CID)] == 2_000.0
    nobody = aio.run(store.erase_customer("never-seen", 3_000.0))
    assert not nobody.anything and nobody.tombstones == 1
    assert aio.run(store.tombstones())[customer_digest("never-seen")] == 3_000.0


def test_an_anonymous_visitor_is_erased_by_its_pseudo_id(
    store: FeatureStore, aio: asyncio.Runner
) -> None:
    anon = f"anon:{COOKIE[0]}:{COOKIE[1]}"
    aio.run(store.ingest([ev("a1", anon, b"erase-1-payload-anon")]))
    aio.run(store.remember_decision("d-anon", anon, b"erase-1-decision"))
    done = aio.run(store.erase_customer(anon, 5.0))
    assert (done.removed["events"], done.removed["log"], done.removed["decisions"]) == (1, 1, 1)
    assert traces(store) == []
    assert aio.run(store.tombstones()) == {identifier_digest(*COOKIE): 5.0}


def test_an_identifier_linked_to_someone_else_since_is_not_erased(
    store: FeatureStore, aio: asyncio.Runner
) -> None:
    aio.run(store.put_identities([("card", "77", CID)]))
    aio.run(store.put_identities([("card", "77", OTHER)]))  # the card changed hands
    done = aio.run(store.erase_customer(CID, 1.0))
    assert done.removed["identities"] == 0
    assert aio.run(store.resolve("card", "77")) == OTHER
    assert identifier_digest("card", "77") not in aio.run(store.tombstones())


def test_an_erasure_cut_short_at_any_step_is_finished_by_a_retry(
    store_factory: Callable[..., FeatureStore],
    aio: asyncio.Runner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    steps: list[str] = []
    monkeypatch.setattr(families, "checkpoint", steps.append)
    store = store_factory()
    populate(store, aio)
    aio.run(store.erase_customer(CID, 1.0))
    assert len(steps) > len(FAMILY_NAMES)
    for cut in range(len(steps)):
        _clear(store, aio)
        populate(store, aio)
        calls: list[str] = []

        def failing(step: str, cut: int = cut, calls: list[str] = calls) -> None:
            calls.append(step)
            if len(calls) > cut:
                raise StoreUnavailable(f"connection lost before {step}")

        monkeypatch.setattr(families, "checkpoint", failing)
        with pytest.raises(StoreUnavailable):
            aio.run(store.erase_customer(CID, 1.0))
        monkeypatch.setattr(families, "checkpoint", lambda step: None)
        aio.run(store.erase_customer(CID, 1.0))
        assert traces(store) == [], f"cut before step {cut} ({steps[cut]})"
        assert customer_digest(CID) in aio.run(store.tombstones())


def _clear(store: FeatureStore, aio: asyncio.Runner) -> None:
    """Back to an empty store of the same backend (versions dropped, data deleted)."""
    if isinstance(store, RedisStore):
        import redis

        client = redis.Redis.from_url(store.url)
        for key in client.scan_iter(match=f"{redis_keys.PREFIX}*"):
            client.delete(key)
        client.close()
        return
    assert isinstance(store, EmbeddedStore)
    conn = sqlite3.connect(store.path)
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    for table in tables:
        if table != "sqlite_sequence":
            conn.execute(f"DELETE FROM {table}")  # names from the file itself
    conn.commit()
    conn.close()


def test_each_backend_maps_every_family() -> None:
    """A new family in store/families must be erased by both backends."""
    assert ["batch", *redis_keys.CUSTOMER_KEYS] == list(FAMILY_NAMES)
    assert list(ROWS) == list(FAMILY_NAMES)


def test_every_sqlite_table_naming_a_customer_is_a_family(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "s.sqlite"
    asyncio.run(EmbeddedStore(path).close())
    conn = sqlite3.connect(path)
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    naming = {
        t
        for t in tables
        if any(c[1] == "customer_id" for c in conn.execute(f"PRAGMA table_info({t})"))
    }
    conn.close()  # fmt: skip
    assert naming == {table for table, _ in ROWS.values()}
