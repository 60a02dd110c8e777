"""Client CPU of a decision's two Redis round trips: redis-py's path vs redis_wire's.

    .venv/bin/python benchmarks/bench_redis_client.py --pairs 20000 --runs 3

Into a private redis-server, --customers customers are loaded with a realistic record
(a 2 KiB batch row, 5 small real-time events, a ~200-byte last decision). Then, in one
event loop (uvloop, as `omnioffer serve` runs; --loop asyncio for the other), each run
makes --pairs fetch_customer + remember_decision pairs, one after the other, through a
RedisStore on redis-py's path (wire=False, the store before redis_wire) and through one
on redis_wire (the default), alternating which goes first. It prints this process's CPU
time (time.process_time: user + system) per pair, and wall time for reference; the
figures printed last are medians over runs. Redis is another process, not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable, Coroutine
from typing import Any

import uvloop

from bench_materialize import exit_on_sigterm, redis_server
from omnioffer.store import CustomerRecord, keys
from omnioffer.store.redis_store import RedisStore

VERSION = "bench"
BATCH = bytes(range(256)) * 8  # 2 KiB
EVENTS = [b'{"t":"view","c":"app","i":"sku-%05d","ts":1767225600}' % n for n in range(5)]
LAST = b"\x84\xa7channel\xa3app\xa6offers" + b"\x91\xa8offer-07" * 20  # ~200 bytes
DECISION_IDS = 1000  # decision ids cycle, so Redis memory stays flat


def customers(n: int) -> list[str]:
    return [f"cust-{i:06d}" for i in range(n)]


def load(client: Any, ids: list[str]) -> None:
    pipe = client.pipeline(transaction=False)
    for cid in ids:
        pipe.set(keys.customer_batch(VERSION, cid), BATCH)
        pipe.rpush(keys.customer_events(cid), *EVENTS)
        pipe.set(keys.customer_last_decision(cid), LAST)
    pipe.execute()


async def pairs(store: RedisStore, ids: list[str], n: int) -> tuple[float, float]:
    """(CPU s, wall s) for n fetch_customer + remember_decision pairs."""
    decisions = [f"{k:032x}" for k in range(DECISION_IDS)]
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(n):
        cid = ids[i % len(ids)]
        await store.fetch_customer(VERSION, cid)
        await store.remember_decision(decisions[i % DECISION_IDS], cid, LAST)
    return time.process_time() - cpu, time.perf_counter() - wall


async def bench(url: str, ids: list[str], n: int, runs: int) -> None:
    kw = {"socket_timeout": 0.25, "socket_connect_timeout": 0.25}  # as the service opens it
    stores = {"redis-py": RedisStore(url, wire=False, **kw), "redis_wire": RedisStore(url, **kw)}
    assert stores["redis_wire"].wire_pool is not None, "redis_wire does not take this URL"
    expected = CustomerRecord(batch=BATCH, events=EVENTS, last_decision=LAST)
    for store in stores.values():
        assert await store.fetch_customer(VERSION, ids[0]) == expected
        await pairs(store, ids, min(n, 2000))  # warm up: connections, caches
    cpu: dict[str, list[float]] = {name: [] for name in stores}
    for run in range(runs):
        order = list(stores) if run % 2 == 0 else list(reversed(stores))
        for name in order:
            used, took = await pairs(stores[name], ids, n)
            cpu[name].append(used / n * 1e6)
            print(f"run {run + 1} {name:>10}: {used / n * 1e6:7.1f} us CPU/pair, "
                  f"{took / n * 1e6:7.1f} us wall/pair", flush=True)  # fmt: skip
    for store in stores.values():
        await store.close()
    old, new = statistics.median(cpu["redis-py"]), statistics.median(cpu["redis_wire"])
    print(f"median over {runs} runs of {n} pairs: redis-py {old:.1f} us CPU/pair, "
          f"redis_wire {new:.1f} us CPU/pair, ratio {old / new:.2f}x")  # fmt: skip


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
