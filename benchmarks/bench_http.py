"""Benchmark the HTTP layer alone: CPU per POST /v1/decisions, in-process, fake decider.

    .venv/bin/python benchmarks/bench_http.py --requests 5000 --runs 5

The real Litestar app (routing, msgspec decoding and validation, dependency injection,
metrics middleware, encoding) drives a decider that answers at once, through raw ASGI
calls: no sockets, no store, no model, so what is left is the framework's and our
controllers' per-request cost. Run it with another checkout's code first on the path
(PYTHONPATH=/tmp/wt-base/src, from that folder) to compare two commits on one machine.
With --secured the same app is also built with an API keys file and a rate limit
(1e6/s: every request is checked and none refused), the request carrying its key;
the two take turns run by run, so their difference is the checks' cost per request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from omnioffer.api.app import create_app
from omnioffer.settings import Settings

try:
    from omnioffer.contracts.http import DecisionRequest, DecisionResponse, OfferOut
except ImportError:  # a checkout from before the house move (f6e4461 and older)
    from omnioffer.api.schemas import (  # type: ignore[no-redef]
        DecisionRequest,
        DecisionResponse,
        OfferOut,
    )

BODY = json.dumps({"customer_id": "c1", "channel": "web", "k": 3}).encode()
SCOPE: dict[str, Any] = {
    "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
    "scheme": "http", "path": "/v1/decisions", "raw_path": b"/v1/decisions",
    "query_string": b"", "root_path": "", "client": ("127.0.0.1", 1),
    "server": ("127.0.0.1", 80),
    "headers": [(b"content-type", b"application/json"),
                (b"content-length", str(len(BODY)).encode())],
}  # fmt: skip


class InstantDecider:
    async def decide(self, request: DecisionRequest) -> DecisionResponse:
        offer = OfferOut(offer_id="o1", title="t", rank=1, propensity=0.1, value=1.0,
                         priority=0.1, reasons=["x"])  # fmt: skip
        return DecisionResponse(decision_id="d", customer_id=request.customer_id,
                                channel=request.channel, model_version="v", offers=[offer],
                                fallback=None, experiments=[])  # fmt: skip

    async def close(self) -> None:
        return None


async def one(app: Any, scope: dict[str, Any]) -> None:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": BODY, "more_body": False}

    status: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app({**scope, "state": {}}, receive, send)
    if status != [200]:
        raise SystemExit(f"unexpected answer {status}")


def secured(folder: Path) -> tuple[Any, dict[str, Any]]:
    """The app with API keys and a never-refusing rate limit, and a scope with its key."""
    from omnioffer.api_keys import KeyFile

    keys = KeyFile(folder / "keys.json")
    key = keys.create("bench", ["decide"])
    keys.write()
    settings = Settings(keys_file=str(keys.path), rate_limit_per_s=1e6, rate_limit_burst=10**6)
    app = create_app(settings, decider=InstantDecider())  # type: ignore[arg-type]
    headers = [*SCOPE["headers"], (b"authorization", f"Bearer {key}".encode())]
    return app, {**SCOPE, "headers": headers}


async def run(requests: int, runs: int, folder: Path | None) -> dict[str, list[float]]:
    apps = {"off": (create_app(Settings(), decider=InstantDecider()), SCOPE)}  # type: ignore[arg-type]
    if folder is not None:
        apps["keys + rate limit"] = secured(folder)
    out: dict[str, list[float]] = {name: [] for name in apps}
    for _ in range(runs):
        for name, (app, scope) in apps.items():
            start = time.process_time()
            for _ in range(requests):
                await one(app, scope)
            out[name].append((time.process_time() - start) / requests * 1e6)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--secured", action="store_true", help="also with keys + rate limit")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-http-") as folder:
        results = asyncio.run(run(args.requests, args.runs, Path(folder) if args.secured else None))
    for name, runs in results.items():
        shown = ", ".join(f"{r:.1f}" for r in runs)
        print(f"CPU per request ({name}): median {statistics.median(runs):.1f} us ({shown})")
    if len(results) > 1:
        (off, on) = (statistics.median(r) for r in results.values())
        print(f"checks on - off: {on - off:+.1f} us per request (x{on / off:.3f})")


if __name__ == "__main__":
    main()
