"""Reading and clearing a model version's data on Redis (redis-py), for RedisStore.

Callers run these inside RedisStore's error guard; the atomic steps (begin, activate,
drop) are the Lua scripts of `scripts`.
"""

from __future__ import annotations

import json
from typing import Any

import redis.asyncio as aioredis

from omnioffer.store.base import StoreError, VersionInfo
from omnioffer.store.checks import check_version
from omnioffer.store.redis import keys

_SCAN_BATCH = 1000


async def delete_matching(r: aioredis.Redis, pattern: str) -> None:
    """SCAN + UNLINK in batches so a big version never blocks Redis."""
    batch: list[bytes] = []
    async for key in r.scan_iter(match=pattern, count=_SCAN_BATCH):
        batch.append(key)
        if len(batch) >= _SCAN_BATCH:
            await r.unlink(*batch)
            batch = []
    if batch:
        await r.unlink(*batch)


async def require_loading(r: aioredis.Redis, version: str) -> dict[str, Any]:
    """The version's versions-hash document; StoreError unless it is loading."""
    raw = await r.hget(keys.versions(), check_version(version))
    if raw is None:
        raise StoreError(f"unknown version {version!r}; call begin_version first")
    doc: dict[str, Any] = json.loads(raw)
    if doc.get("state") != "loading":
        raise StoreError(f"version {version!r} is {doc.get('state')}, not loading")
    return doc


async def read_versions(r: aioredis.Redis) -> list[VersionInfo]:
    """Every version, oldest begin first; loading ones with their running row count."""
    pipe = r.pipeline(transaction=False)
    pipe.hgetall(keys.versions())
    pipe.get(keys.active())
    raw, active = await pipe.execute()
    docs = sorted(
        ((name.decode(), json.loads(doc)) for name, doc in raw.items()),
        key=lambda item: (float(item[1].get("created", 0)), item[0]),
    )
    loading = [name for name, doc in docs if doc.get("state") != "ready"]
    pipe = r.pipeline(transaction=False)
    for name in loading:
        pipe.hget(keys.version_state(name), "customers")
    counts = dict(zip(loading, await pipe.execute(), strict=True))
    active_name = None if active is None else active.decode()
    return [
        keys.parse_version_value(name, doc, active_name, counts.get(name)) for name, doc in docs
    ]
