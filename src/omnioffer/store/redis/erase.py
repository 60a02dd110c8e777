"""Erasing one customer from Redis: every family of store/families, found by key.

A customer's keys share its hash tag, but the records they index do not (identity
links, decision records, log entries), so an erasure is a sequence of steps rather
than one atomic script, ordered so that a retry finds whatever a failed run left:
the tombstones first; then, for each anonymous id of the customer's identifiers and
last for the customer itself, each family's indexed records before the index key
that finds them, and the customer's reverse identity index (which names the
anonymous ids) last of all. Every step is idempotent. `families.checkpoint` runs
before each step (the seam the tests use to cut an erasure short).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript

from omnioffer.contracts.erasure import anonymous_id, tombstone_digests
from omnioffer.store import families
from omnioffer.store.base import Erasure
from omnioffer.store.checks import check_id
from omnioffer.store.redis import keys

_CHUNK = 1000

Dependents = Callable[[aioredis.Redis, AsyncScript, str, str], Awaitable[int]]


async def erase_customer(
    r: aioredis.Redis, unlink: AsyncScript, customer_id: str, erased_at: float
) -> Erasure:
    """See FeatureStore.erase_customer; `unlink` is the registered UNLINK script."""
    cid = check_id(customer_id, "customer id")
    identifiers = await _identifiers(r, cid)
    digests = tombstone_digests(cid, identifiers)
    families.checkpoint("tombstones")
    await r.hset(keys.tombstones(), mapping=dict.fromkeys(digests, repr(erased_at)))
    versions = [_text(v) for v in await r.hkeys(keys.versions())]
    removed = families.no_removals()
    anonymous = sorted({anonymous_id(t, v) for t, v in identifiers} - {cid})
    for owner in [*anonymous, cid]:
        await _erase_owner(r, unlink, owner, customer=cid, versions=versions, removed=removed)
    return Erasure(removed=removed, tombstones=len(digests))


async def _identifiers(r: aioredis.Redis, cid: str) -> list[tuple[str, str]]:
    """The customer's identifiers: its reverse index, less those linked to another
    customer since (a link that is gone stays: a failed erasure may have unlinked it)."""
    found = sorted(_identifier(m) for m in await r.smembers(keys.customer_identities(cid)))
    if not found:
        return []
    owners = await r.mget([keys.identity(t, v) for t, v in found])
    return [i for i, owner in zip(found, owners, strict=True) if owner in (None, cid.encode())]


async def _erase_owner(
    r: aioredis.Redis,
    unlink: AsyncScript,
    owner: str,
    *,
    customer: str,
    versions: Sequence[str],
    removed: dict[str, int],
) -> None:
    """Every family of one owner (the customer, or one of its anonymous ids)."""
    if versions:
        families.checkpoint("batch")
        removed["batch"] += int(await r.delete(*(keys.customer_batch(v, owner) for v in versions)))
    for family, key_of in keys.CUSTOMER_KEYS.items():
        key = key_of(owner)
        families.checkpoint(family)
        dependents = _DEPENDENTS.get(family)
        if dependents is not None:
            removed[family] += await dependents(r, unlink, key, customer)
        else:
            removed[family] += await _size(r, key)
        await r.delete(key)


async def _size(r: aioredis.Redis, key: str) -> int:
    """How many items a key holds (a string: one)."""
    raw = await r.type(key)
    kind = raw.decode() if isinstance(raw, bytes) else str(raw)
    sizes: dict[str, Callable[[str], Awaitable[Any]]] = {
        "list": r.llen, "zset": r.zcard, "hash": r.hlen, "set": r.scard, "stream": r.xlen,
    }  # fmt: skip
    if kind == "none":
        return 0
    size = sizes.get(kind)
    return 1 if size is None else int(await size(key))


async def _decision_records(
    r: aioredis.Redis, unlink: AsyncScript, index: str, customer: str
) -> int:
    ids = [_text(cast("bytes", d)) for d in await r.zrange(index, 0, -1)]
    done = 0
    for lo in range(0, len(ids), _CHUNK):
        pipe = r.pipeline(transaction=False)  # one hash slot each: no multi-key DEL
        for decision_id in ids[lo : lo + _CHUNK]:
            pipe.delete(keys.decision(decision_id))
        done += sum(int(n) for n in await pipe.execute())
    return done


async def _entries(r: aioredis.Redis, stream: str, index: str) -> int:
    """The stream entries an index lists (ids the stream no longer holds count 0)."""
    ids = await r.lrange(index, 0, -1)
    done = 0
    for lo in range(0, len(ids), _CHUNK):
        done += int(await r.xdel(stream, *ids[lo : lo + _CHUNK]))
    return done


async def _log_entries(r: aioredis.Redis, unlink: AsyncScript, index: str, customer: str) -> int:
    return await _entries(r, keys.log(), index)


async def _decision_log_entries(
    r: aioredis.Redis, unlink: AsyncScript, index: str, customer: str
) -> int:
    return await _entries(r, keys.decision_log(), index)


async def _links(r: aioredis.Redis, unlink: AsyncScript, index: str, customer: str) -> int:
    """Forward links of the index's identifiers that still point at the customer."""
    done = 0
    for member in sorted(await r.smembers(index)):
        id_type, id_value = _identifier(member)
        done += int(await unlink(keys=[keys.identity(id_type, id_value)], args=[customer]))
    return done


_DEPENDENTS: dict[str, Dependents] = {
    "decisions": _decision_records,
    "log": _log_entries,
    "decision_log": _decision_log_entries,
    "identities": _links,
}


def _identifier(member: bytes | str) -> tuple[str, str]:
    id_type, _, id_value = _text(member).partition(":")
    return id_type, id_value


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw
