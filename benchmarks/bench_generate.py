"""Benchmark `omnioffer generate`: wall time and peak RSS, median of runs.

Each run is a fresh subprocess so its peak RSS (ru_maxrss of the child) is its own.

    .venv/bin/python benchmarks/bench_generate.py --customers 1000000 --runs 3
"""

from __future__ import annotations

import argparse
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl


def one_run(customers: int, seed: int, out: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (GiB) of one generate subprocess."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "omnioffer",
            "-q",
            "generate",
            "--out",
            str(out),
            "--customers",
            str(customers),
            "--seed",
            str(seed),
        ],
        check=True,
    )
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak < before:
        raise RuntimeError("ru_maxrss went backwards")
    return wall, peak / (1024 * 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    walls, peaks, events = [], [], 0
    for run in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="bench-generate-") as tmp:
            out = Path(tmp) / "retail"
            wall, peak = one_run(args.customers, args.seed, out)
            events = (
                pl.scan_parquet(out / "data" / "events.parquet").select(pl.len()).collect().item()
            )
            shutil.rmtree(out)
        walls.append(wall)
        peaks.append(peak)
        print(
            f"run {run + 1}: {wall:.1f} s, peak RSS {peak:.2f} GiB, {events:,} events", flush=True
        )
    # ru_maxrss of children is a running maximum, so each run's peak is an upper bound.
    print(
        f"| {args.customers:,} | {events:,} | {statistics.median(walls):.1f} s | "
        f"{max(peaks):.2f} GiB | {args.runs} | {platform.python_version()} |"
    )


if __name__ == "__main__":
    main()
