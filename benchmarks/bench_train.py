"""Benchmark `omnioffer train`: wall time and peak RSS on a generated data set.

    .venv/bin/python benchmarks/bench_train.py --customers 100000 --runs 1
    .venv/bin/python benchmarks/bench_train.py --runs 2 --baseline /tmp/wt-base

Generates the data first (not timed), then runs train in a fresh subprocess per run.
With --baseline (a checkout of another commit, e.g. `git worktree add /tmp/wt-base
REV`), each run trains with that checkout's code and then with this one's, on the
same data, alternating, and the medians of both are printed side by side.
The peak RSS is the children's running maximum, so it covers generate too. Each run
also prints its CPU time (user + sys) and the model card's per-stage timings.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
from pathlib import Path

from timing import checkout_env, children_peak_rss_gib, run_omnioffer


def children_cpu_s() -> float:
    """CPU seconds (user + sys) of every finished child so far: on a shared machine the
    wall time depends on the neighbours, this much less."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def stage_timings(models: Path) -> str:
    """The per-stage seconds of the model card's Timings table (write is not in it)."""
    card = models / (models / "current").read_text().strip() / "card.md"
    lines = card.read_text().split("## Timings", 1)[-1].splitlines()
    rows = [line.strip("|").split("|") for line in lines if line.startswith("| ")]
    return ", ".join(f"{k.strip()} {v.strip()}" for k, v in rows[1:] if "---" not in v)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--baseline", type=Path, help="another checkout, trained alternately")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        root = Path(tmp)
        data = root / "retail"
        size = ["--customers", str(args.customers), "--seed", str(args.seed)]
        run_omnioffer("generate", "--out", str(data), *size)
        codes = {"this": None} if args.baseline is None else {
            "baseline": checkout_env(args.baseline), "this": None}  # fmt: skip
        walls: dict[str, list[float]] = {code: [] for code in codes}
        cpus: dict[str, list[float]] = {code: [] for code in codes}
        peak = 0.0
        for run in range(args.runs):
            for code, env in codes.items():
                models = root / f"models-{code}-{run}"
                cpu_before = children_cpu_s()
                walls[code].append(run_omnioffer(
                    "train", "--data", str(data / "data"), "--out", str(models), "--force",
                    env=env))  # fmt: skip
                cpus[code].append(children_cpu_s() - cpu_before)
                peak = children_peak_rss_gib()
                print(
                    f"run {run + 1} ({code}): {walls[code][-1]:.1f} s wall, "
                    f"{cpus[code][-1]:.1f} s CPU (user + sys), peak RSS so far {peak:.2f} GiB",
                    flush=True,
                )
                print(f"  stages: {stage_timings(models)}", flush=True)
    for code in codes:
        print(
            f"| {args.customers:,} | {code} | {statistics.median(walls[code]):.1f} s | "
            f"{statistics.median(cpus[code]):.1f} s | {peak:.2f} GiB | {args.runs} |"
        )


if __name__ == "__main__":
    main()
