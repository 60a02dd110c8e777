"""FeatureStore on Redis (redis.asyncio): the production backend shared by all workers.

Commands are never retried: a decision must answer within its budget, so a slow or
absent Redis surfaces at once as StoreUnavailable and the caller degrades.
Key names come from `keys` only; multi-key atomic steps are `redis_scripts` or MULTI/EXEC.
The two round trips of every decision go through `redis_wire`, everything else redis-py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from omnioffer.store import keys
from omnioffer.store.base import (
    CustomerRecord,
    IngestResult,
    StoredEvent,
    StoreError,
    StoreLimits,
    VersionInfo,
)
from omnioffer.store.redis_errors import redact_url, translate_errors
from omnioffer.store.redis_scripts import ACTIVATE, BEGIN, DROP, INGEST, ingest_call
from omnioffer.store.redis_wire import WirePool, pack
from omnioffer.store.redis_wire_options import Command, wire_options

__all__ = ["ACTIVATE", "BEGIN", "DROP", "INGEST", "RedisStore", "ingest_call", "redact_url"]

_SCAN_BATCH = 1000


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def _blob(raw: bytes | str) -> bytes:
    return raw if isinstance(raw, bytes) else raw.encode()


class RedisStore:
    """One client, shared by every request of a worker, with two connection pools of up
    to max_connections each: redis_wire's for the two round trips of a decision, and
    redis-py's for everything else."""

    def __init__(
        self,
        url: str,
        *,
        limits: StoreLimits | None = None,
        max_connections: int = 64,
        socket_timeout: float = 0.25,
        socket_connect_timeout: float = 0.25,
        health_check_interval: int = 30,
        log_max_len: int | None = None,
        wire: bool = True,
    ) -> None:
        """Query options in `url` (e.g. ?socket_timeout=5 for bulk loads) override these.

        `wire=False` sends the per-decision round trips through redis-py too (the
        baseline of benchmarks/bench_redis_client.py); so do URLs redis_wire does not
        handle, such as unix:// sockets.

        `log_max_len` bounds the event-log stream's memory: each ingest trims it to
        about that many newest entries (XADD MAXLEN ~, so Redis trims whole nodes
        and may keep somewhat more). Entries a log reader has not consumed yet are
        trimmed too, so size it above the readers' worst backlog. None (the
        default) keeps every entry until `trim_log` (`export-events --trim`) deletes
        what was exported.
        """
        if log_max_len is not None and log_max_len < 1:
            raise StoreError(f"log_max_len must be at least 1 or None, got {log_max_len}")
        self.limits = keys.check_limits(limits or StoreLimits())
        self.log_max_len = log_max_len
        self.url = redact_url(url)
        self._r = aioredis.Redis.from_url(
            url,
            max_connections=max_connections,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_connect_timeout,
            health_check_interval=health_check_interval,
            retry=Retry(NoBackoff(), 0),
        )
        self._ingest = self._r.register_script(INGEST)
        self._activate = self._r.register_script(ACTIVATE)
        self._begin = self._r.register_script(BEGIN)
        self._drop = self._r.register_script(DROP)
        options = wire_options(self._r.connection_pool) if wire else None
        self._wire = None if options is None else WirePool(options)

    @property
    def wire_pool(self) -> WirePool | None:
        """redis_wire's pool for the per-decision round trips; None: redis-py's does them."""
        return self._wire

    def _guard(self, what: str) -> AbstractAsyncContextManager[None]:
        """Every Redis call runs inside this: failures become StoreUnavailable/StoreError."""
        return translate_errors(self.url, what)

    async def ping(self) -> None:
        async with self._guard("ping"):
            await self._r.ping()

    async def close(self) -> None:
        async with self._guard("close"):
            if self._wire is not None:
                await self._wire.close()
            await self._r.aclose()

    # --- versions ----------------------------------------------------------------
    async def begin_version(self, version: str) -> None:
        """Mark loading first (atomically refusing the active one), then clear leftovers."""
        doc = keys.version_value("loading", 0, {}, time.time())
        pattern = keys.version_pattern(version)  # validates the name before any write
        async with self._guard("begin_version"):
            res = await self._begin(keys=[keys.versions(), keys.active()], args=[version, doc])
            if res == b"active":
                raise StoreError(f"version {version!r} is active; it cannot be reloaded")
            await self._delete_matching(pattern)

    async def _delete_matching(self, pattern: str) -> None:
        """SCAN + UNLINK in batches so a big version never blocks Redis."""
        batch: list[bytes] = []
        async for key in self._r.scan_iter(match=pattern, count=_SCAN_BATCH):
            batch.append(key)
            if len(batch) >= _SCAN_BATCH:
                await self._r.unlink(*batch)
                batch = []
        if batch:
            await self._r.unlink(*batch)

    async def _require_loading(self, version: str) -> dict[str, Any]:
        raw = await self._r.hget(keys.versions(), keys.check_version(version))
        if raw is None:
            raise StoreError(f"unknown version {version!r}; call begin_version first")
        doc: dict[str, Any] = json.loads(raw)
        if doc.get("state") != "loading":
            raise StoreError(f"version {version!r} is {doc.get('state')}, not loading")
        return doc

    async def put_globals(self, version: str, blobs: Mapping[str, bytes]) -> None:
        async with self._guard("put_globals"):
            await self._require_loading(version)
            pipe = self._r.pipeline(transaction=False)
            for name, blob in blobs.items():
                pipe.set(keys.global_blob(version, name), blob)
            await pipe.execute()

    async def put_customers(self, version: str, rows: Sequence[tuple[str, bytes]]) -> None:
        """Two round trips per chunk: which rows are new (for the count), then the writes.

        The writes and the count go in one MULTI/EXEC: a connection lost half-way
        through a plain pipeline would leave rows written but uncounted, and the
        retry would then see them as old, so the version's count would stay short.
        One multi-key EXISTS and one MSET per chunk, not a command per row: the
        client's per-command cost dominated bulk loads (benchmarks/bench_materialize.py).
        """
        latest = {keys.customer_batch(version, cid): blob for cid, blob in rows}
        async with self._guard("put_customers"):
            await self._require_loading(version)
            new = len(latest) - (int(await self._r.exists(*latest)) if latest else 0)
            pipe = self._r.pipeline(transaction=True)
            if latest:
                pipe.mset(latest)
            pipe.hincrby(keys.version_state(version), "customers", new)
            await pipe.execute()

    async def finish_version(self, version: str, info: Mapping[str, str]) -> None:
        async with self._guard("finish_version"):
            doc = await self._require_loading(version)
            count = await self._r.hget(keys.version_state(version), "customers")
            ready = keys.version_value("ready", int(count or 0), info, float(doc.get("created", 0)))
            await self._r.hset(keys.versions(), version, ready)

    async def activate(self, version: str) -> None:
        """One Lua call: check "ready" and switch, so no reader sees a half-loaded version."""
        async with self._guard("activate"):
            res = await self._activate(
                keys=[keys.versions(), keys.active()], args=[keys.check_version(version)]
            )
        if res == b"unknown":
            raise StoreError(f"cannot activate unknown version {version!r}")
        if res != b"ok":
            raise StoreError(f"cannot activate version {version!r}: it is {res.decode()}")

    async def active_version(self) -> str | None:
        async with self._guard("active_version"):
            raw = await self._r.get(keys.active())
        return None if raw is None else _text(raw)

    async def list_versions(self) -> list[VersionInfo]:
        async with self._guard("list_versions"):
            pipe = self._r.pipeline(transaction=False)
            pipe.hgetall(keys.versions())
            pipe.get(keys.active())
            raw, active = await pipe.execute()
            docs = sorted(
                ((name.decode(), json.loads(doc)) for name, doc in raw.items()),
                key=lambda item: (float(item[1].get("created", 0)), item[0]),
            )
            loading = [name for name, doc in docs if doc.get("state") != "ready"]
            pipe = self._r.pipeline(transaction=False)
            for name in loading:
                pipe.hget(keys.version_state(name), "customers")
            counts = dict(zip(loading, await pipe.execute(), strict=True))
        active_name = None if active is None else active.decode()
        return [
            keys.parse_version_value(name, doc, active_name, counts.get(name)) for name, doc in docs
        ]

    async def drop_version(self, version: str) -> None:
        """Demote to "loading" atomically (never activatable again), delete, then forget."""
        async with self._guard("drop_version"):
            res = await self._drop(
                keys=[keys.versions(), keys.active()], args=[keys.check_version(version)]
            )
            if res == b"active":
                raise StoreError(f"version {version!r} is active; activate another first")
            if res == b"unknown":
                raise StoreError(f"cannot drop unknown version {version!r}")
            await self._delete_matching(keys.version_pattern(version))
            await self._r.hdel(keys.versions(), version)

    async def get_global(self, version: str, name: str) -> bytes | None:
        async with self._guard("get_global"):
            raw = await self._r.get(keys.global_blob(version, name))
        return None if raw is None else _blob(raw)

    # --- per request -------------------------------------------------------------
    def _round_trip(self, *commands: Command) -> Awaitable[list[Any]]:
        """Several commands in one write and one read on one pooled connection: what a
        non-transactional pipeline does, without its per-call bookkeeping (a decision
        makes two of these). Any failure, a cancelled wait included, drops the
        connection, so a reply left unread can never reach its next user."""
        if self._wire is not None:
            return self._wire.round_trip(pack(commands), len(commands))
        return self._redis_py_round_trip(commands)

    async def _redis_py_round_trip(self, commands: Sequence[Command]) -> list[Any]:
        """The same through redis-py's pool, for URLs redis_wire does not handle."""
        pool = self._r.connection_pool
        conn = await pool.get_connection()  # type: ignore[no-untyped-call]
        done = False
        try:
            await conn.send_packed_command(conn.pack_commands(commands))
            replies = [await conn.read_response() for _ in commands]
            done = True
            return replies
        finally:
            if not done:
                await conn.disconnect()
            await pool.release(conn)

    async def fetch_customer(self, version: str, customer_id: str) -> CustomerRecord:
        async with self._guard("fetch_customer"):
            batch, events, last = await self._round_trip(
                ("GET", keys.customer_batch(version, customer_id)),
                ("LRANGE", keys.customer_events(customer_id), 0, -1),
                ("GET", keys.customer_last_decision(customer_id)),
            )
        return CustomerRecord(batch=batch, events=list(events), last_decision=last)

    async def resolve(self, id_type: str, id_value: str) -> str | None:
        async with self._guard("resolve"):
            raw = await self._r.get(keys.identity(id_type, id_value))
        return None if raw is None else _text(raw)

    async def put_identities(self, rows: Sequence[tuple[str, str, str]]) -> None:
        """One MSET (later rows win, as with a SET each)."""
        links = {
            keys.identity(id_type, id_value): keys.check_id(customer_id, "customer id")
            for id_type, id_value, customer_id in rows
        }
        if not links:
            return
        async with self._guard("put_identities"):
            await self._r.mset(links)

    # --- real-time writes --------------------------------------------------------
    async def ingest(self, events: Sequence[StoredEvent]) -> IngestResult:
        """The whole batch is one Lua call: atomic, and one round trip."""
        if not events:
            return IngestResult(accepted=(), duplicates=())
        script_keys, args = ingest_call(events, self.limits, self.log_max_len)
        async with self._guard("ingest"):
            flags = await self._ingest(keys=script_keys, args=args)
        accepted = tuple(e.event_id for e, f in zip(events, flags, strict=True) if f == 1)
        dupes = tuple(e.event_id for e, f in zip(events, flags, strict=True) if f != 1)
        return IngestResult(accepted=accepted, duplicates=dupes)

    async def read_log(self, after: str | None, limit: int) -> list[tuple[str, str, bytes]]:
        if limit <= 0:
            return []
        start = "-" if after is None else f"({after}"
        async with self._guard("read_log"):
            entries = await self._r.xrange(keys.log(), min=start, max="+", count=limit)
        out = []
        for entry_id, fields in entries or []:
            if entry_id is not None and fields is not None:
                out.append((_text(entry_id), _text(fields[b"c"]), _blob(fields[b"p"])))
        return out

    async def trim_log(self, through: str) -> int:
        ms, dash, seq = through.partition("-")
        if not (dash and through.isascii() and ms.isdigit() and seq.isdigit()):
            raise StoreError(f"invalid log entry id {through!r}")
        # XTRIM MINID, exact: drops the entries whose id is below the one after `through`
        async with self._guard("trim_log"):
            return int(await self._r.xtrim(keys.log(), minid=f"{ms}-{int(seq) + 1}",
                                           approximate=False))  # fmt: skip

    async def offer_counters(self, offer_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """Every requested offer is in the answer; never-counted offers map to {}."""
        pipe = self._r.pipeline(transaction=False)
        for offer_id in offer_ids:
            pipe.hgetall(keys.counters(offer_id))
        async with self._guard("offer_counters"):
            rows = await pipe.execute()
        return {
            offer_id: {k.decode(): int(v) for k, v in row.items()}
            for offer_id, row in zip(offer_ids, rows, strict=True)
        }

    async def remember_decision(self, decision_id: str, customer_id: str, payload: bytes) -> None:
        key, ttl = keys.decision(decision_id), self.limits.decision_ttl_s
        cid = keys.check_id(customer_id, "customer id")
        async with self._guard("remember_decision"):  # two hash slots: no MULTI on a cluster
            await self._round_trip(
                ("HSET", key, "c", cid, "p", payload),
                ("EXPIRE", key, ttl),
                ("SET", keys.customer_last_decision(customer_id), payload, "EX", ttl),
            )

    async def recall_decision(self, decision_id: str) -> tuple[str, bytes] | None:
        async with self._guard("recall_decision"):
            customer, payload = await self._r.hmget(keys.decision(decision_id), ["c", "p"])
        if customer is None or payload is None:
            return None
        return _text(customer), _blob(payload)
