"""Benchmark experiment assignment in-process: CPU microseconds per `Assigner.assign()`.

    .venv/bin/python benchmarks/bench_assignment.py --calls 200000 --runs 5

The definitions are the full example of docs/experiments.md (a 5 % holdout and two
running experiments sharing a namespace) plus --extra running experiments without a
namespace, each overriding its own [policy] key. Each run assigns --calls random
(customer id, channel) pairs, the ids drawn from 1M random 12-hex-digit ids as a
retailer's look, and reports the process's CPU time per call; the figure printed last
is the median over runs. Compare it with bench_decide.py's CPU per decision.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import time
import tomllib
from datetime import UTC, datetime
from pathlib import Path

from omnioffer.contracts.experiment_rules import parse_definitions
from omnioffer.decide.assignment import Assigner
from omnioffer.decide.policy import Policy, check_override, overridden

DOC = Path(__file__).parents[1] / "docs" / "experiments.md"
CHANNELS = ("web", "app", "store", "email")
KEYS = ("cart_days", "dismiss_cooldown_days", "suppress_bought_days", "impression_window_days")


def definitions(extra: int) -> Assigner:
    found = re.search(r"```toml\n(.*?)```", DOC.read_text(), re.DOTALL)
    if found is None:
        raise SystemExit(f"{DOC} has no toml example")
    raw = tomllib.loads(found.group(1))
    for n in range(extra):
        raw["experiments"].append({"id": f"extra-{n}", "status": "running", "variants": [
            {"name": "control", "weight": 0.5},
            {"name": "t", "weight": 0.5, "policy": {KEYS[n % len(KEYS)]: 1.0 + n}}]})  # fmt: skip
    return Assigner(parse_definitions(raw, check_policy=check_override))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--extra", type=int, default=2, help="more running experiments")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    if args.extra > len(KEYS):
        raise SystemExit(f"--extra is at most {len(KEYS)} (one [policy] key each)")
    assigner = definitions(args.extra)
    rng = random.Random(args.seed)
    population = [f"c{rng.getrandbits(48):012x}" for _ in range(1_000_000)]
    now = datetime(2026, 12, 15, tzinfo=UTC).timestamp()
    base = Policy()
    cpus, applied = [], []
    for run in range(args.runs):
        batch = [(rng.choice(population), rng.choice(CHANNELS)) for _ in range(args.calls)]
        start = time.process_time()
        out = [assigner.assign(cid, channel, now) for cid, channel in batch]
        cpus.append((time.process_time() - start) / args.calls * 1e6)
        start = time.process_time()
        for a in out[:20_000]:
            overridden(base, a.override.policy)
        applied.append((time.process_time() - start) / min(20_000, args.calls) * 1e6)
        exposed = sum(bool(a.exposures) for a in out) / args.calls
        print(f"run {run + 1}: assign {cpus[-1]:.1f} us, apply the override {applied[-1]:.1f} us"
              f" per call (CPU); {exposed:.1%} in an experiment", flush=True)  # fmt: skip
    print(f"median of {args.runs} runs: assign {statistics.median(cpus):.1f} us, apply the "
          f"override {statistics.median(applied):.1f} us per call (CPU)")  # fmt: skip


if __name__ == "__main__":
    main()
