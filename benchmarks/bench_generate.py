"""Benchmark `omnioffer generate`: wall time and peak RSS, median of runs.

Each run is a fresh subprocess so its peak RSS (ru_maxrss of the child) is its own.

    .venv/bin/python benchmarks/bench_generate.py --customers 1000000 --runs 3
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import tempfile
from pathlib import Path

import polars as pl

from timing import children_peak_rss_gib, run_omnioffer


def one_run(customers: int, seed: int, out: Path) -> tuple[float, float]:
    """Wall seconds of one generate subprocess, and the children's peak RSS (GiB) so far."""
    wall = run_omnioffer(
        "generate", "--out", str(out), "--customers", str(customers), "--seed", str(seed)
    )
    return wall, children_peak_rss_gib()


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
