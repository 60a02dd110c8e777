"""The statistics' targets with many more simulations than the test suite runs, and what
one call costs (the results API computes a handful per variant and metric).

    .venv/bin/python benchmarks/bench_stats.py [--scale 10] [--seed 2026] [--runs 5]

Each line runs the simulation of tests/unit/stats/stats_world.py that the test of the
same target runs (same code), with `--scale` times as many simulations, and prints the
rate the target speaks of, the number of simulations and its wall time. Rates are
exact for the seed; the per-call costs at the end are medians of `--runs` runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "unit" / "stats"))
import stats_world as world  # the shared simulations, beside the tests

from omnioffer.contracts.statistics import ProportionSummary, Sequential
from omnioffer.stats import off_policy
from omnioffer.stats.means import cuped_welch_delta, welch_delta
from omnioffer.stats.proportions import two_proportion_z
from omnioffer.stats.srm import srm_check

T = TypeVar("T")


Row = tuple[str, str, int, float | None]  # target, rate, simulations, wall time (s)


def timed(run: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, float]:
    start = time.perf_counter()
    out = run(*args, **kwargs)
    return out, time.perf_counter() - start


def mean_rows(rng: np.random.Generator, sims: int) -> list[Row]:
    out: list[Row] = []
    for covariate in ("independent", "correlated"):
        res, took = timed(world.mean_outcome, rng, sims, 2_000, 0.05, covariate)
        label = f"revenue, {covariate} covariate (n = 2k/arm, lift 5 %)"
        expected = np.sqrt(1 - res.median_correlation**2)
        out += [
            (f"{label}: Welch delta coverage", f"{res.welch_coverage:.2%}", sims, took),
            (f"{label}: CUPED coverage", f"{res.cuped_coverage:.2%}", sims, None),
            (f"{label}: CUPED / Welch CI width (sqrt(1 - corr^2) = {expected:.3f})",
             f"{res.median_width_ratio:.3f}", sims, None),
            (f"{label}: mean CUPED lift (+/- 1 se)",
             f"{res.cuped_mean_lift:.4f} +/- {res.cuped_lift_se:.4f}", sims, None),
        ]  # fmt: skip
    return out


def peeking_rows(rng: np.random.Generator, sims: int) -> list[Row]:
    out: list[Row] = []
    for looks in (20, 100):
        (naive, sequential), took = timed(
            world.peeking_false_positives, rng, sims=sims, looks=looks,
            n_per_look=20_000 // looks, rate=0.1, tuning_n=5_000,
        )  # fmt: skip
        label = f"A/A peeked {looks} times (20k/arm at the end)"
        out += [
            (f"{label}: naive fixed-horizon false positives", f"{naive:.2%}", sims, took),
            (f"{label}: sequential false positives", f"{sequential:.2%}", sims, None),
        ]
    return out


def rows(scale: int, seed: int) -> list[Row]:
    rng = np.random.default_rng(seed)
    sims = 1_000 * scale
    cover, took = timed(world.rate_coverage, rng, sims, 5_000, 0.05, 0.056)
    out: list[Row] = [("rate: 95 % CI covers the true lift (z test, n = 5k/arm)",
                       f"{cover:.2%}", sims, took)]  # fmt: skip
    out += mean_rows(rng, 400 * scale)
    out += peeking_rows(rng, 500 * scale)
    sims = 2_000 * scale
    for share in (0.48, 0.5):
        rate, took = timed(world.srm_flag_rate, rng, sims, 20_000, share)
        name = f"SRM flagged, {share:.0%} control of 20k (50/50 configured)"
        out.append((name, f"{rate:.2%}", sims, took))
    fdr, took = timed(
        world.bh_outcome, rng, sims=sims, metrics=20, true_effects=5, shift=3.0, q=0.05
    )
    out += [
        ("BH FDR, 20 metrics, 5 real (q m0 / m = 3.75 %)", f"{fdr.bh_fdr:.2%}", sims, took),
        ("unadjusted FDR, same runs", f"{fdr.unadjusted_fdr:.2%}", sims, None),
        ("power: BH / Bonferroni", f"{fdr.bh_power:.2%} / {fdr.bonferroni_power:.2%}", sims, None),
    ]
    bandit = world.make_bandit(np.random.default_rng(seed + 1), epsilon=0.1)
    runs = 200 * scale
    ope, took = timed(world.ope_coverage, rng, bandit, runs=runs, decisions=10_000)
    for method, rate in ope.items():
        name = f"OPE (eps 0.1, 10k decisions): {method} CI covers the truth"
        out.append((name, f"{rate:.2%}", runs, took if method == "ips" else None))
    return out


def per_call_us(runs: int) -> list[tuple[str, float]]:
    rng = np.random.default_rng(0)
    control = ProportionSummary(n=20_000, successes=2_000)
    treatment = ProportionSummary(n=20_100, successes=2_150)
    [run] = world.revenue_runs(rng, 1, 2_000, 0.05, "correlated")
    counts = {"a": 5_000, "b": 2_400, "c": 2_600}
    weights = {"a": 0.5, "b": 0.25, "c": 0.25}
    reward = (rng.random(100_000) < 0.1).astype(float)
    mu, pi = rng.uniform(0.05, 1, 100_000), rng.uniform(0, 1, 100_000)
    sequential = Sequential()
    calls: list[tuple[str, Callable[[], object], int]] = [
        ("two_proportion_z, fixed horizon", lambda: two_proportion_z(control, treatment), 2_000),
        ("two_proportion_z, sequential",
         lambda: two_proportion_z(control, treatment, sequential=sequential), 2_000),
        ("welch_delta (relative, t quantile)", lambda: welch_delta(run.control, run.treatment),
         500),
        ("cuped_welch_delta", lambda: cuped_welch_delta(run.control, run.treatment), 500),
        ("srm_check, 3 variants", lambda: srm_check(counts, weights), 2_000),
        ("doubly_robust over 100k decisions",
         lambda: off_policy.doubly_robust(reward, mu, pi, reward, pi), 20),
    ]  # fmt: skip
    out = []
    for name, call, repeat in calls:
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            for _ in range(repeat):
                call()
            samples.append((time.perf_counter() - start) / repeat * 1e6)
        out.append((name, statistics.median(samples)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=10, help="x the test suite's simulations")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--runs", type=int, default=5, help="runs per per-call timing")
    args = parser.parse_args()
    print("| target | rate | simulations | wall time |\n|---|---|---|---|")
    for name, rate, sims, took in rows(args.scale, args.seed):
        wall = "(same run)" if took is None else f"{took:.2f} s"
        print(f"| {name} | {rate} | {sims:,} | {wall} |")
    print(f"\n| call | median us per call ({args.runs} runs) |\n|---|---|")
    for name, us in per_call_us(args.runs):
        print(f"| {name} | {us:,.1f} |")


if __name__ == "__main__":
    main()
