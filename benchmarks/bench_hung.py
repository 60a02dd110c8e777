"""Benchmark decisions under a hung Redis: throughput normal vs SIGSTOPped, same run.

    .venv/bin/python benchmarks/bench_hung.py --seconds 5 --concurrency 64 --runs 3

The service `omnioffer serve` builds in each worker (`open_service_store` +
`make_service`, settings defaults: store_timeout_s 0.25, model_poll_s 0.5) over a
private redis-server holding the cached 20k-customer/500-offer version of
bench_materialize.py, replay clock at the serving cutoff + 1 day as bench_decide.py.
Each run keeps --concurrency decisions in flight in one asyncio loop (one worker, no
HTTP) for --seconds with Redis answering, then for --seconds with redis-server stopped
by SIGSTOP (connections still open, nothing answers), then sends SIGCONT and times
how long until a decision is served by the model again. It reports decisions per
second in both phases, the median and slowest decision while hung, how many answers
were fallbacks or errors, and how many times the worker asked the store for the
active version while hung. The figures printed last are medians over runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import time
from collections import Counter
from datetime import UTC, datetime

from bench_decide import DAY_S, requests
from bench_materialize import BULK_QUERY, DEFAULT_CACHE, prepare, redis_server, serving_cutoff
from omnioffer.contracts.http import DecisionRequest
from omnioffer.decide.service import DecisionService
from omnioffer.jobs.materialize import materialize
from omnioffer.registry import load_version
from omnioffer.service import make_service, open_service_store
from omnioffer.settings import load_settings
from omnioffer.store import open_store
from omnioffer.store.base import FeatureStore


class Phase:
    """What one load phase saw: answers by fallback (or error), and their latencies."""

    def __init__(self) -> None:
        self.answers: Counter[str] = Counter()
        self.took: list[float] = []
        self.seconds = 0.0

    @property
    def rate(self) -> float:
        return len(self.took) / self.seconds


async def load(service: DecisionService, batch: list[DecisionRequest], seconds: float,
               concurrency: int) -> Phase:  # fmt: skip
    phase, end, queue = Phase(), time.monotonic() + seconds, iter(batch)

    async def client() -> None:
        while time.monotonic() < end:
            start = time.perf_counter()
            try:
                answer = await service.decide(next(queue))
                phase.answers[answer.fallback or "model"] += 1
            except Exception as exc:
                phase.answers[f"error {type(exc).__name__}"] += 1
            phase.took.append(time.perf_counter() - start)
            await asyncio.sleep(0)  # let the loop run other tasks, as a server's I/O does

    began = time.monotonic()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    phase.seconds = time.monotonic() - began
    return phase


async def recovery(service: DecisionService, request: DecisionRequest) -> float:
    """Seconds from now (just after SIGCONT) until a decision comes from the model."""
    start = time.monotonic()
    while (await service.decide(request)).fallback is not None:
        await asyncio.sleep(0.01)  # polling interval of the measurement
    return time.monotonic() - start


def count_lookups(store: FeatureStore, counts: list[float]) -> None:
    """Record the time of every active-version lookup that reaches the store."""
    real = store.active_version

    async def counted() -> str | None:
        counts.append(time.monotonic())
        return await real()

    store.active_version = counted  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    models = prepare(DEFAULT_CACHE, 20_000, 500, args.seed)
    vocab = "vocab/customers.npy"
    ids = [str(c) for c in load_version(models, only={vocab}).arrays[vocab].tolist()]
    as_of = datetime.fromtimestamp(serving_cutoff(models) + DAY_S, tz=UTC).isoformat()
    batch = requests(ids, 200_000, args.seed)
    with redis_server() as server:

        async def go() -> None:
            loader = open_store(server.url + BULK_QUERY)
            await materialize(loader, models, None)
            await loader.close()
            settings = load_settings(None, env={}, overrides={
                "store_url": server.url, "models_dir": str(models), "as_of": as_of})  # fmt: skip
            store, lookups = open_service_store(settings), list[float]()
            count_lookups(store, lookups)
            service = make_service(settings, store)
            await service.holder.refresh()
            await load(service, batch, 1.0, args.concurrency)  # warm-up
            rows = []
            for run in range(args.runs):
                random.Random(run).shuffle(batch)
                normal = await load(service, batch, args.seconds, args.concurrency)
                os.kill(server.proc.pid, signal.SIGSTOP)
                hung_at = time.monotonic()
                try:
                    hung = await load(service, batch, args.seconds, args.concurrency)
                    asked = sum(t >= hung_at for t in lookups)
                finally:
                    os.kill(server.proc.pid, signal.SIGCONT)
                back = await recovery(service, batch[0])
                took = sorted(hung.took)
                row = (normal.rate, hung.rate, statistics.median(took), took[-1], back, asked)
                rows.append(row)
                print(f"run {run + 1}: normal {normal.rate:.0f}/s {dict(normal.answers)}; hung "
                      f"{hung.rate:.0f}/s {dict(hung.answers)}, median {row[2] * 1e3:.0f} ms, "
                      f"max {row[3] * 1e3:.0f} ms, {asked} version lookups in "
                      f"{hung.seconds:.1f} s; model again {back * 1e3:.0f} ms after SIGCONT",
                      flush=True)  # fmt: skip
            mid = [statistics.median(col) for col in zip(*rows, strict=True)]
            print(f"median of {args.runs} runs: normal {mid[0]:.0f}/s, hung {mid[1]:.0f}/s "
                  f"({mid[1] / mid[0]:.0%}); hung decision median {mid[2] * 1e3:.0f} ms, "
                  f"max {mid[3] * 1e3:.0f} ms; {mid[5]:.0f} lookups; "
                  f"recovery {mid[4] * 1e3:.0f} ms")  # fmt: skip
            await service.close()

        asyncio.run(go())


if __name__ == "__main__":
    main()
