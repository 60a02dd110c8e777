"""Serving fidelity per generator profile: offline vs served NDCG@5/@10, and what each
stage of the decision path did to the offline top 10 (issue 16, point 4).

    .venv/bin/python benchmarks/bench_serving_fidelity.py            # every profile, demo size
    .venv/bin/python benchmarks/bench_serving_fidelity.py --customers 4000 --days 150 --seed 5

For each profile: `omnioffer generate`, `omnioffer train --force` (the replay is measured
whatever the gate says) and `omnioffer evaluate-serving --json`, each in a fresh process;
prints the report, then markdown rows for docs/benchmarks.md. The metrics are
deterministic per seed; the wall times are of this one run (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from timing import run_omnioffer
from training.simulate.world import PROFILES


def evaluate(data: Path, models: Path, report: Path) -> float:
    """evaluate-serving's wall time; it exits 1 when served misses the target, which is a
    result here, not a failure."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "omnioffer", "-q", "evaluate-serving", "--data", str(data),
         "--models", str(models), "--json", str(report)],
        check=False, capture_output=True, text=True,
    )  # fmt: skip
    print(done.stdout, flush=True)
    if done.returncode not in (0, 1) or not report.exists():
        raise SystemExit(f"evaluate-serving failed: {done.stderr}")
    return time.perf_counter() - start


def rows(profile: str, r: dict[str, Any], train_s: float, replay_s: float) -> tuple[str, str]:
    def pair(metrics: dict[str, float]) -> str:
        return f"{metrics['ndcg@5']:.4f} / {metrics['ndcg@10']:.4f}"

    quality = (
        f"| {profile} | {r['groups']:,} of {r['groups_all']:,} | {pair(r['offline_all'])} | "
        f"{pair(r['offline'])} | {pair(r['served'])} | **x{r['ratio']['ndcg@5']:.3f}** / "
        f"x{r['ratio']['ndcg@10']:.3f} | {train_s:.0f} s | {replay_s:.0f} s |"
    )
    removed = ", ".join(f"{k} {v:,}" for k, v in r["removed"].items()) or "none"
    moved = ", ".join(f"{k} {v:,}" for k, v in r["moved"].items()) or "none"
    stages = f"| {profile} | {removed} | {moved} | {r['added']:,} | {r['not_live']:,} |"
    return quality, stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profiles", default=",".join(PROFILES), help="comma-separated")
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    size = ["--customers", str(args.customers), "--days", str(args.days), "--seed", str(args.seed)]
    out: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-fidelity-") as tmp:
        for profile in args.profiles.split(","):
            root = Path(tmp) / profile
            run_omnioffer("generate", "--out", str(root), "--profile", profile, *size)
            models, report = root / "models", root / "fidelity.json"
            train_s = run_omnioffer("train", "--data", str(root / "data"), "--out", str(models),
                                    "--force")  # fmt: skip
            replay_s = evaluate(root / "data", models, report)
            out.append(rows(profile, json.loads(report.read_text()), train_s, replay_s))
    print("| profile | groups replayed | offline (all) | offline | served | served / offline "
          "| train | evaluate-serving |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(q for q, _ in out))
    print("\n| profile | removed from the offline top 10 | moved within it | served from beyond "
          "it | not valid at the decision |")  # fmt: skip
    print("|---|---|---|---|---|")
    print("\n".join(s for _, s in out))


if __name__ == "__main__":
    main()
