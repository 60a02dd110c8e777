"""What the API fuzzer runs against: `omnioffer serve` in a process of its own on a free
port (a version materialised into the store, a keys file, a settings file with a
[policy] so reloads answer 200, a frozen replay clock), plus the ids that exist in it,
so that the fuzzer's schema-valid requests can name real customers, identifiers, items,
offers and decisions and reach the 200 paths. Shared by tests/service/test_fuzz_api.py
and benchmarks/fuzz_api.py."""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import polars as pl

from omnioffer.api_keys import SCOPES, KeyFile
from redis_server import free_port
from served_version import AS_OF_DAYS, iso, load_into

START_DEADLINE_S = 60.0
REAL_SHARE = 0.8  # of the ids in a schema-valid request, the share swapped for real ones
HISTORY_S = 7 * 86_400.0  # realistic event timestamps: within the week before the clock


@dataclass
class World:
    """The ids that exist in the served version, and the decisions served so far."""

    now: float
    customers: list[str]
    identities: list[tuple[str, str]]
    items: list[str]  # items with factors (similar items answers 200 for them)
    offers: list[str]
    decisions: dict[str, list[str]] = field(default_factory=dict)  # id -> offers served

    @classmethod
    def of(cls, models: Path, now: float) -> World:
        version = models / (models / "current").read_text(encoding="utf-8").strip()
        serving = version / "serving"
        identities = pl.read_parquet(serving / "identities.parquet").head(500)
        return cls(
            now=now,
            customers=pl.read_parquet(serving / "customers.parquet")["customer_key"].to_list(),
            identities=list(zip(identities["id_type"], identities["id_value"], strict=True)),
            items=[str(i) for i in np.load(version / "vocab" / "items.npy", allow_pickle=False)],
            offers=pl.read_parquet(serving / "offers.parquet")["offer_id"].to_list(),
        )

    def remember(self, answer: dict[str, Any]) -> None:
        """A decision the service answered (feedback can then name it and its offers)."""
        if not answer.get("dry_run") and answer.get("fallback") != "store_unavailable":
            self.decisions[answer["decision_id"]] = [o["offer_id"] for o in answer["offers"]]


class Realistic:
    """Swaps the ids of a schema-valid request body for ones that exist, and event
    timestamps for instants of the last week (a valid body may still name nobody, or be
    ahead of the clock, which only the service can know). Deterministic per body, so
    hypothesis replays and shrinks what it found."""

    def __init__(self, world: World, seed: Any) -> None:
        self.world = world
        digest = hashlib.sha256(json.dumps(seed, sort_keys=True, default=str).encode())
        self.rng = random.Random(digest.digest())

    def _real(self) -> bool:
        return self.rng.random() < REAL_SHARE

    def path(self, parameters: dict[str, Any]) -> None:
        if "item_id" in parameters and self._real():
            parameters["item_id"] = self.rng.choice(self.world.items)

    def body(self, body: Any) -> None:
        if not isinstance(body, dict):
            return
        self._who(body)
        for name, pool in (("explain", self.world.offers), ("exclude", self.world.items)):
            if isinstance(body.get(name), list):
                body[name] = [self.rng.choice(pool) if self._real() else v for v in body[name]]
        context = body.get("context")
        if isinstance(context, dict) and isinstance(context.get("cart"), list):
            context["cart"] = [self.rng.choice(self.world.items) for _ in context["cart"]]
        for event in body.get("events") or ():
            self._event(event)
        if "decision_id" in body and self.world.decisions and self._real():
            served = [(d, o) for d, offers in self.world.decisions.items() for o in offers]
            if served:
                body["decision_id"], body["offer_id"] = self.rng.choice(sorted(served))

    def _who(self, body: dict[str, Any]) -> None:
        if isinstance(body.get("customer_id"), str) and self._real():
            body["customer_id"] = self.rng.choice(self.world.customers)
        if isinstance(body.get("id_type"), str) and self._real():
            body["id_type"], body["id_value"] = self.rng.choice(self.world.identities)

    def _event(self, event: dict[str, Any]) -> None:
        self._who(event)
        stamp = self.world.now - self.rng.random() * HISTORY_S
        event["timestamp"] = iso(stamp) if isinstance(event["timestamp"], str) else stamp
        for name, pool in (("item_id", self.world.items), ("offer_id", self.world.offers)):
            if isinstance(event.get(name), str) and self._real():
                event[name] = self.rng.choice(pool)


@dataclass
class Tally:
    """Every answer the fuzzer got: (operation, generation mode, status) -> count."""

    answers: Counter[tuple[str, str, int]] = field(default_factory=Counter)

    def add(self, operation: str, mode: str, status: int) -> None:
        self.answers[(operation, mode, status)] += 1

    def share_2xx(self, mode: str = "positive") -> float:
        calls = [(s, n) for (_, m, s), n in self.answers.items() if m == mode]
        total = sum(n for _, n in calls)
        return sum(n for s, n in calls if 200 <= s < 300) / total if total else 0.0

    def operations_with_2xx(self) -> set[str]:
        return {op for (op, _, status) in self.answers if 200 <= status < 300}

    def as_json(self) -> list[dict[str, Any]]:
        return [{"operation": op, "mode": mode, "status": status, "calls": n}
                for (op, mode, status), n in sorted(self.answers.items())]  # fmt: skip


@dataclass
class Target:
    """A served service: its base URL, an API key of every scope, its ids, its answers."""

    url: str
    key: str
    world: World
    log: Path
    store: str  # the store URL's scheme
    tally: Tally = field(default_factory=Tally)


@contextmanager
def serve(models: Path, store_url: str, root: Path) -> Iterator[Target]:
    """`omnioffer serve` over a version materialised into `store_url`, until the block ends."""
    now = load_into(store_url, models) + timedelta(days=AS_OF_DAYS).total_seconds()
    keys = KeyFile(root / "keys.json")
    key = keys.create("fuzzer", list(SCOPES))
    keys.write()
    port = free_port()
    config = root / "settings.toml"
    config.write_text(
        f'store_url = "{store_url}"\nmodels_dir = "{models}"\nkeys_file = "{root / "keys.json"}"\n'
        f'port = {port}\nas_of = "{iso(now)}"\nreplay_clock = "frozen"\n'
        'log_level = "warning"\nlog_format = "json"\n[policy]\ndaily_cap = 6\n',
        encoding="utf-8",
    )
    log = root / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "omnioffer", "serve", "--config",
                                    str(config)], stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_live(url, process, log)
        target = Target(url, key, World.of(models, now), log, store_url.split(":", 1)[0])
        _seed_decisions(target)
        yield target
    finally:  # nothing of it is kept (the store and its files go with the test): no grace
        process.kill()
        process.wait(timeout=10)


def _wait_until_live(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_DEADLINE_S
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"omnioffer serve exited {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"omnioffer serve not live after {START_DEADLINE_S} s")
        time.sleep(0.05)  # polling interval, not synchronisation


def _seed_decisions(target: Target) -> None:
    """A few decisions before fuzzing starts, so feedback has real decisions to name."""
    headers = {"Authorization": f"Bearer {target.key}"}
    for customer in target.world.customers[:20]:
        body = {"customer_id": customer, "channel": "app", "k": 3}
        answer = httpx.post(f"{target.url}/v1/decisions", json=body, headers=headers, timeout=10)
        answer.raise_for_status()
        target.world.remember(answer.json())
