"""Benchmark `omnioffer serve` on Redis under wrk, against a bare Litestar + Redis floor.

    .venv/bin/python benchmarks/bench_serve.py --runs 3

Starts a private redis-server, loads the cached 20k-customer/500-offer version and
clones it to --customers (default 1,000,000; see bench_materialize.py), then runs
`omnioffer serve --workers 2 --store redis://... --as-of <serving cutoff + 1 day>`
(the replay clock the service tests use) and benchmarks/floor_app.py (one Redis GET
per request, same worker count) as subprocesses. wrk (benchmarks/wrk/*.lua) posts
decisions for random customers across all of them and 4 channels, and reads the
same customers' batch keys from the floor:

- one client: wrk -t1 -c1 -d<one>s --latency
- saturated: wrk -t2 -c<C> -d<sat>s --latency for each C in --connections

decisions and floor take turns within each setting of each run, so ratios are
measured in the same run. With --secured, a third target serves the same store
with API keys and rate limiting on (`--keys-file`, OMNIOFFER_RATE_LIMIT_PER_S=1e6:
every request goes through the bucket, none is refused), wrk sending the key
(wrk/secured.lua), taking turns with the other two: the on/off ratio is per run.
Fallback answers (200 but not from the model) are counted from the service's
/metrics. With --profile N, py-spy records N s of one worker during an extra
saturated run (collapsed stacks in benchmarks/out/) and prints where the time goes.
Everything runs on the same machine: wrk and Redis share its cores with the workers.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench_materialize import (
    DEFAULT_CACHE,
    RedisServer,
    clone_into,
    current_version,
    exit_on_sigterm,
    free_port,
    prepare,
    redis_server,
    serving_cutoff,
    stop_group,
)
from omnioffer.api_keys import KeyFile
from omnioffer.store.redis import keys

HERE = Path(__file__).resolve().parent
WRK = HERE / "wrk"
OUT = HERE / "out"
DAY_S = 86_400.0
DECISIONS = "decisions"
SECURED = "secured"  # decisions with API keys and rate limits on
FLOOR = "floor"
SERVICES = (DECISIONS, SECURED)
NEVER_REFUSED = "1000000"  # rate and burst: every request is checked, none refused


# --- servers ----------------------------------------------------------------------
def wait_http(
    url: str, timeout: float, proc: subprocess.Popen[bytes], ok_in_a_row: int = 5
) -> None:
    """Until `url` answers 200 several times in a row (so both workers are likely up)."""
    deadline, streak = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before {url} was ready")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                streak = streak + 1 if resp.status == 200 else 0
        except (urllib.error.URLError, OSError):
            streak = 0
        if streak >= ok_in_a_row:
            return
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready after {timeout:.0f} s")


@contextmanager
def background(
    cmd: list[str], env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """A subprocess in its own process group, always stopped (group-wide) on exit."""
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)
    try:
        yield proc
    finally:
        stop_group(proc)


def serve_cmd(server: RedisServer, models: Path, port: int, workers: int, as_of: str) -> list[str]:
    return [sys.executable, "-m", "omnioffer", "serve", "--workers", str(workers),
            "--host", "127.0.0.1", "--port", str(port), "--store", server.url,
            "--models", str(models), "--as-of", as_of]  # fmt: skip


def floor_cmd(server: RedisServer, port: int, workers: int, key: str) -> list[str]:
    return [sys.executable, str(HERE / "floor_app.py"), "--port", str(port),
            "--workers", str(workers), "--redis", server.url, "--key", key]  # fmt: skip


def worker_pids(parent: int) -> list[int]:
    """uvicorn's worker processes (multiprocessing spawn children of the server)."""
    out = []
    for task in Path(f"/proc/{parent}/task").iterdir():
        children = (task / "children").read_text().split()
        for pid in map(int, children):
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            if b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
                out.append(pid)
    return sorted(out)


# --- wrk --------------------------------------------------------------------------
@dataclass(frozen=True)
class Load:
    label: str
    threads: int
    conns: int
    seconds: int


@dataclass
class Targets:
    """Base URLs by target and the wrk scripts' arguments (see wrk/common.lua)."""

    bases: dict[str, str]
    lua: list[str]
    env: dict[str, str] | None = None  # wrk's (the secured target's key)

    def wrk(self, target: str, load: Load) -> dict[str, float]:
        cmd = ["wrk", f"-t{load.threads}", f"-c{load.conns}", f"-d{load.seconds}s", "--latency",
               "--timeout", "5s", "-s", str(WRK / f"{target}.lua"), self.bases[target],
               "--", *self.lua]  # fmt: skip
        out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                             env=self.env).stdout  # fmt: skip
        line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
        doc: dict[str, float] = json.loads(line.removeprefix("WRKJSON "))
        doc["rps"] = doc["requests"] / (doc["duration_us"] / 1e6)
        doc["socket_errors"] = doc["connect"] + doc["read"] + doc["write"] + doc["timeout"]
        doc["non2xx"] = doc["status"]
        return doc

    def measure(self, target: str, load: Load) -> dict[str, float]:
        """One wrk run; for decisions also how many answers were fallbacks (/metrics)."""
        if target not in SERVICES:
            return self.wrk(target, load)
        before = decision_counts(self.bases[target])
        res = self.wrk(target, load)
        diff = decision_counts(self.bases[target]) - before
        res["fallback"] = sum(v for k, v in diff.items() if k != "none")
        res["counted"] = sum(diff.values())
        return res


_DECISION_RE = re.compile(r"^omnioffer_decisions_total\{([^}]*)\} ([0-9.e+]+)$", re.M)


def decision_counts(base: str) -> Counter[str]:
    """Decisions served so far by fallback label ("none" = the model), all workers."""
    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    counts: Counter[str] = Counter()
    for labels, value in _DECISION_RE.findall(text):
        fallback = re.search(r'fallback="([^"]*)"', labels)
        counts[fallback.group(1) if fallback else "?"] += int(float(value))
    return counts


# --- profile ----------------------------------------------------------------------
def py_spy_path(given: str | None) -> str | None:
    found = given or shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    return found if Path(found).exists() else None


def profile(
    py_spy: str | None, pid: int, seconds: int, run_load: Callable[[], object], tag: str
) -> Path | None:
    """py-spy record (collapsed stacks) on one worker while `run_load()` saturates it."""
    if py_spy is None:
        print("py-spy not found: skipping the profile", flush=True)
        return None
    OUT.mkdir(exist_ok=True)
    raw = OUT / f"profile-{tag}.txt"
    cmd = [py_spy, "record", "-d", str(seconds), "-p", str(pid), "-r", "100",
           "--format", "raw", "-o", str(raw)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        run_load()
        proc.wait(timeout=seconds + 60)
    finally:
        stop_group(proc)
    return raw


# Each sample of the worker's main thread goes to the first category matching a frame,
# walking from the innermost frame outwards (numpy and builtins count for their caller).
# py-spy names a project file by its path relative to sys.path ("(service.py:12)").
PROFILE_CATEGORIES = (
    ("idle: waiting in epoll", r"^(EpollSelector\.)?select \(selectors"),
    ("ONNX Runtime", r"onnxruntime"),
    ("Redis client (wire, redis-py)", r"\(redis/|store/redis/|\((wire\w*|round_trips|store)\.py"),
    ("prometheus metrics + middleware", r"prometheus_client|\(metrics\.py"),
    ("offer features", r"features/offer(s|_scan|_tables|_affinity)\.py"),
    ("item features", r"features/items\.py"),
    ("item candidates", r"candidates\.py"),
    ("eligibility + contact policy", r"eligibility\.py|contact\.py|policy\.py|offer_table\.py"),
    ("arbitration + reasons", r"arbitrate\.py|signals\.py|explain\.py|diversity\.py"),
    ("History.build", r"history\.py"),
    ("sticky top offer (stickiness)", r"stickiness\.py"),
    ("record decoding (msgpack)", r"payloads\.py"),
    ("scoring glue (score, scorer)", r"decide/score\.py|scorer\.py"),
    ("decision service glue", r"\(service\.py|resolve\.py|fallback\.py|holder\.py"),
    ("request/response (msgspec, Litestar)", r"\(litestar/|msgspec|\(controllers\.py"),
    ("HTTP server (uvicorn, h11/httptools)", r"\(uvicorn/|\(h11/|httptools"),
    ("asyncio loop + transports (uvloop)", r"asyncio/|uvloop"),
)
_SKIP_FRAME = re.compile(r"numpy/|<built-in>|^\S+ \(<frozen")


def categorize(frames: list[str]) -> str:
    for frame in reversed(frames):
        if _SKIP_FRAME.search(frame):
            continue
        for name, pattern in PROFILE_CATEGORIES:
            if re.search(pattern, frame):
                return name
    return "other"


def summarize_profile(raw: Path, top: int = 20) -> None:
    """Shares of the worker's main-thread samples by category, and top self-time frames.

    Threads other than the main one (uvicorn's health pong, the log queue listener,
    the to_thread pool) sleep in blocking calls and are left out.
    """
    total, self_time, shares = 0, Counter[str](), Counter[str]()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or "Thread._bootstrap" in stack:
            continue
        n, frames = int(count), stack.split(";")
        total += n
        self_time[frames[-1]] += n
        shares[categorize(frames)] += n
    busy = total - shares["idle: waiting in epoll"]
    print(f"\nprofile {raw}: {total} main-thread samples, {busy} busy")
    print("| where | share of busy samples |\n|---|---|")
    for name, n in shares.most_common():
        if not name.startswith("idle"):
            print(f"| {name} | {100 * n / max(busy, 1):.1f}% |")
    print(f"(idle: {100 * (total - busy) / max(total, 1):.1f}% of all samples)\ntop self time:")
    for frame, n in self_time.most_common(top):
        print(f"  {100 * n / max(total, 1):5.1f}%  {frame}")


# --- report -----------------------------------------------------------------------
def _ms(us: float) -> str:
    return f"{us / 1000:.2f}"


def report(results: dict[tuple[str, str], list[dict[str, float]]]) -> None:
    """Medians over runs; one row per target and load setting."""
    print("\n| target | load | req/s | p50 ms | p75 ms | p90 ms | p99 ms | max ms | "
          "non-2xx | socket errors | fallbacks | runs |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for (target, load), runs in results.items():
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        rps = ", ".join(f"{r['rps']:.0f}" for r in runs)
        fallbacks = f"{int(sum(r['fallback'] for r in runs))}" if "fallback" in med else "-"
        print(
            f"| {target} | {load} | {med['rps']:,.0f} ({rps}) | {_ms(med['p50'])} | "
            f"{_ms(med['p75'])} | {_ms(med['p90'])} | {_ms(med['p99'])} | {_ms(med['max'])} | "
            f"{int(sum(r['non2xx'] for r in runs))} | "
            f"{int(sum(r['socket_errors'] for r in runs))} | {fallbacks} | {len(runs)} |"
        )
    print("\nratio decisions/s : floor req/s, per run (same run, same load):")
    for (target, load), runs in results.items():
        if target != DECISIONS or (FLOOR, load) not in results:
            continue
        ratios = [d["rps"] / f["rps"] for d, f in zip(runs, results[(FLOOR, load)], strict=True)]
        joined = ", ".join(f"{x:.3f}" for x in ratios)
        print(f"  {load}: median {statistics.median(ratios):.3f} (runs: {joined})")
    if not any(target == SECURED for target, _ in results):
        return
    print("\nratio secured (keys + rate limits on) : decisions (off) req/s, per run:")
    for (target, load), runs in results.items():
        if target != SECURED or (DECISIONS, load) not in results:
            continue
        ratios = [s["rps"] / d["rps"] for s, d in zip(runs, results[(DECISIONS, load)],
                                                       strict=True)]  # fmt: skip
        joined = ", ".join(f"{x:.3f}" for x in ratios)
        print(f"  {load}: median {statistics.median(ratios):.3f} (runs: {joined})")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--train-customers", type=int, default=20_000)
    parser.add_argument("--offers", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--one-seconds", type=int, default=20, help="one-client duration")
    parser.add_argument("--sat-seconds", type=int, default=30, help="saturated duration")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads when saturated")
    parser.add_argument("--connections", default="8,16,32,64", help="saturated settings")
    parser.add_argument("--unknown-share", type=float, default=0.0)
    parser.add_argument("--warmup-seconds", type=int, default=10)
    parser.add_argument("--profile", type=int, default=0, help="py-spy seconds (0: none)")
    parser.add_argument("--profile-connections", type=int, default=8)
    parser.add_argument("--py-spy", default=None, help="py-spy binary (default: on PATH/venv)")
    parser.add_argument("--only", choices=(DECISIONS, SECURED, FLOOR), default=None)
    parser.add_argument("--secured", action="store_true",
                        help="also serve with keys and rate limits (target secured)")  # fmt: skip
    return parser.parse_args()


def start_servers(
    stack: ExitStack,
    args: argparse.Namespace,
    server: RedisServer,
    models: Path,
    ids: Path,
    *,
    keys_file: Path,
) -> tuple[dict[str, subprocess.Popen[bytes]], dict[str, str]]:
    """The service (and with --secured the same with keys and rate limits), and the
    floor, on free ports, waited for; stopped when `stack` closes.

    Returns the processes and their base URLs by target.
    """
    env = {**os.environ, "OMNIOFFER_LOG_LEVEL": "warning"}
    env.pop("OMNIOFFER_CONFIG", None)
    as_of = datetime.fromtimestamp(serving_cutoff(models) + DAY_S, tz=UTC).isoformat()
    procs, bases = {}, {}
    chosen = [DECISIONS, SECURED, FLOOR] if args.secured else [DECISIONS, FLOOR]
    for target in [args.only] if args.only else chosen:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        target_env = env
        if target in SERVICES:
            print(f"serving {target} with --as-of {as_of} on {base}", flush=True)
            cmd = serve_cmd(server, models, port, args.workers, as_of)
            ready = f"{base}/health/ready"
            if target == SECURED:
                cmd += ["--keys-file", str(keys_file)]
                target_env = {**env, "OMNIOFFER_RATE_LIMIT_PER_S": NEVER_REFUSED,
                              "OMNIOFFER_RATE_LIMIT_BURST": NEVER_REFUSED}  # fmt: skip
        else:
            key = keys.customer_batch(current_version(models), "%ID%")
            cmd = floor_cmd(server, port, args.workers, key)
            ready = f"{base}/floor/{ids.read_text().split(chr(10), 1)[0]}"
        procs[target] = stack.enter_context(background(cmd, target_env))
        bases[target] = base
        wait_http(ready, 120, procs[target])
    return procs, bases


def main() -> None:
    args = parse_args()
    exit_on_sigterm()
    if shutil.which("wrk") is None:
        sys.exit("wrk not found")
    models = prepare(args.cache, args.train_customers, args.offers, args.seed)
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-serve-")))
        server = stack.enter_context(redis_server())
        ids = tmp / "ids.txt"
        loaded = clone_into(server, models, args.customers, ids)
        gib = server.used_memory() / 2**30
        print(f"loaded {int(loaded['customers']):,} customers in {loaded['wall_s']:.1f} s; "
              f"Redis used_memory {gib:.2f} GiB", flush=True)  # fmt: skip
        keys = KeyFile(tmp / "keys.json")
        key = keys.create("bench", ["decide"])
        keys.write()
        procs, bases = start_servers(stack, args, server, models, ids, keys_file=keys.path)
        lua = [str(ids), str(int(loaded["customers"])), str(args.unknown_share), str(args.seed)]
        targets = Targets(bases, lua, {**os.environ, "OMNIOFFER_BENCH_KEY": key})
        for target in procs:  # first requests load models, warm pools and caches
            targets.wrk(target, Load("warm-up", args.threads, 16, args.warmup_seconds))
        loads = [Load("1 client", 1, 1, args.one_seconds)] + [
            Load(f"{c} conns", args.threads, c, args.sat_seconds)
            for c in map(int, args.connections.split(","))
        ]
        results: dict[tuple[str, str], list[dict[str, float]]] = {}
        for run in range(args.runs):
            for load in loads:
                for target in procs:
                    r = targets.measure(target, load)
                    results.setdefault((target, load.label), []).append(r)
                    extra = f", fallbacks {int(r['fallback'])}" if "fallback" in r else ""
                    print(f"run {run + 1} {target} {load.label}: {r['rps']:.0f} req/s, "
                          f"p50 {_ms(r['p50'])} p99 {_ms(r['p99'])} ms, non-2xx "
                          f"{int(r['non2xx'])}, socket errors {int(r['socket_errors'])}{extra}",
                          flush=True)  # fmt: skip
        report(results)
        if args.profile and DECISIONS in procs:
            pid = worker_pids(procs[DECISIONS].pid)[0]
            load = Load("profile", args.threads, args.profile_connections, args.profile + 4)
            py_spy, tag = py_spy_path(args.py_spy), f"decisions-c{load.conns}"
            raw = profile(py_spy, pid, args.profile, lambda: targets.wrk(DECISIONS, load), tag)
            if raw is not None:
                summarize_profile(raw)


if __name__ == "__main__":
    main()
