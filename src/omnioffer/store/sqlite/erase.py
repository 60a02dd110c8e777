"""Erasing one customer from the embedded store: every family of store/families, by row.

`ROWS` maps each family to the table and column that hold it; the tombstones, then
every family of each anonymous id of the customer's identifiers and of the customer,
go in the caller's one write transaction, so an erasure is whole or not at all (a
retry after a failure does all of it). `families.checkpoint` runs before each step,
as in the Redis backend. Deleted rows are overwritten (PRAGMA secure_delete for the
transaction) so their bytes do not linger in the file's free pages.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

from omnioffer.contracts.erasure import anonymous_id, tombstone_digests
from omnioffer.store import families
from omnioffer.store.base import Erasure
from omnioffer.store.checks import check_id

# family -> (table, the column naming the customer); "batch" rows are per version.
ROWS: Mapping[str, tuple[str, str]] = {
    "batch": ("customers", "customer_id"),
    "events": ("events", "customer_id"),
    "dedup": ("seen", "customer_id"),
    "last_decision": ("last_decisions", "customer_id"),
    "decisions": ("decisions", "customer_id"),
    "consent": ("consents", "customer_id"),
    "log": ("log", "customer_id"),
    "first_touch": ("first_touch", "customer_id"),
    "decision_log": ("decision_log", "customer_id"),
    "identities": ("identities", "customer_id"),
}


def erase_customer(conn: sqlite3.Connection, customer_id: str, erased_at: float) -> Erasure:
    """See FeatureStore.erase_customer; runs inside the caller's write transaction."""
    cid = check_id(customer_id, "customer id")
    identifiers = [
        (str(t), str(v))
        for t, v in conn.execute(
            "SELECT id_type, id_value FROM identities WHERE customer_id = ? "
            "ORDER BY id_type, id_value",
            (cid,),
        )
    ]
    digests = tombstone_digests(cid, identifiers)
    families.checkpoint("tombstones")
    conn.executemany(
        "INSERT OR REPLACE INTO tombstones VALUES (?, ?)", [(d, erased_at) for d in digests]
    )
    removed = families.no_removals()
    anonymous = sorted({anonymous_id(t, v) for t, v in identifiers} - {cid})
    for owner in [*anonymous, cid]:
        for family, (table, column) in ROWS.items():
            families.checkpoint(family)
            removed[family] += _delete(conn, family, table, column, owner)
    return Erasure(removed=removed, tombstones=len(digests))


def _delete(conn: sqlite3.Connection, family: str, table: str, column: str, owner: str) -> int:
    if family == "batch":  # the primary key is (version, customer_id): one lookup per version
        return conn.execute(
            "DELETE FROM customers WHERE version IN (SELECT name FROM versions) "
            "AND customer_id = ?",
            (owner,),
        ).rowcount
    return conn.execute(
        f"DELETE FROM {table} WHERE {column} = ?",  # names from ROWS only
        (owner,),
    ).rowcount
