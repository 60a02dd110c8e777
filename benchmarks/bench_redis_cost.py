"""Redis CPU per ingested event and per decision round trip, as Redis itself counts it.

    .venv/bin/python benchmarks/bench_redis_cost.py --events 200000 --decisions 20000 --runs 3

On a busy machine wall-clock rates of a client and a server sharing the cores mostly
measure the neighbours; Redis's own INFO commandstats (microseconds spent in each
command, Lua scripts included) does not. Each run starts a private redis-server, then
- ingests --events view events of 100,000 customers through RedisStore.ingest in
  batches of 1,000 (as POST /v1/events sends them), and reads the script's time;
- makes --decisions fetch_customer + record_decision pairs for 1,000 customers with
  a 2 KiB batch row and 5 events each (a decision's two round trips: the fetch, then
  the feedback link, the last decision and a ~300-byte decision-log record), and sums
  the time of every command.
Printed: microseconds of Redis CPU per event and per decision, medians over runs. Set
PYTHONPATH to another checkout's src/ to measure its store on the same workload.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics

import redis

from bench_materialize import exit_on_sigterm, redis_server
from omnioffer.contracts.payloads import Event, encode_event
from omnioffer.store.base import RecordedDecision, StoredEvent
from omnioffer.store.redis import RedisStore, keys

CUSTOMERS, BATCH = 100_000, 1_000
SKIP = {"cmdstat_info", "cmdstat_config|resetstat", "cmdstat_ping"}


async def ingest(url: str, events: int) -> None:
    store = RedisStore(url)
    try:
        for start in range(0, events, BATCH):
            batch = []
            for n in range(start, min(start + BATCH, events)):
                event_id = f"bench-{n:09d}"
                event = Event(1_767_225_600.0 + n, "view", "web", f"i{n % 1000:06d}",
                              event_id=event_id)  # fmt: skip
                batch.append(StoredEvent(event_id, f"c{n % CUSTOMERS:07d}", encode_event(event)))
            await store.ingest(batch)
    finally:
        await store.close()


async def decide(url: str, decisions: int) -> None:
    store = RedisStore(url)
    try:
        for n in range(decisions):
            cid = f"c{n % 1000:07d}"
            await store.fetch_customer("v1", cid)
            logged = b'{"customer_id": "%s", ' % cid.encode() + b'"x": "' + b"l" * 260 + b'"}'
            await store.record_decision(RecordedDecision(f"{n:032x}", cid, b"d" * 200, logged))
    finally:
        await store.close()


def redis_usec(client: redis.Redis) -> float:
    stats = client.info("commandstats")
    return float(sum(v["usec"] for k, v in stats.items() if k not in SKIP))


def one_run(events: int, decisions: int) -> tuple[float, float]:
    with redis_server() as server:
        client = server.client()
        url = server.url + "?socket_timeout=30"
        client.config_resetstat()
        asyncio.run(ingest(url, events))
        per_event = redis_usec(client) / events
        client.flushdb()
        for c in range(1000):
            cid = f"c{c:07d}"
            client.set(keys.customer_batch("v1", cid), b"x" * 2048)
            client.rpush(keys.customer_events(cid), *[b"e" * 40] * 5)
        client.config_resetstat()
        asyncio.run(decide(url, decisions))
        return per_event, redis_usec(client) / decisions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--decisions", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    exit_on_sigterm()
    events, decisions = [], []
    for run in range(1, args.runs + 1):
        per_event, per_decision = one_run(args.events, args.decisions)
        events.append(per_event)
        decisions.append(per_decision)
        print(f"run {run}: {per_event:.2f} us per event, {per_decision:.2f} us per decision")
    print(f"median of {args.runs} runs: {statistics.median(events):.2f} us of Redis CPU per "
          f"ingested event, {statistics.median(decisions):.2f} us per decision")  # fmt: skip


if __name__ == "__main__":
    main()
