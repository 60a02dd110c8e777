"""`omnioffer demo`: the main job end to end on the embedded store.

generate a synthetic retailer -> validate it -> resolve identities -> train,
evaluate and register a model version -> materialize it into the embedded store ->
serve it, ask for one real decision over HTTP and print ready-to-paste curl commands.
A re-run reuses the data, the version and the store, ingested events included
(cli/demo_data.py); --fresh starts over.

`training`, the service stack and the networking modules are imported where they
are used, so building the argument table stays cheap.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omnioffer.cli.args import Subparsers, positive_int
from omnioffer.cli.demo_data import DemoStageError, prepare_demo
from omnioffer.cli.demo_settings import SETTINGS_FILE, write_demo_settings

if TYPE_CHECKING:
    import subprocess

READY_TIMEOUT_S = 90.0


def cmd_demo(args: argparse.Namespace) -> int:
    return run_demo(
        args.out,
        customers=args.customers,
        seed=args.seed,
        models=args.models,
        port=args.port,
        keep_serving=not args.exit_after_decision,
        fresh=args.fresh,
    )


def run_demo(
    out: Path,
    *,
    customers: int = 20_000,
    seed: int = 7,
    models: Path = Path("models"),
    port: int = 8000,
    keep_serving: bool = True,
    fresh: bool = False,
) -> int:
    """Run every stage, reusing what an earlier run left (cli/demo_data.py); stop at
    the first one that fails."""
    try:
        prepare_demo(out, customers=customers, seed=seed, models=models, fresh=fresh)
    except DemoStageError as failed:
        return failed.code
    print("\n== 5/5 materialize into the embedded store and serve", flush=True)
    return serve_demo(models, out, port=port, keep_serving=keep_serving)


def _free_port(preferred: int) -> int:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])


def _load(store_url: str, models: Path) -> tuple[str, float]:
    import asyncio

    from omnioffer.contracts.payloads import CATALOG, decode_catalog
    from omnioffer.jobs.materialize import materialize
    from omnioffer.store import open_store

    async def go() -> tuple[str, float]:
        store = open_store(store_url)
        try:
            name, count = await materialize(store, models)
            blob = await store.get_global(name, CATALOG)
            print(f"materialized {name}: {count:,} customers into {store_url}")
            return name, decode_catalog(blob).cutoff if blob else time.time()
        finally:
            await store.close()

    return asyncio.run(go())


def _call(url: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    import urllib.error
    import urllib.request

    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, None


def _wait_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the service exited with code {server.returncode}")
        status, _ = _call(f"{base}/health/ready")
        if status == 200:
            return
        time.sleep(0.2)  # waiting for another process to start listening
    raise SystemExit(f"the service was not ready within {READY_TIMEOUT_S:.0f} s")


def _example(base: str) -> dict[str, Any]:
    """A known customer who gets offers on the app, to show a real decision."""
    for i in range(1, 200):
        body = {"customer_id": f"c{i:07d}", "channel": "app", "k": 3}
        status, answer = _call(f"{base}/v1/decisions", body)
        if status == 200 and answer["offers"] and answer["fallback"] is None:
            return body
    return {"customer_id": "c0000001", "channel": "app", "k": 3}


DEMO_EXPERIMENTS = """\
# The demo's experiments (docs/experiments.md): a 5 % universal holdout, and the
# ranker against plain popularity on the other 95 %, half and half.
format = 1

[holdout]
share = 0.05

[[experiments]]
id = "ranker-vs-popular"
description = "does the ranker beat plain popularity?"
status = "running"

[[experiments.variants]]
name = "ranker"
weight = 0.5
strategy = "ranker"

[[experiments.variants]]
name = "popular"
weight = 0.5
strategy = "popular"
"""


def write_demo_experiments(out: Path) -> Path:
    """The demo's experiments file (rewritten each run, so it is always this one)."""
    path = out / "experiments.toml"
    path.write_text(DEMO_EXPERIMENTS)
    return path


def serve_demo(
    models: Path,
    out: Path,
    *,
    port: int = 8000,
    keep_serving: bool = True,
    settings_file: Path = SETTINGS_FILE,
) -> int:
    """Materialize into the embedded store beside `out`, leave the settings that serve it
    in `settings_file` (cli/demo_settings.py), serve, show one real decision."""
    import subprocess

    store_url = f"sqlite:///{(out / 'store.sqlite').resolve()}"
    _, cutoff = _load(store_url, models)
    as_of = (datetime.fromtimestamp(cutoff, tz=UTC) + timedelta(hours=12)).isoformat()
    experiments = write_demo_experiments(out).resolve()
    left = write_demo_settings(settings_file, store_url=store_url, models=models, as_of=as_of,
                               experiments=experiments)  # fmt: skip
    if left:
        print(f"wrote {settings_file}: a plain `omnioffer serve` here serves this demo later")
    else:
        print(f"left {settings_file} alone (not written by the demo); serve this demo with"
              " the flags below")  # fmt: skip
    port = _free_port(port)
    base = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "omnioffer", "serve", "--port", str(port), "--store",
           store_url, "--models", str(models), "--as-of", as_of]  # fmt: skip
    print(f"starting the service on {base} (replay clock {as_of}); its log, one line per"
          " request, goes to stderr ...", flush=True)  # fmt: skip
    print(f"experiments running ({experiments}): holdout 5 %, ranker vs popular 50/50;"
          f" see {base}/v1/experiments", flush=True)  # fmt: skip
    env = {**os.environ, "OMNIOFFER_LOG_FORMAT": "human",
           "OMNIOFFER_EXPERIMENTS_FILE": str(experiments)}  # fmt: skip
    server = subprocess.Popen(cmd, env=env)
    try:
        _wait_ready(base, server)
        body = _example(base)
        status, answer = _call(f"{base}/v1/decisions", body)
        print(f"\nPOST /v1/decisions {json.dumps(body)} -> {status}")
        print(json.dumps(answer, indent=2))
        if not keep_serving:  # the curls below need a server: say how to start one again
            print("\nThe service stops now (--exit-after-decision). Serve it again with:")
            print("  " + " ".join(["omnioffer", *cmd[3:]]))
            if left:
                print(f"  or just `omnioffer serve` here (it reads {settings_file})")
        print("\nTry it yourself" + ("" if keep_serving else " (once it serves)") + ":")
        print(f"  curl -s {base}/v1/decisions -H 'content-type: application/json' \\")
        print(f"    -d '{json.dumps(body)}'")
        print(f"  curl -s {base}/v1/recommendations -H 'content-type: application/json' \\")
        print(f"    -d '{json.dumps({**body, 'channel': 'web', 'k': 5})}'")
        print(f"  open {base}/schema for the API reference")
        print(f"  open {base}/dashboard for the experiments and the holdout's lift")
        if status != 200:
            return 1
        if keep_serving:
            print("\nserving until Ctrl-C ...", flush=True)
            server.wait()
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def add_demo(sub: Subparsers) -> None:
    p = sub.add_parser("demo", help="generate, train, materialize and serve a demo retailer")
    p.add_argument("--out", type=Path, default=Path("demo-data"), help="default ./demo-data")
    p.add_argument("--customers", type=positive_int, default=20_000, help="default 20000")
    p.add_argument("--seed", type=int, default=7, help="default 7")
    p.add_argument("--models", type=Path, default=Path("models"), help="registry, default models/")
    p.add_argument("--port", type=int, default=8000, help="default 8000 (or a free one)")
    p.add_argument(
        "--exit-after-decision",
        action="store_true",
        help="stop the service after the first decision instead of serving until Ctrl-C",
    )
    p.add_argument(
        "--fresh",
        action="store_true",
        help="regenerate, retrain and start a new store (a re-run otherwise keeps them)",
    )
    p.set_defaults(handler=cmd_demo)
