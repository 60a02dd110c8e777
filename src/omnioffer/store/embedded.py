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

from omnioffer.store import keys
from omnioffer.store.base import (
    CustomerRecord,
    IdentityLink,
    IngestResult,
    StoredEvent,
    StoreError,
    StoreLimits,
    StoreUnavailable,
    VersionInfo,
    VersionState,
)

SCHEMA_VERSION = 1
_PURGE_EVERY = 64  # write calls between opportunistic purges of expired rows
_PURGE_ROWS = 1000
_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE versions(name TEXT PRIMARY KEY, state TEXT NOT NULL,
    customers INTEGER NOT NULL, info TEXT NOT NULL, created REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE globals(version TEXT NOT NULL, name TEXT NOT NULL, blob BLOB NOT NULL,
    PRIMARY KEY(version, name)) WITHOUT ROWID;
CREATE TABLE customers(version TEXT NOT NULL, customer_id TEXT NOT NULL, blob BLOB NOT NULL,
    PRIMARY KEY(version, customer_id)) WITHOUT ROWID;
CREATE TABLE events(seq INTEGER PRIMARY KEY AUTOINCREMENT, customer_id TEXT NOT NULL,
    payload BLOB NOT NULL, expires REAL NOT NULL);
CREATE INDEX events_by_customer ON events(customer_id, seq);
CREATE INDEX events_by_expiry ON events(expires);
CREATE TABLE seen(event_id TEXT PRIMARY KEY, expires REAL NOT NULL) WITHOUT ROWID;
CREATE INDEX seen_by_expiry ON seen(expires);
CREATE TABLE log(seq INTEGER PRIMARY KEY AUTOINCREMENT, customer_id TEXT NOT NULL,
    payload BLOB NOT NULL);
CREATE TABLE identities(id_type TEXT NOT NULL, id_value TEXT NOT NULL,
    customer_id TEXT NOT NULL, PRIMARY KEY(id_type, id_value)) WITHOUT ROWID;
CREATE TABLE decisions(id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, payload BLOB NOT NULL,
    expires REAL NOT NULL) WITHOUT ROWID;
CREATE INDEX decisions_by_expiry ON decisions(expires);
CREATE TABLE counters(offer_id TEXT NOT NULL, field TEXT NOT NULL, value INTEGER NOT NULL,
    PRIMARY KEY(offer_id, field)) WITHOUT ROWID;
"""


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
        self.limits = keys.check_limits(limits or StoreLimits())
        self.path = Path(path)
        self._clock = clock
        self._writes = 0
        with self._guard(f"opening {self.path}"):
            self._conn = sqlite3.connect(self.path, isolation_level=None, timeout=5.0)
            try:
                self._init_schema()
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

    def _init_schema(self) -> None:
        """Create the schema once (first process wins) and refuse foreign files."""
        self._conn.execute("PRAGMA busy_timeout = 5000")
        self._conn.execute("PRAGMA journal_mode = WAL")
        with self._tx():
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                tables = self._conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
                if tables:
                    raise StoreError(f"{self.path} is an SQLite file of something else")
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self._conn.execute(statement)
                self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            elif version != SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} has store schema version {version}; "
                    f"this omnioffer reads version {SCHEMA_VERSION}"
                )

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction holding the write lock from its start; all or nothing."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            if self._conn.in_transaction:  # SQLite may have rolled back already
                self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    @contextmanager
    def _write(self, what: str) -> Iterator[sqlite3.Connection]:
        with self._guard(what), self._tx() as conn:
            yield conn
            self._writes += 1
            if self._writes % _PURGE_EVERY == 0:
                self._purge(conn, self._clock())

    def _purge(self, conn: sqlite3.Connection, now: float) -> None:
        """Delete a bounded number of expired rows (reads ignore them anyway)."""
        for table, key in (("seen", "event_id"), ("decisions", "id")):
            conn.execute(
                f"DELETE FROM {table} WHERE {key} IN "  # constant names only
                f"(SELECT {key} FROM {table} WHERE expires <= ? LIMIT ?)",
                (now, _PURGE_ROWS),
            )
        stale = conn.execute(
            "SELECT DISTINCT customer_id FROM events WHERE expires <= ? LIMIT ?",
            (now, _PURGE_ROWS // 10),
        ).fetchall()
        for (customer_id,) in stale:
            newest = self._forget_if_expired(conn, customer_id, now)
            if newest is not None:  # a live list: its older rows carry old expiries
                conn.execute(
                    "UPDATE events SET expires = ? WHERE customer_id = ? AND expires < ?",
                    (newest, customer_id, newest),
                )

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        with self._guard("read"):
            return self._conn.execute(sql, params).fetchall()

    async def ping(self) -> None:
        self._read("SELECT 1")

    async def close(self) -> None:
        self._conn.close()

    # --- versions ----------------------------------------------------------------
    async def begin_version(self, version: str) -> None:
        keys.check_version(version)
        with self._write("begin_version") as conn:
            if self._active(conn) == version:
                raise StoreError(f"version {version!r} is active; it cannot be reloaded")
            conn.execute("DELETE FROM customers WHERE version = ?", (version,))
            conn.execute("DELETE FROM globals WHERE version = ?", (version,))
            conn.execute(
                "INSERT OR REPLACE INTO versions VALUES (?, 'loading', 0, '{}', ?)",
                (version, self._clock()),
            )

    def _active(self, conn: sqlite3.Connection) -> str | None:
        row = conn.execute("SELECT value FROM meta WHERE key = 'active'").fetchone()
        return None if row is None else str(row[0])

    def _state(self, conn: sqlite3.Connection, version: str) -> str | None:
        row = conn.execute("SELECT state FROM versions WHERE name = ?", (version,)).fetchone()
        return None if row is None else str(row[0])

    def _require_loading(self, conn: sqlite3.Connection, version: str) -> None:
        state = self._state(conn, keys.check_version(version))
        if state is None:
            raise StoreError(f"unknown version {version!r}; call begin_version first")
        if state != "loading":
            raise StoreError(f"version {version!r} is {state}, not loading")

    async def put_globals(self, version: str, blobs: Mapping[str, bytes]) -> None:
        rows = [(version, keys.check_id(n, "global name"), bytes(b)) for n, b in blobs.items()]
        with self._write("put_globals") as conn:
            self._require_loading(conn, version)
            conn.executemany("INSERT OR REPLACE INTO globals VALUES (?, ?, ?)", rows)

    async def put_customers(self, version: str, rows: Sequence[tuple[str, bytes]]) -> None:
        data = [(version, keys.check_id(c, "customer id"), bytes(b)) for c, b in rows]
        with self._write("put_customers") as conn:
            self._require_loading(conn, version)
            conn.executemany("INSERT OR REPLACE INTO customers VALUES (?, ?, ?)", data)

    async def finish_version(self, version: str, info: Mapping[str, str]) -> None:
        """The count is exact: the rows themselves are counted once, at the end."""
        with self._write("finish_version") as conn:
            self._require_loading(conn, version)
            (count,) = conn.execute(
                "SELECT count(*) FROM customers WHERE version = ?", (version,)
            ).fetchone()
            conn.execute(
                "UPDATE versions SET state = 'ready', customers = ?, info = ? WHERE name = ?",
                (count, json.dumps(dict(info), sort_keys=True), version),
            )

    async def activate(self, version: str) -> None:
        keys.check_version(version)
        with self._write("activate") as conn:
            state = self._state(conn, version)
            if state is None:
                raise StoreError(f"cannot activate unknown version {version!r}")
            if state != "ready":
                raise StoreError(f"cannot activate version {version!r}: it is {state}")
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('active', ?)", (version,))

    async def active_version(self) -> str | None:
        with self._guard("active_version"):
            return self._active(self._conn)

    async def list_versions(self) -> list[VersionInfo]:
        rows = self._read(
            "SELECT v.name, v.state, v.info, CASE WHEN v.state = 'ready' THEN v.customers "
            "ELSE (SELECT count(*) FROM customers c WHERE c.version = v.name) END "
            "FROM versions v ORDER BY v.created, v.name"
        )
        active = await self.active_version()
        out = []
        for name, state, info, count in rows:
            st: VersionState = "ready" if state == "ready" else "loading"
            out.append(VersionInfo(name, st, int(count), name == active, json.loads(info)))
        return out

    async def drop_version(self, version: str) -> None:
        keys.check_version(version)
        with self._write("drop_version") as conn:
            if self._active(conn) == version:
                raise StoreError(f"version {version!r} is active; activate another first")
            if conn.execute("DELETE FROM versions WHERE name = ?", (version,)).rowcount == 0:
                raise StoreError(f"cannot drop unknown version {version!r}")
            conn.execute("DELETE FROM customers WHERE version = ?", (version,))
            conn.execute("DELETE FROM globals WHERE version = ?", (version,))

    async def get_global(self, version: str, name: str) -> bytes | None:
        rows = self._read(
            "SELECT blob FROM globals WHERE version = ? AND name = ?",
            (keys.check_version(version), keys.check_id(name, "global name")),
        )
        return bytes(rows[0][0]) if rows else None

    # --- per request -------------------------------------------------------------
    async def fetch_customer(self, version: str, customer_id: str) -> CustomerRecord:
        keys.check_version(version)
        keys.check_id(customer_id, "customer id")
        with self._guard("fetch_customer"):
            batch = self._conn.execute(
                "SELECT blob FROM customers WHERE version = ? AND customer_id = ?",
                (version, customer_id),
            ).fetchone()
            events = self._live_events(self._conn, customer_id, self._clock())
        return CustomerRecord(batch=None if batch is None else bytes(batch[0]), events=events)

    def _live_events(self, conn: sqlite3.Connection, customer_id: str, now: float) -> list[bytes]:
        """A list lives as long as its newest row (each append extends the whole list)."""
        rows = conn.execute(
            "SELECT payload, expires FROM events WHERE customer_id = ? ORDER BY seq",
            (customer_id,),
        ).fetchall()
        if not rows or rows[-1][1] <= now:
            return []
        return [bytes(payload) for payload, _ in rows]

    def _forget_if_expired(
        self, conn: sqlite3.Connection, customer_id: str, now: float
    ) -> float | None:
        """Delete an expired list (it must not revive on append); the live list's expiry."""
        row = conn.execute(
            "SELECT expires FROM events WHERE customer_id = ? ORDER BY seq DESC LIMIT 1",
            (customer_id,),
        ).fetchone()
        if row is not None and row[0] <= now:
            conn.execute("DELETE FROM events WHERE customer_id = ?", (customer_id,))
            return None
        return None if row is None else float(row[0])

    async def resolve(self, id_type: str, id_value: str) -> str | None:
        rows = self._read(
            "SELECT customer_id FROM identities WHERE id_type = ? AND id_value = ?",
            (keys.check_id_type(id_type), keys.check_id(id_value, "identifier value")),
        )
        return str(rows[0][0]) if rows else None

    async def put_identities(self, rows: Sequence[tuple[str, str, str]]) -> None:
        data = [
            (keys.check_id_type(t), keys.check_id(v, "identifier value"), keys.check_id(c))
            for t, v, c in rows
        ]
        with self._write("put_identities") as conn:
            conn.executemany("INSERT OR REPLACE INTO identities VALUES (?, ?, ?)", data)

    # --- real-time writes --------------------------------------------------------
    async def ingest(self, events: Sequence[StoredEvent]) -> IngestResult:
        """One transaction for the batch; same order of effects as the Redis script."""
        for e in events:
            keys.check_event(e)
        accepted: list[str] = []
        dupes: list[str] = []
        now = self._clock()
        with self._write("ingest") as conn:
            touched: set[str] = set()
            for e in events:
                if not self._mark_seen(conn, e.event_id, now):
                    dupes.append(e.event_id)
                    continue
                self._forget_if_expired(conn, e.customer_id, now)
                if e.link is not None:
                    self._link(conn, e.customer_id, e.link, now)
                self._append(conn, e, now)
                touched.add(e.customer_id)
                accepted.append(e.event_id)
            for customer_id in touched:
                self._cap(conn, customer_id)
        return IngestResult(accepted=tuple(accepted), duplicates=tuple(dupes))

    def _mark_seen(self, conn: sqlite3.Connection, event_id: str, now: float) -> bool:
        """True when the id is new (or its marker expired); the marker is set either way."""
        cur = conn.execute(
            "INSERT INTO seen VALUES (?, ?) ON CONFLICT(event_id) "
            "DO UPDATE SET expires = excluded.expires WHERE seen.expires <= ?",
            (event_id, now + self.limits.dedup_ttl_s, now),
        )
        return cur.rowcount > 0

    def _link(self, conn: sqlite3.Connection, cid: str, link: IdentityLink, now: float) -> None:
        """Bind the identifier, then move the anonymous id's live events over, oldest first."""
        conn.execute(
            "INSERT OR REPLACE INTO identities VALUES (?, ?, ?)",
            (link.id_type, link.id_value, cid),
        )
        if link.anonymous_id == cid:
            return
        moved = self._live_events(conn, link.anonymous_id, now)
        conn.executemany(
            "INSERT INTO events(customer_id, payload, expires) VALUES (?, ?, ?)",
            [(cid, p, now + self.limits.events_ttl_s) for p in moved],
        )
        conn.execute("DELETE FROM events WHERE customer_id = ?", (link.anonymous_id,))

    def _append(self, conn: sqlite3.Connection, e: StoredEvent, now: float) -> None:
        conn.execute(
            "INSERT INTO events(customer_id, payload, expires) VALUES (?, ?, ?)",
            (e.customer_id, e.payload, now + self.limits.events_ttl_s),
        )
        conn.execute(
            "INSERT INTO log(customer_id, payload) VALUES (?, ?)", (e.customer_id, e.payload)
        )
        if e.counter is not None:
            conn.execute(
                "INSERT INTO counters VALUES (?, ?, 1) "
                "ON CONFLICT(offer_id, field) DO UPDATE SET value = value + 1",
                e.counter,
            )

    def _cap(self, conn: sqlite3.Connection, customer_id: str) -> None:
        """Like LTRIM: keep only the newest max_events_per_customer rows."""
        conn.execute(
            "DELETE FROM events WHERE customer_id = ? AND seq < (SELECT seq FROM events "
            "WHERE customer_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)",
            (customer_id, customer_id, self.limits.max_events_per_customer - 1),
        )

    async def read_log(self, after: str | None, limit: int) -> list[tuple[str, str, bytes]]:
        try:
            start = 0 if after is None else int(after)
        except ValueError:
            raise StoreError(f"invalid log entry id {after!r}") from None
        rows = self._read(
            "SELECT seq, customer_id, payload FROM log WHERE seq > ? ORDER BY seq LIMIT ?",
            (start, max(limit, 0)),
        )
        return [(str(seq), str(cid), bytes(payload)) for seq, cid, payload in rows]

    async def offer_counters(self, offer_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """Every requested offer is in the answer; never-counted offers map to {}."""
        out: dict[str, dict[str, int]] = {}
        for offer_id in offer_ids:
            rows = self._read(
                "SELECT field, value FROM counters WHERE offer_id = ?",
                (keys.check_id(offer_id, "offer id"),),
            )
            out[offer_id] = {str(f): int(v) for f, v in rows}
        return out

    async def remember_decision(self, decision_id: str, customer_id: str, payload: bytes) -> None:
        row = (
            keys.check_id(decision_id, "decision id"),
            keys.check_id(customer_id, "customer id"),
            bytes(payload),
            self._clock() + self.limits.decision_ttl_s,
        )
        with self._write("remember_decision") as conn:
            conn.execute("INSERT OR REPLACE INTO decisions VALUES (?, ?, ?, ?)", row)

    async def recall_decision(self, decision_id: str) -> tuple[str, bytes] | None:
        rows = self._read(
            "SELECT customer_id, payload FROM decisions WHERE id = ? AND expires > ?",
            (keys.check_id(decision_id, "decision id"), self._clock()),
        )
        return (str(rows[0][0]), bytes(rows[0][1])) if rows else None
