"""Soak: `omnioffer serve` for --minutes at about --load of saturation, mixed traffic.

    .venv/bin/python benchmarks/bench_soak.py --minutes 10 --load 0.7

Starts a private redis-server, loads the cached 20k-customer/500-offer version of
bench_materialize.py cloned to --customers, and runs `omnioffer serve --workers 2`
with an API key (auth on; `--no-auth` serves without keys), replay clock at the serving
cutoff + 1 day (as bench_serve.py). wrk (benchmarks/wrk/mixed.lua) sends 60 %
decisions, 30 % events (one view, add_to_cart or purchase each, unique event ids) and
10 % feedback on offers it was served.

1. Saturation: --connections connections without pause for --sat-seconds -> S req/s.
2. Pace: each connection pauses a fixed delay between requests; a few short runs
   adjust the delay until the rate is --load x S.
3. Soak: one wrk run per minute for --minutes at that pace. After every minute it
   reads each worker's RSS (/proc/PID/status VmRSS) and prints the minute's rate,
   p50/p99, errors (non-2xx + socket errors), fallback decisions (/metrics), and RSS.

At the end: RSS growth per worker from the end of minute 1 to the end (the first
minute fills caches and pools), total errors, p99 per minute, and whether every
acknowledged event reached the durable event log (it grew by at least the events and
feedback the store acknowledged, and at most the requests cut off when a run ended).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench_materialize import (
    DEFAULT_CACHE,
    clone_into,
    exit_on_sigterm,
    free_port,
    prepare,
    redis_server,
    serving_cutoff,
)
from bench_serve import WRK, background, decision_counts, wait_http, worker_pids
from omnioffer.api_keys import KeyFile
from omnioffer.store.redis import keys

DAY_S = 86_400.0
LOG_KEY = keys.log()


@dataclass
class Pace:
    """What wrk's mixed.lua needs besides its base URL."""

    base: str
    ids: Path
    total: int
    items: Path
    epoch: int
    key: str
    seed: int
    conns: int
    threads: int = 2
    runs: int = 0

    def wrk(self, seconds: int, delay_ms: float) -> dict[str, float]:
        self.runs += 1
        cmd = ["wrk", f"-t{self.threads}", f"-c{self.conns}", f"-d{seconds}s", "--latency",
               "--timeout", "5s", "-s", str(WRK / "mixed.lua"), self.base, "--",
               str(self.ids), str(self.total), str(self.seed * 100 + self.runs),
               str(self.items), str(self.epoch), f"{delay_ms:.3f}", self.key,
               f"r{self.runs}"]  # fmt: skip
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        doc: dict[str, float] = {}
        for prefix in ("WRKJSON ", "WRKMIXED "):
            line = next(x for x in out.splitlines() if x.startswith(prefix))
            doc.update(json.loads(line.removeprefix(prefix)))
        doc["rps"] = doc["requests"] / (doc["duration_us"] / 1e6)
        doc["errors"] = doc["status"] + doc["connect"] + doc["read"] + doc["write"]
        doc["errors"] += doc["timeout"]
        return doc


@dataclass
class Minute:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    fallbacks: int
    rss_mib: list[float]
    counts: dict[str, float] = field(default_factory=dict)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def item_ids(models: Path, out: Path) -> Path:
    """The version's item ids, one a line (events name real items)."""
    import polars as pl

    version = (models / "current").read_text().strip()
    items = pl.read_parquet(models / version / "serving" / "items.parquet")
    col = "item_id" if "item_id" in items.columns else items.columns[0]
    out.write_text("\n".join(items[col].cast(pl.Utf8).to_list()) + "\n")
    return out


def make_key(path: Path) -> str:
    keys = KeyFile.read(path)
    key = keys.create("soak", ["decide", "events", "feedback"])
    keys.write()
    return key


def calibrate(pace: Pace, target: float, seconds: int, rounds: int) -> float:
    """The per-connection delay (ms) at which the rate is about `target` req/s.

    A connection's rate is 1 / (latency + delay); with C connections, rate ~ C / (L + d):
    each round moves d by C / target - C / rate (the gap in time per request)."""
    delay_ms = 1000.0 * pace.conns / target
    for n in range(rounds):
        got = pace.wrk(seconds, delay_ms)
        print(f"pace {n + 1}: delay {delay_ms:.1f} ms -> {got['rps']:.0f} req/s "
              f"(target {target:.0f})", flush=True)  # fmt: skip
        delay_ms = max(0.0, delay_ms + 1000.0 * pace.conns * (1 / target - 1 / got["rps"]))
    return delay_ms


def report(
    minutes: list[Minute], sat: float, delay_ms: float, *, logged: int, acked: int, conns: int
) -> None:
    print("\n| minute | req/s | p50 ms | p99 ms | errors | fallbacks | RSS MiB per worker |")
    print("|---|---|---|---|---|---|---|")
    for i, m in enumerate(minutes, 1):
        rss = ", ".join(f"{x:.0f}" for x in m.rss_mib)
        print(f"| {i} | {m.rps:.0f} | {m.p50_ms:.2f} | {m.p99_ms:.2f} | {m.errors} | "
              f"{m.fallbacks} | {rss} |")  # fmt: skip
    rates = [m.rps for m in minutes]
    base, last = minutes[0].rss_mib, minutes[-1].rss_mib
    growth = [100 * (b2 - b1) / b1 for b1, b2 in zip(base, last, strict=True)]
    p99s = [m.p99_ms for m in minutes]
    print(f"\nsaturation {sat:.0f} req/s; soak pace {delay_ms:.1f} ms per connection -> "
          f"median {statistics.median(rates):.0f} req/s "
          f"({statistics.median(rates) / sat:.2f} of saturation)")  # fmt: skip
    print("RSS growth per worker, end of minute 1 -> end: "
          + ", ".join(f"{g:+.1f}%" for g in growth))  # fmt: skip
    print(f"errors: {sum(m.errors for m in minutes)}; fallback decisions: "
          f"{sum(m.fallbacks for m in minutes)}")  # fmt: skip
    print(f"p99 per minute: median {statistics.median(p99s):.2f} ms, max {max(p99s):.2f} ms")
    # Requests in flight when a wrk run ends are stored but never counted by wrk: the
    # log may hold up to that many more than wrk saw acknowledged, never fewer.
    cut = conns * len(minutes)
    verdict = "none lost" if acked <= logged <= acked + cut else "MISMATCH"
    print(
        f"events + feedback acknowledged: {acked}; event log grew by {logged} "
        f"(at most {cut} more can be requests cut off at a run's end): {verdict}"
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--load", type=float, default=0.7, help="share of saturation")
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--train-customers", type=int, default=20_000)
    parser.add_argument("--offers", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--sat-seconds", type=int, default=20)
    parser.add_argument("--pace-seconds", type=int, default=10)
    parser.add_argument("--pace-rounds", type=int, default=3)
    parser.add_argument("--no-auth", action="store_true", help="serve without API keys")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    exit_on_sigterm()
    models = prepare(args.cache, args.train_customers, args.offers, args.seed)
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-soak-")))
        server = stack.enter_context(redis_server())
        ids = tmp / "ids.txt"
        loaded = clone_into(server, models, args.customers, ids)
        cutoff = serving_cutoff(models) + DAY_S
        as_of = datetime.fromtimestamp(cutoff, tz=UTC).isoformat()
        env = {**os.environ, "OMNIOFFER_LOG_LEVEL": "warning"}
        env.pop("OMNIOFFER_CONFIG", None)
        key = ""
        port = free_port()
        cmd = [sys.executable, "-m", "omnioffer", "serve", "--workers", str(args.workers),
               "--host", "127.0.0.1", "--port", str(port), "--store", server.url,
               "--models", str(models), "--as-of", as_of]  # fmt: skip
        if not args.no_auth:
            key = make_key(tmp / "keys.json")
            cmd += ["--keys-file", str(tmp / "keys.json")]
        proc = stack.enter_context(background(cmd, env))
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/health/ready", 120, proc)
        pids = worker_pids(proc.pid)
        print(f"serving {int(loaded['customers']):,} customers on {base}, workers {pids}, "
              f"auth {'off' if args.no_auth else 'on'}", flush=True)  # fmt: skip
        pace = Pace(base, ids, int(loaded["customers"]), item_ids(models, tmp / "items.txt"),
                    int(cutoff), key, args.seed, args.connections)  # fmt: skip
        pace.wrk(10, 0.0)  # warm-up
        sat = pace.wrk(args.sat_seconds, 0.0)["rps"]
        print(f"saturation: {sat:.0f} req/s at {args.connections} connections", flush=True)
        delay_ms = calibrate(pace, args.load * sat, args.pace_seconds, args.pace_rounds)
        log = server.client()
        log_before = int(log.xlen(LOG_KEY))
        minutes: list[Minute] = []
        acked = 0
        for i in range(args.minutes):
            before = decision_counts(base)
            r = pace.wrk(60, delay_ms)
            diff = decision_counts(base) - before
            acked += int(r["events_accepted"] + r["feedback_accepted"])
            m = Minute(r["rps"], r["p50"] / 1000, r["p99"] / 1000, int(r["errors"]),
                       sum(v for k, v in diff.items() if k != "none"),
                       [rss_mib(p) for p in pids], r)  # fmt: skip
            minutes.append(m)
            print(f"minute {i + 1}: {m.rps:.0f} req/s, p99 {m.p99_ms:.2f} ms, errors "
                  f"{m.errors}, fallbacks {m.fallbacks}, RSS "
                  f"{', '.join(f'{x:.0f}' for x in m.rss_mib)} MiB", flush=True)  # fmt: skip
        logged = int(log.xlen(LOG_KEY)) - log_before
        report(minutes, sat, delay_ms, logged=logged, acked=acked, conns=args.connections)


if __name__ == "__main__":
    main()
