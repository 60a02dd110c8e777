"""What erasing one customer costs on a large event log, and what the per-customer log
index costs ingest.

    .venv/bin/python benchmarks/bench_erase.py --events 1000000 --runs 5 [--store embedded]

Fills a store's event log with --events view events of 100,000 customers (about ten
each) through `FeatureStore.ingest`, in batches of 1,000 as POST /v1/events takes them,
and reports the fill rate (the ingest cost of the indexes erasure reads). Then erases
--runs different customers, one `erase_customer` call each (wall time, in process), and
checks each is gone from the log while the rest stays. For scale it times what an
erasure without an index would have to do at least: read the whole log once to find the
customer's entries. Medians over runs. `--fill-only` measures just the fill (run it with
PYTHONPATH set to another checkout's src/ to compare, e.g. one without the indexes).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time

from bench_export import CUSTOMERS, fill, log_length
from bench_materialize import exit_on_sigterm, redis_server
from omnioffer.store import open_store


async def erase_one(url: str, customer_id: str) -> tuple[float, int]:
    """(seconds, log entries removed) of one erasure."""
    store = open_store(url)
    try:
        start = time.perf_counter()
        done = await store.erase_customer(customer_id, time.time())
        took = time.perf_counter() - start
        return took, done.removed["log"]
    finally:
        await store.close()


async def scan_for(url: str, customer_id: str) -> tuple[float, int]:
    """(seconds, entries found) of one pass over the whole log looking for a customer."""
    store = open_store(url)
    try:
        start, found, after = time.perf_counter(), 0, None
        while page := await store.read_log(after, 10_000):
            found += sum(1 for _, cid, _ in page if cid == customer_id)
            after = page[-1][0]
        return time.perf_counter() - start, found
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--store", choices=("redis", "embedded"), default="redis")
    parser.add_argument("--fill-only", action="store_true")
    args = parser.parse_args()
    exit_on_sigterm()
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="omnioffer-erase-"))
        if args.store == "redis":  # bulk reads of 10,000 entries: a longer socket timeout
            url = stack.enter_context(redis_server()).url + "?socket_timeout=30"
        else:
            url = f"sqlite:///{tmp}/store.sqlite"
        start = time.perf_counter()
        asyncio.run(fill(url, args.events))
        took = time.perf_counter() - start
        print(f"filled the log of {args.store} with {args.events:,} events in {took:.1f} s "
              f"({args.events / took:,.0f} events/s)")  # fmt: skip
        if args.fill_only:
            return
        erases, scans, total = [], [], args.events
        for run in range(args.runs):
            cid = f"c{(run * 7919) % CUSTOMERS:07d}"  # spread over the id range
            scan, expected = asyncio.run(scan_for(url, cid))
            wall, removed = asyncio.run(erase_one(url, cid))
            total -= removed
            left = asyncio.run(log_length(url))
            if removed != expected or left != total:
                raise SystemExit(f"run {run + 1}: removed {removed} of {expected} entries of "
                                 f"{cid}; {left} left in the log, expected {total}")  # fmt: skip
            erases.append(wall)
            scans.append(scan)
            print(f"run {run + 1}: erased {cid} ({removed} log entries) in {wall * 1000:.1f} ms;"
                  f" one pass over the log: {scan:.2f} s")  # fmt: skip
        erase_ms, scan_s = statistics.median(erases) * 1000, statistics.median(scans)
        print(
            f"median of {args.runs} runs: erase {erase_ms:.1f} ms, "
            f"a pass over the {args.events:,}-entry log {scan_s:.2f} s"
        )


if __name__ == "__main__":
    main()
