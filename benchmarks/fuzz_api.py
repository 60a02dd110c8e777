"""A longer run of the API fuzzer: tests/service/test_fuzz_api.py (schemathesis over the
live OpenAPI document of `omnioffer serve`, both stores, an API key, every check on)
with more hypothesis examples per operation and phase than the suite's 12.

    .venv/bin/python benchmarks/fuzz_api.py --examples 1000 [--seed 1]

It runs pytest on that module (which trains the test data set first, about a minute)
with OMNIOFFER_FUZZ_EXAMPLES and OMNIOFFER_FUZZ_REPORT, then prints per store the calls
made by generation mode and status, the share of schema-valid calls answered 2xx, and
the failures pytest reported (each failing operation once, with schemathesis's own
account of it in the pytest output above). Exit status: pytest's.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULE = "tests/service/test_fuzz_api.py"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=None, help="hypothesis seed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="oo-fuzz-") as reports:
        env = os.environ | {"OMNIOFFER_FUZZ_EXAMPLES": str(args.examples),
                            "OMNIOFFER_FUZZ_REPORT": reports}  # fmt: skip
        cmd = [sys.executable, "-m", "pytest", MODULE, "-q", "-p", "no:cacheprovider"]
        if args.seed is not None:
            cmd.append(f"--hypothesis-seed={args.seed}")
        started = time.monotonic()
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        took = time.monotonic() - started
        print(done.stdout[-20_000:], done.stderr[-5_000:], sep="\n")
        failures = sorted(set(re.findall(r"^(?:SUB)?FAILED (\S+)", done.stdout, re.MULTILINE)))
        print(f"\n--examples {args.examples}: pytest exit {done.returncode} in {took:.0f} s")
        print("\n| store | calls | positive | negative | positive answered 2xx | statuses |")
        print("|---|---|---|---|---|---|")
        for report in sorted(Path(reports).glob("*.json")):
            print(_row(report.stem, json.loads(report.read_text(encoding="utf-8"))))
        print(f"\nfailures: {len(failures)}", *failures, sep="\n  ")
    return done.returncode


def _row(store: str, answers: list[dict[str, object]]) -> str:
    modes: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    positive_2xx = 0
    for a in answers:
        calls, status = int(str(a["calls"])), int(str(a["status"]))
        modes[str(a["mode"])] += calls
        statuses[status] += calls
        positive_2xx += calls if a["mode"] == "positive" and 200 <= status < 300 else 0
    share = positive_2xx / modes["positive"] if modes["positive"] else 0.0
    listed = ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items()))
    return (f"| {store} | {sum(modes.values())} | {modes['positive']} | {modes['negative']} "
            f"| {share:.0%} | {listed} |")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
