"""FeatureStore in one SQLite file: no server to run, shared by a few local processes.

WAL mode lets two server workers read while `materialize` writes; every write is one
IMMEDIATE transaction (taking the write lock up front avoids the lock-upgrade
deadlock of deferred transactions across processes). SQLite calls take microseconds,
so they run synchronously inside the async methods.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from omnioffer.store.base import (
    SERVED,
    CustomerRecord,
    Erasure,
    IngestResult,
    RecordedDecision,
    StoredEvent,
    StoreError,
    StoreLimits,
    StoreUnavailable,
    VersionInfo,
)
from omnioffer.store.checks import (
    check_consent,
    check_event,
    check_id,
    check_id_type,
    check_limits,
    check_version,
)
from omnioffer.store.sqlite import erase, versions
from omnioffer.store.sqlite import events as sqlite_events
from omnioffer.store.sqlite.expiry import forget_if_expired, live_events, purge
from omnioffer.store.sqlite.schema import SCHEMA_VERSION, configure, ensure_schema

__all__ = ["SCHEMA_VERSION", "EmbeddedStore"]

_PURGE_EVERY = 64  # write calls between opportunistic purges of expired rows
SCRUB_WAIT_MS = 200  # how long an erasure's checkpoint waits for other connections


class EmbeddedStore:
    """One sqlite3 connection per store object; several objects may share the file."""

    def __init__(
        self,
        path: str | Path,
        *,
        limits: StoreLimits | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`clock` (seconds) exists so tests can move time past the TTLs."""
        self.limits = check_limits(limits or StoreLimits())
        self.path = Path(path)
        self._clock = clock
        self._writes = 0
        with self._guard(f"opening {self.path}"):
            self._conn = sqlite3.connect(self.path, isolation_level=None, timeout=5.0)
            try:
                configure(self._conn)
                with self._tx() as conn:  # the write lock: one process creates the schema
                    ensure_schema(conn, self.path)
            except BaseException:
                self._conn.close()
                raise

    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        """A locked or unreadable database is an outage for callers, not a bug."""
        try:
            yield
        except (sqlite3.IntegrityError, sqlite3.ProgrammingError):
            raise
        except sqlite3.DatabaseError as exc:
            raise StoreUnavailable(f"sqlite store {self.path}: {what} failed: {exc}") from exc

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction holding the write lock from its start; all or nothing.

        COMMIT is inside the try: a failed COMMIT (disk full, I/O error) can leave the
        transaction open, holding the write lock and failing every later BEGIN.
        """
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
            self._conn.execute("COMMIT")
        except BaseException:
            if self._conn.in_transaction:  # SQLite may have rolled back already
                self._conn.execute("ROLLBACK")
            raise

    @contextmanager
    def _write(self, what: str) -> Iterator[sqlite3.Connection]:
        with self._guard(what), self._tx() as conn:
            yield conn
            self._writes += 1
            if self._writes % _PURGE_EVERY == 0:
                purge(conn, self._clock())

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        with self._guard("read"):
            return self._conn.execute(sql, params).fetchall()

    async def ping(self) -> None:
        self._read("SELECT 1")

    async def close(self) -> None:
        self._conn.close()

    # --- versions ----------------------------------------------------------------
    async def begin_version(self, version: str) -> None:
        check_version(version)
        with self._write("begin_version") as conn:
            if versions.active(conn) == version:
                raise StoreError(f"version {version!r} is active; it cannot be reloaded")
            versions.clear(conn, version)
            conn.execute(
                "INSERT OR REPLACE INTO versions VALUES (?, 'loading', 0, '{}', ?)",
                (version, self._clock()),
            )

    async def put_globals(self, version: str, blobs: Mapping[str, bytes]) -> None:
        rows = [(version, check_id(n, "global name"), bytes(b)) for n, b in blobs.items()]
        with self._write("put_globals") as conn:
            versions.require_loading(conn, version)
            conn.executemany("INSERT OR REPLACE INTO globals VALUES (?, ?, ?)", rows)

    async def put_customers(self, version: str, rows: Sequence[tuple[str, bytes]]) -> None:
        data = [(version, check_id(c, "customer id"), bytes(b)) for c, b in rows]
        with self._write("put_customers") as conn:
            versions.require_loading(conn, version)
            conn.executemany("INSERT OR REPLACE INTO customers VALUES (?, ?, ?)", data)

    async def finish_version(self, version: str, info: Mapping[str, str]) -> None:
        """The count is exact: the rows themselves are counted once, at the end."""
        with self._write("finish_version") as conn:
            versions.require_loading(conn, version)
            (count,) = conn.execute(
                "SELECT count(*) FROM customers WHERE version = ?", (version,)
            ).fetchone()
            conn.execute(
                "UPDATE versions SET state = 'ready', customers = ?, info = ? WHERE name = ?",
                (count, json.dumps(dict(info), sort_keys=True), version),
            )

    async def activate(self, version: str) -> None:
        check_version(version)
        with self._write("activate") as conn:
            state = versions.state(conn, version)
            if state is None:
                raise StoreError(f"cannot activate unknown version {version!r}")
            if state != "ready":
                raise StoreError(f"cannot activate version {version!r}: it is {state}")
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('active', ?)", (version,))

    async def active_version(self) -> str | None:
        with self._guard("active_version"):
            return versions.active(self._conn)

    async def list_versions(self) -> list[VersionInfo]:
        with self._guard("read"):
            found = versions.rows(self._conn)
        return versions.infos(found, await self.active_version())

    async def drop_version(self, version: str) -> None:
        check_version(version)
        with self._write("drop_version") as conn:
            if versions.active(conn) == version:
                raise StoreError(f"version {version!r} is active; activate another first")
            if conn.execute("DELETE FROM versions WHERE name = ?", (version,)).rowcount == 0:
                raise StoreError(f"cannot drop unknown version {version!r}")
            versions.clear(conn, version)

    async def get_global(self, version: str, name: str) -> bytes | None:
        rows = self._read(
            "SELECT blob FROM globals WHERE version = ? AND name = ?",
            (check_version(version), check_id(name, "global name")),
        )
        return bytes(rows[0][0]) if rows else None

    # --- per request -------------------------------------------------------------
    async def fetch_customer(self, version: str, customer_id: str) -> CustomerRecord:
        check_version(version)
        check_id(customer_id, "customer id")
        with self._guard("fetch_customer"):
            batch = self._conn.execute(
                "SELECT blob FROM customers WHERE version = ? AND customer_id = ?",
                (version, customer_id),
            ).fetchone()
            now = self._clock()
            events = live_events(self._conn, customer_id, now)
            last = self._conn.execute(
                "SELECT payload FROM last_decisions WHERE customer_id = ? AND expires > ?",
                (customer_id, now),
            ).fetchone()
            consent = _overlay(self._conn, customer_id)
            touch = self._conn.execute(
                "SELECT payload FROM first_touch WHERE customer_id = ?", (customer_id,)
            ).fetchone()
        return CustomerRecord(
            batch=None if batch is None else bytes(batch[0]),
            events=events,
            last_decision=None if last is None else bytes(last[0]),
            consent=consent,
            first_touch=None if touch is None else bytes(touch[0]),
        )

    async def resolve(self, id_type: str, id_value: str) -> str | None:
        rows = self._read(
            "SELECT customer_id FROM identities WHERE id_type = ? AND id_value = ?",
            (check_id_type(id_type), check_id(id_value, "identifier value")),
        )
        return str(rows[0][0]) if rows else None

    async def put_identities(self, rows: Sequence[tuple[str, str, str]]) -> None:
        data = [
            (check_id_type(t), check_id(v, "identifier value"), check_id(c)) for t, v, c in rows
        ]
        with self._write("put_identities") as conn:
            conn.executemany("INSERT OR REPLACE INTO identities VALUES (?, ?, ?)", data)

    # --- real-time writes --------------------------------------------------------
    async def ingest(self, events: Sequence[StoredEvent]) -> IngestResult:
        """One transaction for the batch; same order of effects as the Redis script."""
        for e in events:
            check_event(e)
        accepted: list[str] = []
        dupes: list[str] = []
        now = self._clock()
        with self._write("ingest") as conn:
            touched: set[str] = set()
            for e in events:
                if not sqlite_events.mark_seen(conn, e, now, self.limits):
                    dupes.append(e.event_id)
                    continue
                forget_if_expired(conn, e.customer_id, now)
                if e.link is not None:
                    sqlite_events.apply_link(conn, e.customer_id, e.link, now, self.limits)
                sqlite_events.append(conn, e, now, self.limits)
                touched.add(e.customer_id)
                accepted.append(e.event_id)
            for customer_id in touched:
                sqlite_events.cap(conn, customer_id, self.limits)
        return IngestResult(accepted=tuple(accepted), duplicates=tuple(dupes))

    async def read_log(self, after: str | None, limit: int) -> list[tuple[str, str, bytes]]:
        start = 0 if after is None else _log_seq(after)
        rows = self._read(
            "SELECT seq, customer_id, payload FROM log WHERE seq > ? ORDER BY seq LIMIT ?",
            (start, max(limit, 0)),
        )
        return [(str(seq), str(cid), bytes(payload)) for seq, cid, payload in rows]

    async def trim_log(self, through: str) -> int:
        seq = _log_seq(through)
        with self._write("trim_log") as conn:
            return conn.execute("DELETE FROM log WHERE seq <= ?", (seq,)).rowcount

    async def offer_counters(self, offer_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """Every requested offer is in the answer; never-counted offers map to {}."""
        out: dict[str, dict[str, int]] = {}
        for offer_id in offer_ids:
            rows = self._read(
                "SELECT field, value FROM counters WHERE offer_id = ?",
                (check_id(offer_id, "offer id"),),
            )
            out[offer_id] = {str(f): int(v) for f, v in rows}
        return out

    async def count_served(self, offer_ids: Sequence[str]) -> None:
        rows = [(check_id(o, "offer id"), SERVED) for o in offer_ids]
        if not rows:
            return
        with self._write("count_served") as conn:
            conn.executemany(
                "INSERT INTO counters VALUES (?, ?, 1) "
                "ON CONFLICT(offer_id, field) DO UPDATE SET value = value + 1",
                rows,
            )

    async def remember_decision(self, decision_id: str, customer_id: str, payload: bytes) -> None:
        row = (
            check_id(decision_id, "decision id"),
            check_id(customer_id, "customer id"),
            bytes(payload),
            self._clock() + self.limits.decision_ttl_s,
        )
        with self._write("remember_decision") as conn:
            conn.execute("INSERT OR REPLACE INTO decisions VALUES (?, ?, ?, ?)", row)
            conn.execute("INSERT OR REPLACE INTO last_decisions VALUES (?, ?, ?)", row[1:])

    async def record_decision(self, decision: RecordedDecision) -> None:
        """One transaction for the decision's three writes."""
        cid = "" if decision.customer_id is None else check_id(decision.customer_id)
        with self._write("record_decision") as conn:
            if decision.payload is not None and cid:
                row = (check_id(decision.decision_id, "decision id"), cid, decision.payload,
                       self._clock() + self.limits.decision_ttl_s)  # fmt: skip
                conn.execute("INSERT OR REPLACE INTO decisions VALUES (?, ?, ?, ?)", row)
                conn.execute("INSERT OR REPLACE INTO last_decisions VALUES (?, ?, ?)", row[1:])
            if decision.first_touch is not None and cid:
                conn.execute("INSERT OR IGNORE INTO first_touch VALUES (?, ?)",
                             (cid, decision.first_touch))  # fmt: skip
            if decision.logged is not None:
                conn.execute("INSERT INTO decision_log(customer_id, payload) VALUES (?, ?)",
                             (cid, decision.logged))  # fmt: skip

    async def log_decisions(self, records: Sequence[tuple[str, bytes]]) -> None:
        rows = [(check_id(c) if c else "", bytes(p)) for c, p in records]
        if not rows:
            return
        with self._write("log_decisions") as conn:
            conn.executemany("INSERT INTO decision_log(customer_id, payload) VALUES (?, ?)", rows)

    async def read_decisions(self, after: str | None, limit: int) -> list[tuple[str, bytes]]:
        start = 0 if after is None else _log_seq(after)
        rows = self._read(
            "SELECT seq, payload FROM decision_log WHERE seq > ? ORDER BY seq LIMIT ?",
            (start, max(limit, 0)),
        )
        return [(str(seq), bytes(payload)) for seq, payload in rows]

    async def keep_first_touch(self, customer_id: str, record: bytes) -> bool:
        row = (check_id(customer_id, "customer id"), bytes(record))
        with self._write("keep_first_touch") as conn:
            return conn.execute("INSERT OR IGNORE INTO first_touch VALUES (?, ?)", row).rowcount > 0

    async def get_experiments(self) -> tuple[str, bytes] | None:
        rows = self._read("SELECT checksum, blob FROM experiments WHERE id = 1")
        return (str(rows[0][0]), bytes(rows[0][1])) if rows else None

    async def experiments_checksum(self) -> str | None:
        rows = self._read("SELECT checksum FROM experiments WHERE id = 1")
        return str(rows[0][0]) if rows else None

    async def put_experiments(self, checksum: str, blob: bytes, expected: str | None) -> bool:
        with self._write("put_experiments") as conn:
            if expected is not None:
                row = conn.execute("SELECT checksum FROM experiments WHERE id = 1").fetchone()
                if (row[0] if row else "") != expected:
                    return False
            conn.execute("INSERT OR REPLACE INTO experiments VALUES (1, ?, ?)",
                         (checksum, bytes(blob)))  # fmt: skip
            return True

    async def recall_decision(self, decision_id: str) -> tuple[str, bytes] | None:
        rows = self._read(
            "SELECT customer_id, payload FROM decisions WHERE id = ? AND expires > ?",
            (check_id(decision_id, "decision id"), self._clock()),
        )
        return (str(rows[0][0]), bytes(rows[0][1])) if rows else None

    # --- privacy -----------------------------------------------------------------
    async def set_consent(
        self, customer_id: str, consent: Mapping[str, bool], payload: bytes
    ) -> dict[str, bool]:
        cid = customer_id
        rows = [(cid, ch, int(ok)) for ch, ok in check_consent(cid, consent)]
        with self._write("set_consent") as conn:
            conn.executemany("INSERT OR REPLACE INTO consents VALUES (?, ?, ?)", rows)
            conn.execute("INSERT INTO log(customer_id, payload) VALUES (?, ?)",
                         (cid, bytes(payload)))  # fmt: skip
            return _overlay(conn, cid)

    async def erase_customer(self, customer_id: str, erased_at: float) -> Erasure:
        """One transaction, with deleted rows overwritten; then a checkpoint, so the
        write-ahead log's copies of the old pages go too (best effort: it waits at most
        SCRUB_WAIT_MS for other connections, else a later checkpoint finishes it)."""
        check_id(customer_id, "customer id")
        with self._guard("erase_customer"):
            self._conn.execute("PRAGMA secure_delete = ON")
            try:
                with self._write("erase_customer") as conn:
                    done = erase.erase_customer(conn, customer_id, erased_at)
            finally:
                self._conn.execute("PRAGMA secure_delete = OFF")
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {SCRUB_WAIT_MS}")
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.DatabaseError:  # busy: the erasure itself is committed
            pass
        finally:
            configure(self._conn)
        return done

    async def tombstones(self) -> dict[str, float]:
        rows = self._read("SELECT digest, erased_at FROM tombstones")
        return {str(d): float(t) for d, t in rows}


def _overlay(conn: sqlite3.Connection, customer_id: str) -> dict[str, bool]:
    rows = conn.execute(
        "SELECT channel, granted FROM consents WHERE customer_id = ? ORDER BY channel",
        (customer_id,),
    ).fetchall()
    return {str(channel): bool(granted) for channel, granted in rows}


def _log_seq(entry_id: str) -> int:
    """A log entry id of this store (the row's seq) as an int; StoreError if it is none."""
    if not (entry_id.isascii() and entry_id.isdigit()):
        raise StoreError(f"invalid log entry id {entry_id!r}")
    return int(entry_id)
