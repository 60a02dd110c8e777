"""Benchmark `omnioffer materialize` into a private Redis: seconds, customers/s, memory.

    .venv/bin/python benchmarks/bench_materialize.py --runs 3

A version is generated and trained once on a modest data set (default 20,000
customers, 500 offers) into --cache and reused by later runs. Then, per run, into
a private `redis-server` (own port, nothing on disk), flushed before each run:

(a) `omnioffer materialize` of that real version, in a fresh subprocess;
(b) --customers (default 1,000,000) customers: the real version's records cloned
    under new ids (`<id>-<k>`), each re-encoded and written through the same path
    as (a) (store.put_customers in customer_batches' chunk size), plus the catalog
    and the identities (cloned the same way). Training a 1M-customer version takes
    far longer than this benchmark, hence clones. Clones skip the part of the real
    path that builds records from the version's parquet files; that part's rate is
    measured on the real version and printed so it can be added.

Peak RSS is the subprocess's own (wait4). Redis used_memory is read after the load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import redis

from omnioffer.contracts.payloads import (
    CATALOG,
    CustomerBatch,
    decode_batch,
    encode_batch,
    encode_catalog,
)
from omnioffer.jobs.serving_files import build_catalog, customer_batches
from omnioffer.registry import LoadedVersion, load_version
from omnioffer.store import FeatureStore, open_store
from omnioffer.store.redis import keys

DEFAULT_CACHE = Path("/tmp/omnioffer-bench")
CHUNK = 5_000  # customer_batches' default chunk
IDENTITY_CHUNK = 20_000  # materialize._put_identities' chunk
# Bulk loads send 5,000 records in one MULTI/EXEC: the serving default (0.25 s) is too
# short for that on a busy 2-core machine. The store documents this URL option.
BULK_QUERY = "?socket_timeout=10&socket_connect_timeout=5"


# --- data -------------------------------------------------------------------------
def omnioffer(*args: str, quiet: bool = True) -> None:
    cmd = [sys.executable, "-m", "omnioffer", *(["-q"] if quiet else []), *args]
    subprocess.run(cmd, check=True)


def prepare(cache: Path, customers: int, offers: int, seed: int) -> Path:
    """Generate + train once into cache/c<N>-o<M>-s<seed>; returns its models dir."""
    root = cache / f"c{customers}-o{offers}-s{seed}"
    models = root / "models"
    if (models / "current").is_file():
        return models
    root.mkdir(parents=True, exist_ok=True)
    print(f"preparing a version in {root} (generate + train, once)", flush=True)
    size = ["--customers", str(customers), "--offers", str(offers), "--seed", str(seed)]
    if not (root / "data" / "data").is_dir():
        omnioffer("generate", "--out", str(root / "data"), *size)
    omnioffer("train", "--data", str(root / "data" / "data"), "--out", str(models), "--force")
    return models


def current_version(models: Path) -> str:
    return (models / "current").read_text("utf-8").strip()


def serving_cutoff(models: Path) -> float:
    """Epoch seconds of the version's serving cutoff (serving/serving.json)."""
    meta = json.loads((models / current_version(models) / "serving" / "serving.json").read_text())
    return float(meta["cutoff"])


# --- processes --------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so `finally` blocks stop every child we started."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))


def stop_group(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM the process group (started with start_new_session), then SIGKILL."""
    if proc.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=timeout)
            return
        except subprocess.TimeoutExpired:
            continue


@dataclass
class RedisServer:
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=60)

    def flush(self) -> None:
        self.client().flushall(asynchronous=False)

    def used_memory(self) -> int:
        return int(self.client().info("memory")["used_memory"])


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    """A private redis-server on a free port that keeps nothing on disk."""
    port = free_port()
    cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
           "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"]  # fmt: skip
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL)
    try:
        server = RedisServer(port, proc)
        for _ in range(100):
            try:
                server.client().ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f"redis-server on port {port} did not answer")
        yield server
    finally:
        stop_group(proc)


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run to completion; (wall seconds, the child's own peak RSS in GiB, stdout)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env, start_new_session=True)
    try:
        out = proc.stdout.read().decode() if proc.stdout else ""
        _, status, usage = os.wait4(proc.pid, 0)
    except BaseException:
        stop_group(proc)
        raise
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, cmd, out)
    return wall, usage.ru_maxrss / (1024 * 1024), out


# --- (b) clones, run in a child process ---------------------------------------------
async def write_clones(
    url: str, models: Path, customers: int, ids_out: Path | None = None
) -> dict[str, float]:
    """Load a `customers`-sized version of clones; returns phase timings.

    `ids_out` receives the original ids in clone order (for the wrk scripts).
    """
    t0 = time.perf_counter()
    loaded = load_version(models, current_version(models))
    originals = [row for chunk in customer_batches(loaded, CHUNK) for row in chunk]
    t_build = time.perf_counter()
    decoded = [(cid, decode_batch(blob)) for cid, blob in originals]
    if ids_out is not None:
        ids_out.write_text("".join(f"{cid}\n" for cid, _ in decoded), "utf-8")
    store = open_store(url)
    name = loaded.name
    try:
        await store.begin_version(name)
        await store.put_globals(name, {CATALOG: encode_catalog(build_catalog(loaded))})
        t_catalog = time.perf_counter()
        count, pending = 0, []
        for k in range(-(-customers // len(decoded))):
            for cid, batch in decoded[: customers - count]:
                pending.append((cid if k == 0 else f"{cid}-{k}", encode_batch(batch)))
                if len(pending) == CHUNK:
                    await store.put_customers(name, pending)
                    count, pending = count + len(pending), []
            if pending:
                await store.put_customers(name, pending)
                count, pending = count + len(pending), []
        t_customers = time.perf_counter()
        identities = await _clone_identities(store, loaded, decoded, customers)
        t_identities = time.perf_counter()
        await store.finish_version(name, {"customers": str(count), "models_dir": str(models)})
        await store.activate(name)
    finally:
        await store.close()
    return {
        "customers": count,
        "identities": identities,
        "originals": len(originals),
        "build_s": t_build - t0,
        "catalog_s": t_catalog - t_build,
        "customers_s": t_customers - t_catalog,
        "identities_s": t_identities - t_customers,
        "total_s": time.perf_counter() - t0,
    }


async def _clone_identities(
    store: FeatureStore,
    loaded: LoadedVersion,
    decoded: list[tuple[str, CustomerBatch]],
    customers: int,
) -> int:
    """The version's identities, cloned like the customers they point to."""
    path = loaded.file("serving/identities.parquet")
    rows = pl.read_parquet(path).select("id_type", "id_value", "customer_key").rows()
    position = {cid: i for i, (cid, _) in enumerate(decoded)}
    n, written, pending = len(decoded), 0, []
    for k in range(-(-customers // n)):
        for id_type, value, cid in rows:
            pos = position.get(cid)
            if pos is None or k * n + pos >= customers:
                continue
            if k == 0:
                pending.append((id_type, value, cid))
            else:
                pending.append((id_type, f"{value}-{k}", f"{cid}-{k}"))
            if len(pending) == IDENTITY_CHUNK:
                await store.put_identities(pending)
                written, pending = written + len(pending), []
    if pending:
        await store.put_identities(pending)
        written += len(pending)
    return written


def clone_into(
    server: RedisServer, models: Path, customers: int, ids_out: Path | None = None
) -> dict[str, float]:
    """(b) in a fresh subprocess; adds wall_s and rss_gib to the child's timings."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "_clone", "--models", str(models),
           "--store", server.url + BULK_QUERY, "--customers", str(customers)]  # fmt: skip
    if ids_out is not None:
        cmd += ["--ids-out", str(ids_out)]
    wall, rss, out = run_measured(cmd)
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    result.update(wall_s=wall, rss_gib=rss)
    return result


def materialize_real(server: RedisServer, models: Path) -> dict[str, float]:
    """(a) `omnioffer materialize` in a fresh subprocess."""
    cmd = [sys.executable, "-m", "omnioffer", "-q", "materialize", "--models", str(models),
           "--store", server.url + BULK_QUERY]  # fmt: skip
    wall, rss, _ = run_measured(cmd)
    version = current_version(models)
    doc = json.loads(server.client().hget(keys.versions(), version) or "{}")
    path = models / version / "serving" / "identities.parquet"
    identities = pl.scan_parquet(path).select(pl.len()).collect().item()
    return {"customers": int(doc.get("customers", 0)), "identities": identities,
            "wall_s": wall, "rss_gib": rss}  # fmt: skip


# --- report -------------------------------------------------------------------------
def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def _runs(runs: list[dict[str, float]], key: str) -> str:
    return ", ".join(f"{r[key]:.1f}" for r in runs)


def report(real: list[dict[str, float]], clones: list[dict[str, float]]) -> None:
    print("\n| load | customers | identities | median wall (runs) | customers/s | "
          "Redis used_memory | peak RSS |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for label, runs in (("(a) real version", real), ("(b) clones", clones)):
        if not runs:
            continue
        n = runs[0]["customers"]
        wall = _median(runs, "wall_s")
        idents = f"{int(runs[0]['identities']):,}"
        print(
            f"| {label} | {int(n):,} | {idents} | {wall:.1f} s ({_runs(runs, 'wall_s')}) | "
            f"{n / wall:,.0f} | {_median(runs, 'used_memory') / 2**30:.2f} GiB | "
            f"{max(r['rss_gib'] for r in runs):.2f} GiB |"
        )
    if clones:
        keys = ("build_s", "catalog_s", "customers_s", "identities_s", "total_s")
        print("\n(b) phases, medians: " + ", ".join(f"{k} {_median(clones, k):.1f}" for k in keys))
        per = _median(clones, "build_s") / clones[0]["originals"]
        n = clones[0]["customers"]
        print(
            f"building records from parquet (the part clones skip): {per * 1e6:.0f} us/customer "
            f"on the real version -> about {per * n:.0f} s more for {int(n):,} real customers"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000, help="(b) size")
    parser.add_argument("--train-customers", type=int, default=20_000)
    parser.add_argument("--offers", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--skip-real", action="store_true", help="only (b)")
    args = parser.parse_args()
    exit_on_sigterm()
    models = prepare(args.cache, args.train_customers, args.offers, args.seed)
    real: list[dict[str, float]] = []
    clones: list[dict[str, float]] = []
    with redis_server() as server:
        for run in range(args.runs):
            if not args.skip_real:
                server.flush()
                r = materialize_real(server, models)
                r["used_memory"] = server.used_memory()
                real.append(r)
                print(f"run {run + 1} (a): {r['wall_s']:.1f} s, {r['customers']:,} customers, "
                      f"RSS {r['rss_gib']:.2f} GiB", flush=True)  # fmt: skip
            server.flush()
            c = clone_into(server, models, args.customers)
            c["used_memory"] = server.used_memory()
            clones.append(c)
            print(f"run {run + 1} (b): {c['wall_s']:.1f} s, {c['customers']:,} customers, "
                  f"RSS {c['rss_gib']:.2f} GiB, Redis {c['used_memory'] / 2**30:.2f} GiB",
                  flush=True)  # fmt: skip
    report(real, clones)


def _clone_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=Path, required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--ids-out", type=Path, default=None)
    args = parser.parse_args(argv)
    result = asyncio.run(write_clones(args.store, args.models, args.customers, args.ids_out))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["_clone"]:
        _clone_main(sys.argv[2:])
    else:
        main()
