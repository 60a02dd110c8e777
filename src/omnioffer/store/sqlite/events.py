"""The steps of one ingested event in the embedded store, mirroring the Redis script.

Each step runs inside the caller's write transaction, so a batch applies all or
nothing; the order of effects is the same as in redis.scripts.INGEST.
"""

from __future__ import annotations

import sqlite3

from omnioffer.store.base import IdentityLink, StoredEvent, StoreLimits
from omnioffer.store.sqlite.expiry import live_events


def mark_seen(conn: sqlite3.Connection, e: StoredEvent, now: float, limits: StoreLimits) -> bool:
    """True when the id is new for its customer (or its marker expired); the marker is
    set either way."""
    cur = conn.execute(
        "INSERT INTO seen VALUES (?, ?, ?) ON CONFLICT(customer_id, event_id) "
        "DO UPDATE SET expires = excluded.expires WHERE seen.expires <= ?",
        (e.customer_id, e.event_id, now + limits.dedup_ttl_s, now),
    )
    return cur.rowcount > 0


def apply_link(
    conn: sqlite3.Connection, cid: str, link: IdentityLink, now: float, limits: StoreLimits
) -> None:
    """Bind the identifier, then move the anonymous id's live events over, oldest first,
    and its dedup markers (the later expiry wins)."""
    conn.execute(
        "INSERT OR REPLACE INTO identities VALUES (?, ?, ?)",
        (link.id_type, link.id_value, cid),
    )
    if link.anonymous_id == cid:
        return
    moved = live_events(conn, link.anonymous_id, now)
    conn.executemany(
        "INSERT INTO events(customer_id, payload, expires) VALUES (?, ?, ?)",
        [(cid, p, now + limits.events_ttl_s) for p in moved],
    )
    conn.execute("DELETE FROM events WHERE customer_id = ?", (link.anonymous_id,))
    conn.execute(
        "INSERT INTO seen SELECT ?, event_id, expires FROM seen WHERE customer_id = ? "
        "ON CONFLICT(customer_id, event_id) DO UPDATE SET expires = "
        "max(seen.expires, excluded.expires)",
        (cid, link.anonymous_id),
    )
    conn.execute("DELETE FROM seen WHERE customer_id = ?", (link.anonymous_id,))
    conn.execute(  # first touch: the anonymous id's record, unless the customer has one
        "INSERT OR IGNORE INTO first_touch SELECT ?, payload FROM first_touch "
        "WHERE customer_id = ?",
        (cid, link.anonymous_id),
    )
    conn.execute("DELETE FROM first_touch WHERE customer_id = ?", (link.anonymous_id,))


def append(conn: sqlite3.Connection, e: StoredEvent, now: float, limits: StoreLimits) -> None:
    """The event's own effects: its list row, its log entry, its counter."""
    conn.execute(
        "INSERT INTO events(customer_id, payload, expires) VALUES (?, ?, ?)",
        (e.customer_id, e.payload, now + limits.events_ttl_s),
    )
    conn.execute("INSERT INTO log(customer_id, payload) VALUES (?, ?)", (e.customer_id, e.payload))
    if e.counter is not None:
        conn.execute(
            "INSERT INTO counters VALUES (?, ?, 1) "
            "ON CONFLICT(offer_id, field) DO UPDATE SET value = value + 1",
            e.counter,
        )


def cap(conn: sqlite3.Connection, customer_id: str, limits: StoreLimits) -> None:
    """Like LTRIM: keep only the newest max_events_per_customer rows."""
    conn.execute(
        "DELETE FROM events WHERE customer_id = ? AND seq < (SELECT seq FROM events "
        "WHERE customer_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)",
        (customer_id, customer_id, limits.max_events_per_customer - 1),
    )
