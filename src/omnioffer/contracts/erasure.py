"""Tombstones: what an erased customer leaves behind, shared by the store, export and training.

A tombstone is a digest and a time, never an id: the SHA-256 of a domain tag and the
erased customer id, or of one of its identifiers (id_type, id_value), with the service
clock's time of the erasure. The store keeps one per erased id; `export-events` writes
them as the data contract's `erasures` table; `train` excludes every customer (and every
identifier) whose digest is listed, for their events up to `erased_at`: an erasure is of
the past, and events after it are a new history.

A digest reveals no id by itself, but it is unsalted on purpose: whoever holds a
candidate id can test it, which is exactly what honouring the tombstone takes (the
training data holds ids in clear). Anonymous pseudo-ids (`anon:<id_type>:<id_value>`)
are digested as the identifier they stand for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

ERASURE_TAG = "omnioffer-erasure-v1"
ANON_PREFIX = "anon:"
DIGEST_CHARS = 64  # hex characters of a SHA-256


def anonymous_id(id_type: str, id_value: str) -> str:
    """The pseudo-id of an identifier linked to nobody (its events live under it)."""
    return f"{ANON_PREFIX}{id_type}:{id_value}"


def identifier_of(owner: str) -> tuple[str, str] | None:
    """The identifier an anonymous pseudo-id stands for; None for a customer id."""
    if not owner.startswith(ANON_PREFIX):
        return None
    id_type, sep, id_value = owner.removeprefix(ANON_PREFIX).partition(":")
    return (id_type, id_value) if sep else None


def customer_digest(customer_id: str) -> str:
    """The tombstone digest of a customer id."""
    return _digest("c", customer_id)


def identifier_digest(id_type: str, id_value: str) -> str:
    """The tombstone digest of an identifier (the same for its anonymous pseudo-id)."""
    return _digest("i", id_type, id_value)


def owner_digest(owner: str) -> str:
    """The digest of a store owner id: a customer id, or an anonymous pseudo-id."""
    identifier = identifier_of(owner)
    return customer_digest(owner) if identifier is None else identifier_digest(*identifier)


def tombstone_digests(owner: str, identifiers: Iterable[tuple[str, str]]) -> list[str]:
    """The digests an erasure of `owner` writes: its own and each linked identifier's."""
    return sorted({owner_digest(owner), *(identifier_digest(t, v) for t, v in identifiers)})


def _digest(kind: str, *parts: str) -> str:
    text = "\x00".join((ERASURE_TAG, kind, *parts))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
