"""The metrics' cost on the hot path, in microseconds per call (no store, no HTTP).

    .venv/bin/python benchmarks/bench_metrics.py [--calls 20000] [--multiprocess]

Times what a decision adds: one store call's timing (two clock reads and a histogram
observation, as api/metered_store does around every store call) and counting 5 served
offers (`Metrics.count_served`, as the decisions handler does). --multiprocess runs
it in prometheus_client's multiprocess mode (a fresh PROMETHEUS_MULTIPROC_DIR, as
`omnioffer serve --workers N` sets), where every value lives in a memory-mapped file.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--multiprocess", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-metrics-") as folder:
        if args.multiprocess:  # before prometheus_client is imported: it reads it then
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
        from omnioffer.api.metrics import Metrics

        offers = ("o1", "o2", "o3", "o4", "o5")
        metrics = Metrics(["web"])
        metrics.follow(lambda: ("v1", frozenset(offers)))
        start = time.perf_counter()
        for _ in range(args.calls):
            began = time.perf_counter()
            metrics.observe_store("fetch_customer", time.perf_counter() - began)
        timed = (time.perf_counter() - start) / args.calls * 1e6
        start = time.perf_counter()
        for _ in range(args.calls):
            metrics.count_served("web", offers)
        served = (time.perf_counter() - start) / args.calls * 1e6
    mode = "multiprocess" if args.multiprocess else "one process"
    print(f"{mode}: a timed store call {timed:.2f} us, count_served(5 offers) {served:.2f} us")


if __name__ == "__main__":
    main()
