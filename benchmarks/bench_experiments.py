"""Experiment results and off-policy evaluation over many more seeded simulations than
the tests run, and what one results call costs.

    .venv/bin/python benchmarks/bench_experiments.py [--seeds 300] [--customers 2000] [--runs 3]

Coverage: the share of seeded runs (tests/unit/jobs/experiment_world.py, the tests'
simulator: decision log + feedback + purchases with a known truth per variant) whose
95 % CI from jobs/experiment_results covers the true lift, per metric and mode; and of
evaluate-policy's SNIPS/DR CIs covering the candidate's true value on epsilon-greedy
(0.1) logs. Cost: the median wall time of `--runs` results computations (timeline
included) over 100k exposed customers (about 430k events).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "unit" / "jobs"))
import experiment_world as world

from omnioffer.contracts.experiment_results import Query
from omnioffer.jobs.evaluate_policy import evaluate_policy
from omnioffer.jobs.experiment_results import experiment_results

RESPOND = {"o1": 0.10, "o2": 0.05, "o3": 0.22, "o4": 0.08}
CANDIDATE = {"web": {"o1": 0.1, "o2": 0.2, "o3": 0.9, "o4": 0.3}}


def coverage(seeds: int, customers: int) -> None:
    exp = world.experiment(world.DEFAULT)
    truth = {"response_rate": world.DEFAULT.response_lift("treatment"),
             "revenue_per_exposed": world.DEFAULT.revenue_lift("treatment")}  # fmt: skip
    for mode in ("fixed", "sequential"):
        hits = dict.fromkeys(truth, 0)
        start = time.perf_counter()
        for seed in range(seeds):
            decisions, events = world.simulate(world.DEFAULT, customers, seed=10_000 + seed)
            r = experiment_results(exp, decisions, events, Query(mode=mode, timeline=False))  # type: ignore[arg-type]
            for metric, true in truth.items():
                e = r.variants[1].lift[metric]
                hits[metric] += e.ci_low is not None and e.ci_low <= true <= e.ci_high  # type: ignore[operator]
        took = time.perf_counter() - start
        for metric, n in hits.items():
            print(f"| lift CI covers the truth: {metric}, {mode} | {n / seeds:.1%} | {seeds} "
                  f"| {took:.0f} s |")  # fmt: skip


def ope_coverage(seeds: int) -> None:
    hits = {"ips": 0, "snips": 0, "doubly_robust": 0}
    start = time.perf_counter()
    for seed in range(seeds):
        decisions, events = world.simulate_exploration(RESPOND, 3000, seed=50_000 + seed)
        for e in evaluate_policy(decisions, events, CANDIDATE).estimates:
            hits[e.method] += e.ci_low <= RESPOND["o3"] <= e.ci_high
    took = time.perf_counter() - start
    for method, n in hits.items():
        print(f"| OPE CI covers the candidate's value: {method} (epsilon 0.1, 3k decisions) "
              f"| {n / seeds:.1%} | {seeds} | {took:.0f} s |")  # fmt: skip


def cost(runs: int) -> None:
    decisions, events = world.simulate(world.DEFAULT, 100_000, seed=1)
    exp = world.experiment(world.DEFAULT)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        experiment_results(exp, decisions, events, Query(mode="sequential"))
        times.append(time.perf_counter() - start)
    print(f"| one results computation, 100k customers, {len(events)} events, timeline on "
          f"| {statistics.median(times):.2f} s (median of {runs}) | - | - |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=300)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print("| what | rate / time | runs | wall |\n|---|---|---|---|")
    coverage(args.seeds, args.customers)
    ope_coverage(args.seeds)
    cost(args.runs)


if __name__ == "__main__":
    main()
