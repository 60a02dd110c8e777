"""The one list of what the store keeps per customer: the families erasure removes.

Every piece of real-time or batch state that belongs to one customer (or to one
anonymous pseudo-id) is in one of these families. Each backend maps every family to
its own keys or rows (`store/redis/keys.CUSTOMER_KEYS` and the batch key;
`store/sqlite/erase.ROWS`), and `erase_customer` removes every family of the customer
and of the anonymous ids linked to it, and answers a count per family. A new kind of
per-customer state (experiment assignments, segment state, outbound records) is a new
family here plus its key or table in each backend; the contract tests fail until both
backends erase it.

What erasure keeps: offer counters and budgets (`served`) are aggregates over every
customer; the version catalogs hold no customer.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Family:
    name: str
    what: str


FAMILIES: tuple[Family, ...] = (
    Family("batch", "batch features, in every materialized version"),
    Family("events", "real-time events"),
    Family("dedup", "idempotency markers of the customer's events"),
    Family("last_decision", "the latest served decision (cross-channel stickiness)"),
    Family("decisions", "served decisions that feedback recalls"),
    Family("consent", "the live consent overlay"),
    Family("log", "the customer's entries in the durable event log"),
    Family("first_touch", "the sticky first-touch experiment record"),
    Family("decision_log", "the customer's entries in the decision log"),
    Family("identities", "identifier links to the customer (the anonymous ids behind them too)"),
)
FAMILY_NAMES: tuple[str, ...] = tuple(f.name for f in FAMILIES)


def no_removals() -> dict[str, int]:
    """A count of zero for every family, in FAMILIES order."""
    return dict.fromkeys(FAMILY_NAMES, 0)


def checkpoint(step: str) -> None:
    """Runs before each step of an erasure, in both backends: a no-op, and the seam
    tests replace to cut an erasure short at every step (a retry must finish it)."""
