"""Embedded-only behaviour: several processes on one file, schema guard, expiry."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from omnioffer.store import IdentityLink, StoredEvent, StoreError, StoreLimits, StoreUnavailable
from omnioffer.store.sqlite import EmbeddedStore, schema
from omnioffer.store.sqlite import events as sqlite_events
from omnioffer.store.sqlite.expiry import purge


class Clock:
    """A settable clock, so expiry is tested without waiting."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "store.sqlite"


def test_two_workers_share_one_file(path: Path, aio: asyncio.Runner) -> None:
    writer, reader = EmbeddedStore(path), EmbeddedStore(path)
    try:
        aio.run(writer.begin_version("v1"))
        aio.run(writer.put_customers("v1", [("c1", b"x")]))
        aio.run(writer.finish_version("v1", {}))
        aio.run(writer.activate("v1"))
        assert aio.run(reader.active_version()) == "v1"
        assert aio.run(reader.fetch_customer("v1", "c1")).batch == b"x"
        aio.run(reader.ingest([StoredEvent("e1", "c1", b"p")]))
        assert aio.run(writer.fetch_customer("v1", "c1")).events == [b"p"]
        assert aio.run(writer.ingest([StoredEvent("e1", "c1", b"p")])).duplicates == ("e1",)
    finally:
        aio.run(writer.close())
        aio.run(reader.close())


def test_wal_mode_and_schema_version(path: Path, aio: asyncio.Runner) -> None:
    aio.run(EmbeddedStore(path).close())
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION == 3
    conn.execute("PRAGMA user_version = 7")
    conn.close()
    with pytest.raises(StoreError, match="schema version 7"):
        EmbeddedStore(path)


def test_a_version_1_file_is_migrated_in_place(path: Path, aio: asyncio.Runner) -> None:
    """Its links and log stay; its global dedup markers go (they name no customer)."""
    conn = sqlite3.connect(path)
    for statement in schema._V1.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute("INSERT INTO identities VALUES ('email', 'a@x', 'c1')")
    conn.execute("INSERT INTO log(customer_id, payload) VALUES ('c1', x'01')")
    conn.execute("INSERT INTO seen VALUES ('e1', 1e12)")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    store = EmbeddedStore(path)
    try:
        assert aio.run(store.resolve("email", "a@x")) == "c1"
        assert [(c, p) for _, c, p in aio.run(store.read_log(None, 10))] == [("c1", b"\x01")]
        assert aio.run(store.ingest([StoredEvent("e1", "c1", b"p")])).accepted == ("e1",)
        assert aio.run(store.erase_customer("c1", 1.0)).removed["identities"] == 1
    finally:
        aio.run(store.close())
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION == 3
    conn.close()


def test_refuses_foreign_files(path: Path, tmp_path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE other(x)")
    conn.close()
    with pytest.raises(StoreError, match="something else"):
        EmbeddedStore(path)
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreUnavailable):
        EmbeddedStore(garbage)


def test_locked_database_is_unavailable(path: Path, aio: asyncio.Runner) -> None:
    store = EmbeddedStore(path)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        store._conn.execute("PRAGMA busy_timeout = 10")  # fail fast instead of 5 s
        with pytest.raises(StoreUnavailable, match="locked"):
            aio.run(store.ingest([StoredEvent("e1", "c1", b"p")]))
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert aio.run(store.ingest([StoredEvent("e1", "c1", b"p")])).accepted == ("e1",)
    aio.run(store.close())


def test_expiry(path: Path, aio: asyncio.Runner) -> None:
    clock = Clock()
    limits = StoreLimits(events_ttl_s=100, dedup_ttl_s=50, decision_ttl_s=10)
    store = EmbeddedStore(path, limits=limits, clock=clock)
    aio.run(store.ingest([StoredEvent("e1", "c1", b"one")]))
    aio.run(store.remember_decision("d1", "c1", b"p"))
    clock.now += 60  # dedup marker and decision gone, events alive
    assert aio.run(store.recall_decision("d1")) is None
    assert aio.run(store.ingest([StoredEvent("e1", "c1", b"again")])).accepted == ("e1",)
    clock.now += 60  # the append refreshed the whole list's lifetime
    assert aio.run(store.fetch_customer("v", "c1")).events == [b"one", b"again"]
    clock.now += 101
    assert aio.run(store.fetch_customer("v", "c1")).events == []
    aio.run(store.ingest([StoredEvent("e2", "c1", b"new")]))  # expired rows never revive
    assert aio.run(store.fetch_customer("v", "c1")).events == [b"new"]
    aio.run(store.close())


def test_purge_keeps_live_lists(path: Path, aio: asyncio.Runner) -> None:
    clock = Clock()
    store = EmbeddedStore(path, limits=StoreLimits(events_ttl_s=100), clock=clock)
    aio.run(store.ingest([StoredEvent("a1", "alive", b"1"), StoredEvent("d1", "dead", b"1")]))
    clock.now += 90
    aio.run(store.ingest([StoredEvent("a2", "alive", b"2")]))
    clock.now += 20  # "dead" expired; "alive" lives on although its first row is older
    with store._write("purge") as conn:
        purge(conn, clock.now)
        left = conn.execute("SELECT customer_id, count(*) FROM events GROUP BY 1").fetchall()
    assert left == [("alive", 2)]
    assert aio.run(store.fetch_customer("v", "alive")).events == [b"1", b"2"]
    aio.run(store.close())


def test_ingest_is_all_or_nothing(
    path: Path, aio: asyncio.Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = EmbeddedStore(path)
    calls = 0
    append = sqlite_events.append

    def failing_append(*args: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise sqlite3.OperationalError("disk I/O error")
        append(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(sqlite_events, "append", failing_append)
    batch = [StoredEvent("e1", "c1", b"1"), StoredEvent("e2", "c1", b"2")]
    with pytest.raises(StoreUnavailable, match="disk I/O"):
        aio.run(store.ingest(batch))
    monkeypatch.undo()
    assert aio.run(store.read_log(None, 10)) == []
    assert aio.run(store.ingest(batch)).accepted == ("e1", "e2")
    aio.run(store.close())


class FailingCommit:
    """The store's connection, except that the next COMMIT fails like a full disk."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.fail_next_commit = True

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        if sql == "COMMIT" and self.fail_next_commit:
            self.fail_next_commit = False
            raise sqlite3.OperationalError("database or disk is full")
        return self.conn.execute(sql, *args)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> object:
        return getattr(self.conn, name)


def test_failed_commit_rolls_back_and_releases_the_lock(path: Path, aio: asyncio.Runner) -> None:
    store, other = EmbeddedStore(path), EmbeddedStore(path)
    other._conn.execute("PRAGMA busy_timeout = 10")  # a held lock fails fast
    real = store._conn
    store._conn = FailingCommit(real)  # type: ignore[assignment]
    with pytest.raises(StoreUnavailable, match="disk is full"):
        aio.run(store.ingest([StoredEvent("e1", "c1", b"p")]))
    assert not real.in_transaction
    assert aio.run(other.ingest([StoredEvent("e2", "c2", b"q")])).accepted == ("e2",)
    assert aio.run(store.fetch_customer("v", "c1")).events == []
    assert aio.run(store.ingest([StoredEvent("e1", "c1", b"p")])).accepted == ("e1",)
    assert [c for _, c, _ in aio.run(other.read_log(None, 10))] == ["c2", "c1"]
    store._conn = real
    aio.run(store.close())
    aio.run(other.close())


def test_an_erased_customer_leaves_no_bytes_in_the_file(path: Path, aio: asyncio.Runner) -> None:
    """Deleted rows are overwritten and the write-ahead log checkpointed: the file itself
    (not just its tables) holds nothing of the customer, while the store stays open."""
    store = EmbeddedStore(path)
    try:
        aio.run(store.begin_version("v1"))
        aio.run(store.put_customers("v1", [("SECRET-C", b"SECRET-BATCH"), ("other", b"o")]))
        aio.run(store.finish_version("v1", {}))
        link = IdentityLink("email", "SECRET-MAIL", "anon:email:SECRET-MAIL")
        aio.run(store.ingest([StoredEvent(f"e{n}", "SECRET-C", b"SECRET-EV", link)
                              for n in range(50)]))  # fmt: skip
        aio.run(store.ingest([StoredEvent(f"o{n}", "other", b"x" * 100) for n in range(300)]))
        aio.run(store.remember_decision("d1", "SECRET-C", b"SECRET-DECISION"))
        aio.run(store.set_consent("SECRET-C", {"email": False}, b"SECRET-CONSENT"))
        files = [path, path.with_name(path.name + "-wal")]
        assert any(b"SECRET" in f.read_bytes() for f in files if f.exists())
        aio.run(store.erase_customer("SECRET-C", 1.0))
        assert [f.name for f in files if f.exists() and b"SECRET" in f.read_bytes()] == []
        assert aio.run(store.fetch_customer("v1", "other")).batch == b"o"
    finally:
        aio.run(store.close())


def test_a_version_1_file_gains_the_decision_log_tables(path: Path, aio: asyncio.Runner) -> None:
    aio.run(EmbeddedStore(path).close())
    conn = sqlite3.connect(path)  # make it what an older omnioffer wrote
    for table in ("decision_log", "first_touch", "experiments"):
        conn.execute(f"DROP TABLE {table}")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    store = EmbeddedStore(path)
    try:
        aio.run(store.log_decisions([("c1", b"{}")]))
        assert [p for _, p in aio.run(store.read_decisions(None, 10))] == [b"{}"]
    finally:
        aio.run(store.close())
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    conn.close()
