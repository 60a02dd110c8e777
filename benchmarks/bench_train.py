"""Benchmark `omnioffer train`: wall time and peak RSS on a generated data set.

    .venv/bin/python benchmarks/bench_train.py --customers 100000 --runs 1

Generates the data first (not timed), then runs train in a fresh subprocess per run.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        root = Path(tmp)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "omnioffer",
                "-q",
                "generate",
                "--out",
                str(root / "retail"),
                "--customers",
                str(args.customers),
                "--seed",
                str(args.seed),
            ],
            check=True,
        )
        walls, peak = [], 0.0
        for run in range(args.runs):
            start = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "omnioffer",
                    "-q",
                    "train",
                    "--data",
                    str(root / "retail" / "data"),
                    "--out",
                    str(root / f"models-{run}"),
                    "--force",
                ],
                check=True,
            )
            walls.append(time.perf_counter() - start)
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / (1024 * 1024)
            print(f"run {run + 1}: {walls[-1]:.1f} s, peak RSS so far {peak:.2f} GiB", flush=True)
    print(
        f"| {args.customers:,} | {statistics.median(walls):.1f} s | {peak:.2f} GiB | {args.runs} |"
    )


if __name__ == "__main__":
    main()
