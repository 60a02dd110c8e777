"""Expiry in the embedded store: SQLite has no TTLs, so rows carry `expires` instead.

Reads ignore expired rows; writes delete what they would otherwise revive; and a
bounded purge now and then keeps the file from growing with dead rows. A customer's
event list lives as long as its newest row, like a Redis list whose EXPIRE every
append refreshes.
"""

from __future__ import annotations

import sqlite3

PURGE_ROWS = 1000  # expired rows (per table) one purge deletes at most


def live_events(conn: sqlite3.Connection, customer_id: str, now: float) -> list[bytes]:
    """A list lives as long as its newest row (each append extends the whole list)."""
    rows = conn.execute(
        "SELECT payload, expires FROM events WHERE customer_id = ? ORDER BY seq",
        (customer_id,),
    ).fetchall()
    if not rows or rows[-1][1] <= now:
        return []
    return [bytes(payload) for payload, _ in rows]


def forget_if_expired(conn: sqlite3.Connection, customer_id: str, now: float) -> float | None:
    """Delete an expired list (it must not revive on append); the live list's expiry."""
    row = conn.execute(
        "SELECT expires FROM events WHERE customer_id = ? ORDER BY seq DESC LIMIT 1",
        (customer_id,),
    ).fetchone()
    if row is not None and row[0] <= now:
        conn.execute("DELETE FROM events WHERE customer_id = ?", (customer_id,))
        return None
    return None if row is None else float(row[0])


def purge(conn: sqlite3.Connection, now: float) -> None:
    """Delete a bounded number of expired rows (reads ignore them anyway)."""
    for table, key, columns in (
        ("seen", "(customer_id, event_id)", "customer_id, event_id"),
        ("decisions", "id", "id"),
    ):
        conn.execute(
            f"DELETE FROM {table} WHERE {key} IN "  # constant names only
            f"(SELECT {columns} FROM {table} WHERE expires <= ? LIMIT ?)",
            (now, PURGE_ROWS),
        )
    stale = conn.execute(
        "SELECT DISTINCT customer_id FROM events WHERE expires <= ? LIMIT ?",
        (now, PURGE_ROWS // 10),
    ).fetchall()
    for (customer_id,) in stale:
        newest = forget_if_expired(conn, customer_id, now)
        if newest is not None:  # a live list: its older rows carry old expiries
            conn.execute(
                "UPDATE events SET expires = ? WHERE customer_id = ? AND expires < ?",
                (newest, customer_id, newest),
            )
