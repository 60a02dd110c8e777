"""Wall time and peak memory of `omnioffer export-events` for a large event log.

    .venv/bin/python benchmarks/bench_export.py --events 2000000 --runs 3 [--trim]

Fills a store's durable event log with --events view events of 100,000 customers
through `FeatureStore.ingest` (batches of 1,000, as POST /v1/events takes them): a
private redis-server (`--store redis`, the default) or an embedded SQLite file in a
temporary folder (`--store embedded`). Then each run is `omnioffer export-events` in a
fresh subprocess, so its peak RSS is its own (wait4); with --trim each run gets a log
filled anew and must leave it empty. Every run checks the file holds every event. The
figures printed last are medians over runs. Set PYTHONPATH to another checkout's src/
to measure its export on the same log.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from bench_materialize import exit_on_sigterm, redis_server, run_measured
from omnioffer.contracts.payloads import Event, encode_event
from omnioffer.store import open_store
from omnioffer.store.base import StoredEvent

CUSTOMERS = 100_000
BATCH = 1_000
CHANNELS = ("web", "app", "store", "email")


async def fill(url: str, events: int, offset: int = 0) -> None:
    """`events` view events; event ids from `offset` on (ids seen lately are duplicates)."""
    store = open_store(url)
    try:
        for start in range(offset, offset + events, BATCH):
            batch = []
            for n in range(start, min(start + BATCH, offset + events)):
                event_id = f"bench-{n:09d}"
                event = Event(1_767_225_600.0 + n, "view", CHANNELS[n % 4], f"i{n % 1000:06d}",
                              event_id=event_id)  # fmt: skip
                cid = f"c{n % CUSTOMERS:07d}"
                batch.append(StoredEvent(event_id, cid, encode_event(event)))
            await store.ingest(batch)
    finally:
        await store.close()


async def log_length(url: str) -> int:
    store = open_store(url)
    try:
        n, after = 0, None
        while page := await store.read_log(after, 10_000):
            n, after = n + len(page), page[-1][0]
        return n
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--store", choices=("redis", "embedded"), default="redis")
    parser.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    parser.add_argument("--trim", action="store_true", help="export-events --trim")
    args = parser.parse_args()
    exit_on_sigterm()
    omnioffer = Path(sys.executable).with_name("omnioffer")
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="omnioffer-export-"))
        if args.store == "redis":
            url = stack.enter_context(redis_server()).url
        else:
            url = f"sqlite:///{tmp}/store.sqlite"
        walls, peaks = [], []
        for run in range(1, args.runs + 1):
            if run == 1 or args.trim:  # a trimmed log is empty: fill it again
                start = time.perf_counter()
                asyncio.run(fill(url, args.events, offset=(run - 1) * args.events))
                print(f"filled the log of {args.store} with {args.events:,} events in "
                      f"{time.perf_counter() - start:.1f} s")  # fmt: skip
            out = Path(tmp) / f"out-{run}"
            cmd = [str(omnioffer), "export-events", "--out", str(out), "--store", url,
                   "--format", args.format, *(["--trim"] if args.trim else [])]  # fmt: skip
            wall, peak, _ = run_measured(cmd, env=dict(os.environ))
            path = out / f"events.{args.format}"
            scan = pl.scan_parquet(path) if args.format == "parquet" else pl.scan_csv(path)
            rows = scan.select(pl.len()).collect().item()
            left = asyncio.run(log_length(url))
            if rows != args.events or left != (0 if args.trim else args.events):
                raise SystemExit(f"run {run}: exported {rows} events of {args.events}, "
                                 f"{left} left in the log")  # fmt: skip
            walls.append(wall)
            peaks.append(peak)
            print(f"run {run}: {wall:.1f} s, peak RSS {peak:.2f} GiB")
        print(f"median of {args.runs} runs: {statistics.median(walls):.1f} s, "
              f"{args.events / statistics.median(walls):,.0f} events/s, "
              f"peak RSS {statistics.median(peaks):.2f} GiB")  # fmt: skip


if __name__ == "__main__":
    main()
