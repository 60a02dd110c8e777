"""Benchmark `omnioffer train`: wall time and peak RSS on a generated data set.

    .venv/bin/python benchmarks/bench_train.py --customers 100000 --runs 1

Generates the data first (not timed), then runs train in a fresh subprocess per run.
The peak RSS is the children's running maximum, so it covers generate too.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from timing import children_peak_rss_gib, run_omnioffer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        root = Path(tmp)
        data = root / "retail"
        size = ["--customers", str(args.customers), "--seed", str(args.seed)]
        run_omnioffer("generate", "--out", str(data), *size)
        walls, peak = [], 0.0
        for run in range(args.runs):
            models = root / f"models-{run}"
            walls.append(
                run_omnioffer(
                    "train", "--data", str(data / "data"), "--out", str(models), "--force"
                )
            )
            peak = children_peak_rss_gib()
            print(f"run {run + 1}: {walls[-1]:.1f} s, peak RSS so far {peak:.2f} GiB", flush=True)
    print(
        f"| {args.customers:,} | {statistics.median(walls):.1f} s | {peak:.2f} GiB | {args.runs} |"
    )


if __name__ == "__main__":
    main()
