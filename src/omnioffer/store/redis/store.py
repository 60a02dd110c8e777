"""FeatureStore on Redis (redis.asyncio): the production backend shared by all workers.

Commands are never retried: a decision must answer within its budget, so a slow or
absent Redis surfaces at once as StoreUnavailable and the caller degrades.
Key names come from `keys` only; multi-key atomic steps are `scripts` or MULTI/EXEC.
The two round trips of every decision go through `round_trips` (the wire client),
everything else redis-py.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import NoScriptError

from omnioffer.store.base import (
    SERVED,
    CustomerRecord,
    Erasure,
    IngestResult,
    RecordedDecision,
    StoredEvent,
    StoreError,
    StoreLimits,
    VersionInfo,
)
from omnioffer.store.checks import check_consent, check_id, check_limits, check_version
from omnioffer.store.redis import keys
from omnioffer.store.redis.erase import erase_customer
from omnioffer.store.redis.errors import redact_url, translate_errors
from omnioffer.store.redis.round_trips import RoundTrips
from omnioffer.store.redis.scripts import (
    ACTIVATE,
    BEGIN,
    CONSENT,
    DROP,
    INGEST,
    LOG_DECISION,
    PUT_EXPERIMENTS,
    UNLINK,
    ingest_call,
)
from omnioffer.store.redis.versions import delete_matching, read_versions, require_loading
from omnioffer.store.redis.wire import WirePool
from omnioffer.store.redis.wire_options import ClientOptions, Command, wire_options

__all__ = ["ACTIVATE", "BEGIN", "DROP", "INGEST", "RedisStore", "ingest_call", "redact_url"]


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def _blob(raw: bytes | str) -> bytes:
    return raw if isinstance(raw, bytes) else raw.encode()


class RedisStore:
    """One client, shared by every request of a worker, with two connection pools of up
    to max_connections each: the wire client's for the two round trips of a decision,
    and redis-py's for everything else."""

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

        `wire=False` sends the per-decision round trips through redis-py too (a
        baseline of benchmarks/bench_redis_client.py); so do URLs the wire client does
        not handle, such as unix:// sockets.

        `log_max_len` bounds the event-log stream's memory: each ingest trims it to
        about that many newest entries (XADD MAXLEN ~, so Redis trims whole nodes
        and may keep somewhat more). Entries a log reader has not consumed yet are
        trimmed too, so size it above the readers' worst backlog. None (the
        default) keeps every entry until `trim_log` (`export-events --trim`) deletes
        what was exported.
        """
        if log_max_len is not None and log_max_len < 1:
            raise StoreError(f"log_max_len must be at least 1 or None, got {log_max_len}")
        self.limits = check_limits(limits or StoreLimits())
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
        self._consent = self._r.register_script(CONSENT)
        self._unlink = self._r.register_script(UNLINK)
        self._put_experiments = self._r.register_script(PUT_EXPERIMENTS)
        self._log_decision = self._r.register_script(LOG_DECISION)
        client = ClientOptions(max_connections, socket_timeout, socket_connect_timeout)
        self._round_trip = RoundTrips(self._r, wire_options(url, client) if wire else None)

    @property
    def wire_pool(self) -> WirePool | None:
        """The wire client's pool for the per-decision round trips; None: redis-py's."""
        return self._round_trip.wire_pool

    def _guard(self, what: str) -> AbstractAsyncContextManager[None]:
        """Every Redis call runs inside this: failures become StoreUnavailable/StoreError."""
        return translate_errors(self.url, what)

    async def ping(self) -> None:
        async with self._guard("ping"):
            await self._r.ping()

    async def close(self) -> None:
        async with self._guard("close"):
            await self._round_trip.close()
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
            await delete_matching(self._r, pattern)

    async def put_globals(self, version: str, blobs: Mapping[str, bytes]) -> None:
        async with self._guard("put_globals"):
            await require_loading(self._r, version)
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
            await require_loading(self._r, version)
            new = len(latest) - (int(await self._r.exists(*latest)) if latest else 0)
            pipe = self._r.pipeline(transaction=True)
            if latest:
                pipe.mset(latest)
            pipe.hincrby(keys.version_state(version), "customers", new)
            await pipe.execute()

    async def finish_version(self, version: str, info: Mapping[str, str]) -> None:
        async with self._guard("finish_version"):
            doc = await require_loading(self._r, version)
            count = await self._r.hget(keys.version_state(version), "customers")
            ready = keys.version_value("ready", int(count or 0), info, float(doc.get("created", 0)))
            await self._r.hset(keys.versions(), version, ready)

    async def activate(self, version: str) -> None:
        """One Lua call: check "ready" and switch, so no reader sees a half-loaded version."""
        async with self._guard("activate"):
            res = await self._activate(
                keys=[keys.versions(), keys.active()], args=[check_version(version)]
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
            return await read_versions(self._r)

    async def drop_version(self, version: str) -> None:
        """Demote to "loading" atomically (never activatable again), delete, then forget."""
        async with self._guard("drop_version"):
            res = await self._drop(
                keys=[keys.versions(), keys.active()], args=[check_version(version)]
            )
            if res == b"active":
                raise StoreError(f"version {version!r} is active; activate another first")
            if res == b"unknown":
                raise StoreError(f"cannot drop unknown version {version!r}")
            await delete_matching(self._r, keys.version_pattern(version))
            await self._r.hdel(keys.versions(), version)

    async def get_global(self, version: str, name: str) -> bytes | None:
        async with self._guard("get_global"):
            raw = await self._r.get(keys.global_blob(version, name))
        return None if raw is None else _blob(raw)

    # --- per request -------------------------------------------------------------
    async def fetch_customer(self, version: str, customer_id: str) -> CustomerRecord:
        async with self._guard("fetch_customer"):
            batch, events, last, consent, touch = await self._round_trip(
                ("GET", keys.customer_batch(version, customer_id)),
                ("LRANGE", keys.customer_events(customer_id), 0, -1),
                ("GET", keys.customer_last_decision(customer_id)),
                ("HGETALL", keys.customer_consent(customer_id)),
                ("GET", keys.customer_first_touch(customer_id)),
            )
        return CustomerRecord(batch=batch, events=list(events), last_decision=last,
                              consent=_consent(consent), first_touch=touch)  # fmt: skip

    async def resolve(self, id_type: str, id_value: str) -> str | None:
        async with self._guard("resolve"):
            raw = await self._r.get(keys.identity(id_type, id_value))
        return None if raw is None else _text(raw)

    async def put_identities(self, rows: Sequence[tuple[str, str, str]]) -> None:
        """One MSET (later rows win, as with a SET each), and each identifier added to
        its customer's reverse index (which erasure reads), in one pipeline."""
        links = {
            keys.identity(id_type, id_value): check_id(customer_id, "customer id")
            for id_type, id_value, customer_id in rows
        }
        if not links:
            return
        members: dict[str, list[str]] = {}
        for id_type, id_value, customer_id in rows:
            members.setdefault(customer_id, []).append(keys.identity_member(id_type, id_value))
        pipe = self._r.pipeline(transaction=False)
        pipe.mset(links)
        for customer_id, owned in members.items():
            pipe.sadd(keys.customer_identities(customer_id), *owned)
        async with self._guard("put_identities"):
            await pipe.execute()

    # --- real-time writes --------------------------------------------------------
    async def ingest(self, events: Sequence[StoredEvent]) -> IngestResult:
        """The whole batch is one Lua call: atomic, and one round trip."""
        if not events:
            return IngestResult(accepted=(), duplicates=())
        script_keys, args = ingest_call(events, self.limits, time.time(), self.log_max_len)
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

    async def count_served(self, offer_ids: Sequence[str]) -> None:
        if not offer_ids:
            return
        commands = [("HINCRBY", keys.counters(o), SERVED, 1) for o in offer_ids]
        async with self._guard("count_served"):  # one hash per offer: no MULTI on a cluster
            await self._round_trip(*commands)

    async def remember_decision(self, decision_id: str, customer_id: str, payload: bytes) -> None:
        """The record, the customer's last decision, and the record's id in the
        customer's index (pruned of expired ids), for erasure: one round trip."""
        ttl, cid = self.limits.decision_ttl_s, check_id(customer_id, "customer id")
        commands = self._remember(decision_id, cid, payload, ttl, time.time())
        async with self._guard("remember_decision"):  # two hash slots: no MULTI on a cluster
            await self._round_trip(*commands)

    @staticmethod
    def _remember(
        decision_id: str, cid: str, payload: bytes, ttl: int, now: float
    ) -> list[Command]:
        key, index = keys.decision(decision_id), keys.customer_decisions(cid)
        return [
            ("HSET", key, "c", cid, "p", payload),
            ("EXPIRE", key, ttl),
            ("SET", keys.customer_last_decision(cid), payload, "EX", ttl),
            ("ZADD", index, repr(now + ttl), decision_id),
            ("ZREMRANGEBYSCORE", index, "-inf", repr(now)),
            ("EXPIRE", index, ttl),
        ]

    def _xadd(self, cid: str, logged: bytes) -> Command:
        """A decision-log entry; a customer's is indexed under it too (LOG_DECISION)."""
        if cid:
            sha, keep = self._log_decision.sha, self.limits.max_events_per_customer
            return ("EVALSHA", sha, 2, keys.decision_log(), keys.customer_decision_log(cid),
                    cid, logged, self.log_max_len or 0, keep)  # fmt: skip
        trim: tuple[str | int, ...] = ()
        if self.log_max_len is not None:
            trim = ("MAXLEN", "~", self.log_max_len)
        return ("XADD", keys.decision_log(), *trim, "*", "c", cid, "p", logged)

    async def _logging_round_trip(self, commands: list[Command]) -> None:
        """A round trip with decision-log entries in it: a Redis that does not know the
        script yet (a restart, a failover) answers NOSCRIPT before running it; load it
        and send the round trip again (its other commands are idempotent)."""
        try:
            await self._round_trip(*commands)
        except NoScriptError:
            await self._r.script_load(LOG_DECISION)
            await self._round_trip(*commands)

    async def record_decision(self, decision: RecordedDecision) -> None:
        """One round trip, no MULTI (the keys live in several hash slots on a cluster)."""
        cid = "" if decision.customer_id is None else check_id(decision.customer_id)
        commands: list[Command] = []
        if decision.payload is not None and cid:
            ttl = self.limits.decision_ttl_s
            commands += self._remember(decision.decision_id, cid, decision.payload, ttl,
                                       time.time())  # fmt: skip
        if decision.first_touch is not None and cid:
            commands.append(("SET", keys.customer_first_touch(cid), decision.first_touch, "NX"))
        if decision.logged is not None:
            commands.append(self._xadd(cid, decision.logged))
        if commands:
            async with self._guard("record_decision"):
                await self._logging_round_trip(commands)

    async def log_decisions(self, records: Sequence[tuple[str, bytes]]) -> None:
        commands = [self._xadd(check_id(c) if c else "", p) for c, p in records]
        if commands:
            async with self._guard("log_decisions"):
                await self._logging_round_trip(commands)

    async def read_decisions(self, after: str | None, limit: int) -> list[tuple[str, bytes]]:
        if limit <= 0:
            return []
        start = "-" if after is None else f"({after}"
        async with self._guard("read_decisions"):
            entries = await self._r.xrange(keys.decision_log(), min=start, max="+", count=limit)
        return [
            (_text(entry_id), _blob(fields[b"p"]))
            for entry_id, fields in entries or []
            if entry_id is not None and fields is not None
        ]

    async def keep_first_touch(self, customer_id: str, record: bytes) -> bool:
        key = keys.customer_first_touch(customer_id)
        async with self._guard("keep_first_touch"):
            return bool(await self._r.set(key, record, nx=True))

    async def get_experiments(self) -> tuple[str, bytes] | None:
        async with self._guard("get_experiments"):
            found, blob = await self._r.hmget(keys.experiments(), ["sum", "blob"])
        return None if found is None or blob is None else (_text(found), _blob(blob))

    async def experiments_checksum(self) -> str | None:
        async with self._guard("experiments_checksum"):
            found = await self._r.hget(keys.experiments(), "sum")
        return None if found is None else _text(found)

    async def put_experiments(self, checksum: str, blob: bytes, expected: str | None) -> bool:
        args: list[str | bytes] = [checksum, blob, "-" if expected is None else expected]
        async with self._guard("put_experiments"):
            return bool(await self._put_experiments(keys=[keys.experiments()], args=args))

    async def recall_decision(self, decision_id: str) -> tuple[str, bytes] | None:
        async with self._guard("recall_decision"):
            customer, payload = await self._r.hmget(keys.decision(decision_id), ["c", "p"])
        if customer is None or payload is None:
            return None
        return _text(customer), _blob(payload)

    # --- privacy -----------------------------------------------------------------
    async def set_consent(
        self, customer_id: str, consent: Mapping[str, bool], payload: bytes
    ) -> dict[str, bool]:
        """One Lua call: the overlay, the log entry and its index entry together."""
        pairs = [x for ch, ok in check_consent(customer_id, consent) for x in (ch, int(ok))]
        cid = customer_id
        script_keys = [keys.customer_consent(cid), keys.log(), keys.customer_log(cid)]
        async with self._guard("set_consent"):
            keep = self.limits.max_events_per_customer
            overlay = await self._consent(
                keys=script_keys, args=[cid, payload, self.log_max_len or 0, keep, *pairs]
            )
        return _consent(overlay)

    async def erase_customer(self, customer_id: str, erased_at: float) -> Erasure:
        async with self._guard("erase_customer"):
            return await erase_customer(self._r, self._unlink, customer_id, erased_at)

    async def tombstones(self) -> dict[str, float]:
        async with self._guard("tombstones"):
            raw = await self._r.hgetall(keys.tombstones())
        return {_text(k): float(v) for k, v in raw.items()}


def _consent(reply: object) -> dict[str, bool]:
    """An overlay hash as HGETALL answers it (a flat list in RESP2, a map in RESP3)."""
    if isinstance(reply, dict):
        items = list(reply.items())
    else:
        flat = list(reply) if isinstance(reply, list | tuple) else []
        items = list(zip(flat[::2], flat[1::2], strict=True))
    return {_text(k): _text(v) == "1" for k, v in items}
