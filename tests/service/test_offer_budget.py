"""A per-offer volume budget holds across workers: two apps over one store (two
workers) serve a budgeted offer exactly `offer_budgets[offer]` times in total."""

from __future__ import annotations

import asyncio
from collections import Counter
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from omnioffer.service import create_service_app
from omnioffer.store import open_store
from served_version import AS_OF_DAYS, iso, load_into, service_settings
from training.train import TrainOutcome

CUSTOMERS = [f"c{i:07d}" for i in range(60)]
CHANNELS = ("app", "web")


def _decide(client: TestClient, cid: str, channel: str, **extra: Any) -> list[str]:
    body = {"customer_id": cid, "channel": channel, "k": 3, **extra}
    r = client.post("/v1/decisions", json=body)
    assert r.status_code == 200, r.text
    return [o["offer_id"] for o in r.json()["offers"]]


def _served_counter(url: str, offer_id: str) -> int:
    async def go() -> int:
        store = open_store(url)
        try:
            return (await store.offer_counters([offer_id]))[offer_id].get("served", 0)
        finally:
            await store.close()

    return asyncio.run(go())


def test_a_budgeted_offer_is_served_its_budget_and_no_more(
    trained: tuple[Path, TrainOutcome], tmp_path: Path
) -> None:
    models = trained[0]
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    now = load_into(url, models) + timedelta(days=AS_OF_DAYS).total_seconds()
    plain = service_settings(url, models, as_of=iso(now), replay_clock="frozen")
    with TestClient(create_service_app(plain)) as client:  # previews: nothing counted
        seen = Counter(o for c in CUSTOMERS for ch in CHANNELS
                       for o in _decide(client, c, ch, dry_run=True))  # fmt: skip
    offer, times = seen.most_common(1)[0]
    assert times >= 10, seen
    budget = 4
    policy = {"offer_budgets": {offer: budget}, "budget_refresh_s": 0}
    capped = service_settings(url, models, as_of=iso(now), replay_clock="frozen", policy=policy)
    with ExitStack() as stack:
        workers = [stack.enter_context(TestClient(create_service_app(capped))) for _ in "ab"]
        previews = [_decide(workers[0], c, "app", dry_run=True) for c in CUSTOMERS[:20]]
        assert any(offer in p for p in previews)
        assert _served_counter(url, offer) == 0  # previews count against no budget
        served = [
            _decide(workers[n % 2], cid, ch)
            for n, (cid, ch) in enumerate((c, ch) for c in CUSTOMERS for ch in CHANNELS)
        ]
    with_offer = sum(offer in s for s in served)
    assert with_offer == budget
    assert _served_counter(url, offer) == budget
    assert sum(map(len, served)) > budget * 3  # the others are still served
