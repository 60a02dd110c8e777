"""What a rate-limit check costs per request: in the worker's memory vs a store round trip.

    .venv/bin/python benchmarks/bench_rate_limit.py --calls 20000 --runs 5

(a) `CallerLimits.check` as the app's hook runs it on every request (`RateLimiter.admit`
on one key's bucket, 1e6/s so it never refuses), in process; (b) the same token bucket
kept in Redis, one EVALSHA of a Lua script per request (read the bucket, refill, take a
token, write it back with a TTL: what a bucket shared by all workers needs at least),
sent sequentially through the service's own RESP client (`store/redis/wire.WirePool`,
the one decisions use) to a private redis-server; (c) one PING on the same client, the
floor of any store round trip. Each figure is the median over runs of the mean time
per call; Redis shares the machine's cores with this process, as it does in service.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from types import SimpleNamespace
from typing import Any

from bench_materialize import redis_server
from omnioffer.api.rate_limit import CallerLimits, Limit, RateLimiter
from omnioffer.api_keys import ApiKey
from omnioffer.store.redis.wire import WirePool, pack
from omnioffer.store.redis.wire_options import wire_options

# KEYS[1]: the bucket; ARGV: rate, burst, now (s). Returns 0 (admitted) or the wait (ms).
BUCKET_LUA = """
local b = redis.call('HMGET', KEYS[1], 't', 's')
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tokens, stamp = tonumber(b[1]) or burst, tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(now - stamp, 0) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) / rate * 1000) end
redis.call('HSET', KEYS[1], 't', tokens, 's', now)
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return wait
"""


def in_memory(calls: int) -> float:
    """Mean seconds per CallerLimits.check for one key's bucket."""
    limits = CallerLimits(Limit(1e6, 1_000_000), RateLimiter(), lambda _: None)
    key = ApiKey("bench", "bench", "0" * 64, ("decide",))
    request: Any = SimpleNamespace(scope={"client": ("127.0.0.1", 1)})
    start = time.perf_counter()
    for _ in range(calls):
        limits.check(request, key)
    return (time.perf_counter() - start) / calls


async def in_redis(url: str, calls: int) -> tuple[float, float]:
    """Mean seconds per bucket EVALSHA and per PING, sequential, one connection."""
    options = wire_options(url)
    assert options is not None, url
    pool = WirePool(options)
    try:
        (sha,) = await pool.round_trip(pack([("SCRIPT", "LOAD", BUCKET_LUA)]), 1)
        start = time.perf_counter()
        for _ in range(calls):
            command = ("EVALSHA", sha, "1", "rl:{k:bench}", "1000000", "1000000",
                       repr(time.time()))  # fmt: skip
            (wait,) = await pool.round_trip(pack([command]), 1)
            assert wait == 0, wait
        bucket = (time.perf_counter() - start) / calls
        ping = pack([("PING",)])
        start = time.perf_counter()
        for _ in range(calls):
            await pool.round_trip(ping, 1)
        return bucket, (time.perf_counter() - start) / calls
    finally:
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    memory, bucket, ping = [], [], []
    with redis_server() as server:
        for run in range(args.runs):
            memory.append(in_memory(args.calls))
            b, p = asyncio.run(in_redis(server.url, args.calls))
            bucket.append(b)
            ping.append(p)
            print(f"run {run + 1}: in memory {memory[-1] * 1e6:.2f} us, Redis bucket "
                  f"{b * 1e6:.1f} us, PING {p * 1e6:.1f} us", flush=True)  # fmt: skip
    med = {k: statistics.median(v) * 1e6 for k, v in
           (("memory", memory), ("bucket", bucket), ("ping", ping))}  # fmt: skip
    print("\n| check | us per request (median of runs) | runs |\n|---|---|---|")
    rows = (
        ("(a) in the worker's memory (CallerLimits.check)", f"{med['memory']:.2f}"),
        ("(b) token bucket in Redis (EVALSHA, wire client)", f"{med['bucket']:.1f}"),
        ("(c) PING on the same client (a round trip's floor)", f"{med['ping']:.1f}"),
    )
    for name, us in rows:
        print(f"| {name} | {us} | {args.runs} |")
    print(f"\n(b) / (a): x{med['bucket'] / med['memory']:.0f}")


if __name__ == "__main__":
    main()
