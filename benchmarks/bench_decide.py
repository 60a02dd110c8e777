"""Benchmark one decision in-process (no HTTP): ms per call, by stage.

    .venv/bin/python benchmarks/bench_decide.py --calls 2000 --runs 3 [--profile]

Uses the cached 20k-customer/500-offer version of bench_materialize.py (generated and
trained once), materialised into a private redis-server (or, with --embedded, a fresh
embedded store in a temporary folder), and the service `omnioffer serve` builds
(`open_service_store` + `make_service`, its store calls timed into Metrics, each
decision's served offers counted as the HTTP handler counts them), with the replay clock
at the serving cutoff + 1 day, as bench_serve.py serves it. Each run calls `decide()`
for --calls random (customer, channel) pairs in one asyncio loop and reports the median
and p99 wall time per call and the process's CPU time per call (this process only: Redis
is another process; CPU time is the steadier figure on a shared machine); the figures
printed last are medians over runs. With
--profile, one extra run under cProfile prints the cumulative time of each stage of
the decision path as a share of the run.

With --experiments, every run times two services over the same store back to back
(same requests): without experiments, and with the demo's set (holdout 5 %, ranker vs
popular 50/50) with exploration 0.1 on both variants; it prints the CPU ratio
(docs/benchmarks.md, "Experiments"), and a third service with ranker vs ranker and
exploration 0.1 (the overhead alone, at the same scoring cost). All write the
decision log.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import math
import os
import pstats
import random
import statistics
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from bench_materialize import BULK_QUERY, DEFAULT_CACHE, prepare, redis_server, serving_cutoff
from omnioffer.api.metrics import Metrics
from omnioffer.cli.demo import write_demo_experiments
from omnioffer.contracts.experiments import Definitions
from omnioffer.contracts.http import DecisionRequest
from omnioffer.decide.experiment_defs import definitions_from_json, load_experiments_file
from omnioffer.decide.experiment_source import ExperimentSource
from omnioffer.decide.service import DecisionService
from omnioffer.jobs.materialize import materialize
from omnioffer.registry import load_version
from omnioffer.service import make_service, open_service_store
from omnioffer.settings import Settings, load_settings
from omnioffer.store import open_store

DAY_S = 86_400.0
CHANNELS = ("web", "app", "email", "store")
# (label, module file suffix, function name) of the stages, in path order.
STAGES = (
    ("fetch + history", "resolve.py", "context"),
    ("eligibility + contact policy", "eligibility.py", "candidate_offers"),
    ("item candidates", "candidates.py", "generate"),
    ("item features", "features/items.py", "item_matrix"),
    ("offer features", "features/offers.py", "offer_matrix"),
    ("ONNX Runtime", "onnxruntime_inference_collection.py", "run"),
    ("arbitration", "arbitrate.py", "arbitrate"),
    ("signals for reasons", "signals.py", "of"),
    ("stickiness", "stickiness.py", "keep_top"),
    ("diversity + reasons", "explain.py", "explain"),
    ("assignment (experiments)", "experiment_stage.py", "treatment"),
    ("record + decision log", "service.py", "_record"),
)


def requests(ids: list[str], calls: int, seed: int) -> list[DecisionRequest]:
    rng = random.Random(seed)
    return [
        DecisionRequest(customer_id=rng.choice(ids), channel=rng.choice(CHANNELS))
        for _ in range(calls)
    ]


async def timed_run(
    service: DecisionService, batch: list[DecisionRequest], metrics: Metrics
) -> list[float]:
    out = []
    for request in batch:
        start = time.perf_counter()
        response = await service.decide(request)
        metrics.count_served(response.channel, (o.offer_id for o in response.offers))  # handler
        out.append(time.perf_counter() - start)
    return out


def stage_table(stats: pstats.Stats, total: float) -> None:
    entries = stats.stats  # type: ignore[attr-defined]
    print(f"{'stage':32s} {'cumulative':>10s} {'share':>7s}")
    for label, suffix, name in STAGES:
        cum = sum(v[3] for (file, _, func), v in entries.items()
                  if file.endswith(suffix) and func == name)  # fmt: skip
        print(f"{label:32s} {cum:9.2f}s {cum / total:7.1%}")


def demo_experiments() -> Definitions:
    """The demo's experiment set with exploration 0.1 on both variants."""
    with tempfile.TemporaryDirectory() as tmp:
        defs = load_experiments_file(write_demo_experiments(Path(tmp)))
    (e,) = defs.experiments
    variants = tuple(msgspec.structs.replace(v, exploration=0.1) for v in e.variants)
    return msgspec.structs.replace(defs, experiments=(msgspec.structs.replace(
        e, variants=variants),))  # fmt: skip


def ranker_vs_ranker() -> Definitions:
    """Assignment and exploration 0.1 at the same scoring cost as no experiment: the
    overhead alone (both variants rank with the model; no holdout)."""
    raw = {"experiments": [{"id": "aa", "status": "running", "variants": [
        {"name": "a", "weight": 0.5, "exploration": 0.1},
        {"name": "b", "weight": 0.5, "exploration": 0.1}]}]}  # fmt: skip
    return definitions_from_json(msgspec.json.encode(raw))


def fixed(service: DecisionService, defs: Definitions) -> DecisionService:
    """The service serving `defs`, never polling the store for others."""
    service.experiments = ExperimentSource(service.store, poll_s=math.inf, timeout_s=1.0)
    service.experiments.use(defs)
    return service


async def compare(url: str, settings: Settings, ids: list[str], args: argparse.Namespace) -> None:
    """CPU per decision without and with experiments, alternating, same requests."""
    services = []
    for defs in (Definitions(), demo_experiments(), ranker_vs_ranker()):
        metrics = Metrics(settings.channels)
        service = fixed(make_service(settings, open_service_store(settings), metrics=metrics),
                        defs)  # fmt: skip
        await service.holder.refresh()
        await timed_run(service, requests(ids, 200, args.seed), metrics)  # warm-up
        services.append((service, metrics))
    cpus: list[list[float]] = [[], [], []]
    for run in range(args.runs):
        for which, (service, metrics) in enumerate(services):
            cpu = time.process_time()
            await timed_run(service, requests(ids, args.calls, run), metrics)
            cpus[which].append((time.process_time() - cpu) / args.calls * 1e3)
        print(f"run {run + 1}: CPU {cpus[0][-1]:.3f} ms without experiments, "
              f"{cpus[1][-1]:.3f} ms demo set, {cpus[2][-1]:.3f} ms ranker vs ranker",
              flush=True)  # fmt: skip
    mid = statistics.median
    base = mid(cpus[0])
    print(f"median of {args.runs} runs: CPU per decision {base:.3f} ms without experiments; "
          f"demo set + exploration 0.1 {mid(cpus[1]):.3f} ms ({mid(cpus[1]) / base:.3f}x); "
          f"ranker vs ranker + exploration 0.1 {mid(cpus[2]):.3f} ms "
          f"({mid(cpus[2]) / base:.3f}x)")  # fmt: skip
    for service, _ in services:
        await service.close()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--embedded", action="store_true", help="embedded store, not Redis")
    parser.add_argument("--experiments", action="store_true",
                        help="compare without / with the demo's experiments")  # fmt: skip
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    models = prepare(args.cache, 20_000, 500, args.seed)
    vocab = "vocab/customers.npy"
    ids = [str(c) for c in load_version(models, only={vocab}).arrays[vocab].tolist()]
    as_of = datetime.fromtimestamp(serving_cutoff(models) + DAY_S, tz=UTC).isoformat()
    with ExitStack() as stack:
        if args.embedded:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-decide-")))
            url = f"sqlite:///{tmp / 'store.sqlite'}"
        else:
            url = stack.enter_context(redis_server()).url

        async def go() -> None:
            loader = open_store(url + ("" if args.embedded else BULK_QUERY))
            await materialize(loader, models, None)
            await loader.close()
            settings = load_settings(None, env={}, overrides={
                "store_url": url, "models_dir": str(models), "as_of": as_of})  # fmt: skip
            if args.experiments:
                await compare(url, settings, ids, args)
                return
            metrics = Metrics(settings.channels)
            service = make_service(settings, open_service_store(settings), metrics=metrics)
            await service.holder.refresh()
            await timed_run(service, requests(ids, 200, args.seed), metrics)  # warm-up
            medians, p99s, cpus = [], [], []
            for run in range(args.runs):
                cpu = time.process_time()
                times = sorted(await timed_run(service, requests(ids, args.calls, run), metrics))
                cpus.append((time.process_time() - cpu) / args.calls * 1e3)
                medians.append(statistics.median(times) * 1e3)
                p99s.append(times[int(0.99 * (len(times) - 1))] * 1e3)
                print(f"run {run + 1}: wall median {medians[-1]:.2f} ms, p99 {p99s[-1]:.2f} ms; "
                      f"CPU {cpus[-1]:.2f} ms per decision", flush=True)  # fmt: skip
            mid = statistics.median
            print(f"median of {args.runs} runs: wall median {mid(medians):.2f} ms, "
                  f"p99 {mid(p99s):.2f} ms; CPU {mid(cpus):.2f} ms per decision")  # fmt: skip
            if args.profile:
                profiler = cProfile.Profile()
                batch = requests(ids, args.calls, 99)
                start = time.perf_counter()
                profiler.enable()
                await timed_run(service, batch, metrics)
                profiler.disable()
                stage_table(pstats.Stats(profiler), time.perf_counter() - start)
                pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
                if os.environ.get("CALLERS"):
                    pstats.Stats(profiler).print_callers(os.environ["CALLERS"])
            await service.close()

        asyncio.run(go())


if __name__ == "__main__":
    main()
