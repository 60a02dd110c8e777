"""Client CPU of a decision's two Redis round trips: redis-py's paths vs redis_wire's.

    .venv/bin/python benchmarks/bench_redis_client.py --pairs 20000 --runs 5

Into a private redis-server, --customers customers are loaded with a realistic record
(a 2 KiB batch row, 5 small real-time events, a ~200-byte last decision). Then, in one
event loop (uvloop, as `omnioffer serve` runs; --loop asyncio for the other), each run
makes --pairs fetch_customer + remember_decision pairs, one after the other, through
three clients, rotating which goes first:
- "redis_wire": a RedisStore on the custom RESP client (the default);
- "redis-py": a RedisStore with wire=False, one pooled redis-py connection per round trip
  (send_packed_command + read_response: the store between 3236134 and redis_wire);
- "redis-py pipe": the same commands as plain redis-py pipelines,
  `pipeline(transaction=False)` ... `execute()` (the store before 3236134).
redis-py parses replies with hiredis on both of its paths (hiredis is a dependency).
It prints this process's CPU time (time.process_time: user + system) per pair, and wall
time for reference; the figures printed last are medians over runs. Redis is another
process, not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

import redis.asyncio as aioredis
import redis.utils
import uvloop
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from bench_materialize import exit_on_sigterm, redis_server
from omnioffer.store import CustomerRecord
from omnioffer.store.redis import keys
from omnioffer.store.redis.store import RedisStore

VERSION = "bench"
BATCH = bytes(range(256)) * 8  # 2 KiB
EVENTS = [b'{"t":"view","c":"app","i":"sku-%05d","ts":1767225600}' % n for n in range(5)]
LAST = b"\x84\xa7channel\xa3app\xa6offers" + b"\x91\xa8offer-07" * 20  # ~200 bytes
DECISION_IDS = 1000  # decision ids cycle, so Redis memory stays flat
TIMEOUTS = {"socket_timeout": 0.25, "socket_connect_timeout": 0.25}  # as the service opens it


class Client(Protocol):
    async def fetch_customer(self, version: str, customer_id: str) -> CustomerRecord: ...

    async def remember_decision(
        self, decision_id: str, customer_id: str, payload: bytes
    ) -> None: ...

    async def close(self) -> None: ...


class PipelineClient:
    """The two round trips as plain redis-py pipelines, on a client made as RedisStore
    makes its redis-py one (same pool size, timeouts, no retries)."""

    def __init__(self, url: str, ttl: int = 2 * 86_400) -> None:
        self._r = aioredis.Redis.from_url(
            url, max_connections=64, health_check_interval=30, retry=Retry(NoBackoff(), 0),
            **TIMEOUTS,
        )  # fmt: skip
        self._ttl = ttl

    async def fetch_customer(self, version: str, customer_id: str) -> CustomerRecord:
        pipe = self._r.pipeline(transaction=False)
        pipe.get(keys.customer_batch(version, customer_id))
        pipe.lrange(keys.customer_events(customer_id), 0, -1)
        pipe.get(keys.customer_last_decision(customer_id))
        pipe.hgetall(keys.customer_consent(customer_id))
        batch, events, last, consent = await pipe.execute()
        live = {k.decode(): v == b"1" for k, v in consent.items()}
        return CustomerRecord(batch=batch, events=list(events), last_decision=last, consent=live)

    async def remember_decision(self, decision_id: str, customer_id: str, payload: bytes) -> None:
        key = keys.decision(decision_id)
        pipe = self._r.pipeline(transaction=False)
        pipe.hset(key, mapping={"c": customer_id, "p": payload})
        pipe.expire(key, self._ttl)
        pipe.set(keys.customer_last_decision(customer_id), payload, ex=self._ttl)
        index, now = keys.customer_decisions(customer_id), time.time()
        pipe.zadd(index, {decision_id: now + self._ttl})
        pipe.zremrangebyscore(index, "-inf", now)
        pipe.expire(index, self._ttl)
        await pipe.execute()

    async def close(self) -> None:
        await self._r.aclose()


def customers(n: int) -> list[str]:
    return [f"cust-{i:06d}" for i in range(n)]


def load(client: Any, ids: list[str]) -> None:
    pipe = client.pipeline(transaction=False)
    for cid in ids:
        pipe.set(keys.customer_batch(VERSION, cid), BATCH)
        pipe.rpush(keys.customer_events(cid), *EVENTS)
        pipe.set(keys.customer_last_decision(cid), LAST)
    pipe.execute()


async def pairs(store: Client, ids: list[str], n: int) -> tuple[float, float]:
    """(CPU s, wall s) for n fetch_customer + remember_decision pairs."""
    decisions = [f"{k:032x}" for k in range(DECISION_IDS)]
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(n):
        cid = ids[i % len(ids)]
        await store.fetch_customer(VERSION, cid)
        await store.remember_decision(decisions[i % DECISION_IDS], cid, LAST)
    return time.process_time() - cpu, time.perf_counter() - wall


async def bench(url: str, ids: list[str], n: int, runs: int) -> None:
    wire = RedisStore(url, **TIMEOUTS)
    assert wire.wire_pool is not None, "redis_wire does not take this URL"
    stores: dict[str, Client] = {
        "redis_wire": wire,
        "redis-py": RedisStore(url, wire=False, **TIMEOUTS),
        "redis-py pipe": PipelineClient(url),
    }
    expected = CustomerRecord(batch=BATCH, events=EVENTS, last_decision=LAST)
    for store in stores.values():
        assert await store.fetch_customer(VERSION, ids[0]) == expected
        await pairs(store, ids, min(n, 2000))  # warm up: connections, caches
    cpu: dict[str, list[float]] = {name: [] for name in stores}
    names = list(stores)
    for run in range(runs):
        shift = run % len(names)
        for name in names[shift:] + names[:shift]:
            used, took = await pairs(stores[name], ids, n)
            cpu[name].append(used / n * 1e6)
            print(f"run {run + 1} {name:>13}: {used / n * 1e6:7.1f} us CPU/pair, "
                  f"{took / n * 1e6:7.1f} us wall/pair", flush=True)  # fmt: skip
    for store in stores.values():
        await store.close()
    medians = {name: statistics.median(cpu[name]) for name in names}
    new = medians["redis_wire"]
    print(f"median over {runs} runs of {n} pairs (hiredis {redis.utils.HIREDIS_AVAILABLE}):")
    for name in names:
        cost = medians[name]
        print(f"  {name:>13}: {cost:6.1f} us CPU/pair, {cost - new:+6.1f} us vs redis_wire, "
              f"x{cost / new:.2f}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pairs", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--customers", type=int, default=1_000)
    ap.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop")
    args = ap.parse_args()
    exit_on_sigterm()
    run: Callable[[Coroutine[Any, Any, None]], None] = (
        uvloop.run if args.loop == "uvloop" else asyncio.run
    )
    ids = customers(args.customers)
    with redis_server() as server:
        load(server.client(), ids)
        print(f"{args.loop} loop, redis-server on port {server.port}, {len(ids)} customers")
        run(bench(server.url, ids, args.pairs, args.runs))


if __name__ == "__main__":
    main()
