"""The embedded store's SQLite schema: its DDL, its version, and the check on opening.

The schema version lives in PRAGMA user_version, so a file written by another
omnioffer (or by something else entirely) is refused instead of misread. A file of an
older version this one knows how to upgrade is migrated in place on opening.

Version 2 (from 1): the decision log, first-touch records and experiment definitions.
Version 3 (from 2): dedup markers are per customer (`seen` is keyed by customer and
event id: the older markers are dropped, so for up to dedup_ttl_s after the upgrade a
retry of an older batch can be stored again), the live consent overlay (`consents`)
and the tombstones are new, and the event log, decision log, identities and decisions
are indexed by customer (for erasure).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from omnioffer.store.base import StoreError

SCHEMA_VERSION = 3
_BUSY_TIMEOUT_MS = 5000
_V1 = """
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
CREATE TABLE last_decisions(customer_id TEXT PRIMARY KEY, payload BLOB NOT NULL,
    expires REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE counters(offer_id TEXT NOT NULL, field TEXT NOT NULL, value INTEGER NOT NULL,
    PRIMARY KEY(offer_id, field)) WITHOUT ROWID;
"""
# Version 2: the decision log, first-touch records and the experiment definitions.
_V1_TO_V2 = """
CREATE TABLE IF NOT EXISTS decision_log(seq INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id TEXT NOT NULL, payload BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS first_touch(customer_id TEXT PRIMARY KEY, payload BLOB NOT NULL)
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS experiments(id INTEGER PRIMARY KEY CHECK (id = 1),
    checksum TEXT NOT NULL, blob BLOB NOT NULL);
"""
# Version 3: per-customer dedup markers, the consent overlay, tombstones, and the
# indexes by customer that erasure reads.
_V2_TO_V3 = """
DROP TABLE IF EXISTS seen;
CREATE TABLE seen(customer_id TEXT NOT NULL, event_id TEXT NOT NULL, expires REAL NOT NULL,
    PRIMARY KEY(customer_id, event_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS seen_by_expiry ON seen(expires);
CREATE INDEX IF NOT EXISTS log_by_customer ON log(customer_id);
CREATE INDEX IF NOT EXISTS decision_log_by_customer ON decision_log(customer_id);
CREATE INDEX IF NOT EXISTS identities_by_customer ON identities(customer_id);
CREATE INDEX IF NOT EXISTS decisions_by_customer ON decisions(customer_id);
CREATE TABLE IF NOT EXISTS consents(customer_id TEXT NOT NULL, channel TEXT NOT NULL,
    granted INTEGER NOT NULL, PRIMARY KEY(customer_id, channel)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tombstones(digest TEXT PRIMARY KEY, erased_at REAL NOT NULL)
    WITHOUT ROWID;
"""
_MIGRATIONS = {1: _V1_TO_V2, 2: _V2_TO_V3}  # from version N to N + 1
_SCHEMA = _V1 + _V1_TO_V2 + _V2_TO_V3  # a new file: every step, in order


def configure(conn: sqlite3.Connection) -> None:
    """WAL lets readers run beside the writer; the busy timeout waits out short locks."""
    conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")


def ensure_schema(conn: sqlite3.Connection, path: Path) -> None:
    """Create the schema in an empty file or check its version; call inside a write tx.

    Run under the write lock, so of several processes opening a new file at once
    exactly one creates the tables and the others then see its version.
    """
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == 0:
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if tables:
            raise StoreError(f"{path} is an SQLite file of something else")
        _run(conn, _SCHEMA)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        return
    while version in _MIGRATIONS:
        _run(conn, _MIGRATIONS[version])
        version += 1
        conn.execute(f"PRAGMA user_version = {version}")
    if version != SCHEMA_VERSION:
        raise StoreError(
            f"{path} has store schema version {version}; "
            f"this omnioffer reads version {SCHEMA_VERSION}"
        )


def _run(conn: sqlite3.Connection, script: str) -> None:
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)
