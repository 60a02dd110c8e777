"""Model versions in the embedded store's tables: the queries EmbeddedStore's version
methods share (each runs inside the caller's transaction or read guard)."""

from __future__ import annotations

import json
import sqlite3

from omnioffer.store.base import StoreError, VersionInfo, VersionState
from omnioffer.store.checks import check_version


def active(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = 'active'").fetchone()
    return None if row is None else str(row[0])


def state(conn: sqlite3.Connection, version: str) -> str | None:
    row = conn.execute("SELECT state FROM versions WHERE name = ?", (version,)).fetchone()
    return None if row is None else str(row[0])


def require_loading(conn: sqlite3.Connection, version: str) -> None:
    found = state(conn, check_version(version))
    if found is None:
        raise StoreError(f"unknown version {version!r}; call begin_version first")
    if found != "loading":
        raise StoreError(f"version {version!r} is {found}, not loading")


def clear(conn: sqlite3.Connection, version: str) -> None:
    """Delete a version's batch data (its customers' rows and its globals)."""
    conn.execute("DELETE FROM customers WHERE version = ?", (version,))
    conn.execute("DELETE FROM globals WHERE version = ?", (version,))


def rows(conn: sqlite3.Connection) -> list[tuple[str, str, str, int]]:
    """(name, state, info JSON, customers) of every version, oldest begin first; a loading
    version counts the rows written so far."""
    return conn.execute(
        "SELECT v.name, v.state, v.info, CASE WHEN v.state = 'ready' THEN v.customers "
        "ELSE (SELECT count(*) FROM customers c WHERE c.version = v.name) END "
        "FROM versions v ORDER BY v.created, v.name"
    ).fetchall()


def infos(found: list[tuple[str, str, str, int]], current: str | None) -> list[VersionInfo]:
    """`rows` as VersionInfo, given the active version's name."""
    out = []
    for name, st, info, count in found:
        kind: VersionState = "ready" if st == "ready" else "loading"
        out.append(VersionInfo(name, kind, int(count), name == current, json.loads(info)))
    return out
