"""A Redis outage under the real app: reads degrade to channel popularity within their
budget, writes are refused with 503 (never silently dropped or buffered), probes tell the
truth, and the same app recovers by itself once Redis is back on the same port."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from helpers import customer_with_offers, rank_of
from redis_app import RedisApp, redeems, redis_app

from redis_server import RedisServer
from served_version import load_into

if TYPE_CHECKING:
    from training.train import TrainOutcome

STORE_TIMEOUT_S = 0.2
DEGRADED_BUDGET_S = 2.0  # a degraded answer must still come quickly
RECOVERY_DEADLINE_S = 10.0


@pytest.fixture
def app_on_redis(trained: tuple[Path, TrainOutcome], redis: RedisServer) -> Iterator[RedisApp]:
    with redis_app(trained[0], redis, store_timeout_s=STORE_TIMEOUT_S) as app:
        yield app


def _check_outage(s: RedisApp, cid: str, batch: list[dict[str, Any]]) -> None:
    for channel in ("app", "web"):
        decision, took = s.timed("/v1/decisions", {"customer_id": cid, "channel": channel})
        assert took < DEGRADED_BUDGET_S, f"degraded decision took {took:.2f} s"
        assert decision["fallback"] == "store_unavailable"
        assert decision["offers"], "channel popularity still ranks offers"
        assert all(f"popular on {channel}" in o["reasons"] for o in decision["offers"])
        recs, took = s.timed("/v1/recommendations", {"customer_id": cid, "channel": channel})
        assert took < DEGRADED_BUDGET_S, f"degraded recommendation took {took:.2f} s"
        assert recs["fallback"] == "store_unavailable"
        assert recs["items"], "channel popularity still recommends items"
        assert all(i["reasons"] == [f"popular on {channel}"] for i in recs["items"])

    ready = s.call("GET", "/health/ready")
    assert ready.status_code == 503, ready.text
    assert ready.json()["ready"] is False
    refused = s.events(batch)
    assert refused.status_code == 503, refused.text
    assert refused.headers["retry-after"] == "1"
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["status"] == 503
    assert problem["type"].endswith("/store-unavailable")
    assert s.call("GET", "/health/live").status_code == 200


def _await_recovery(s: RedisApp, cid: str) -> dict[str, Any]:
    """Poll (no restart of the app) until decisions use the model again, or fail."""
    deadline = time.monotonic() + RECOVERY_DEADLINE_S
    while True:
        decision = s.decide(cid, "app")
        if decision["fallback"] is None:
            return decision
        assert time.monotonic() < deadline, f"no recovery after 10 s: {decision['fallback']}"


def test_a_redis_outage_degrades_reads_refuses_writes_and_recovers(app_on_redis: RedisApp) -> None:
    s = app_on_redis
    cid = customer_with_offers(s.client, ("app",))
    healthy = s.decide(cid, "app")
    assert healthy["fallback"] is None
    assert s.call("GET", "/health/ready").status_code == 200
    top_two = [o["offer_id"] for o in healthy["offers"][:2]]
    batch = redeems(cid, top_two, s.now)

    s.redis.stop()
    _check_outage(s, cid, batch)

    # Restarted without persistence (RedisServer has none), so its data is gone:
    # materialise the version again; the app itself is neither restarted nor told.
    s.redis.start()
    load_into(s.redis.url, s.models)
    recovered = _await_recovery(s, cid)
    assert [o["offer_id"] for o in recovered["offers"][:2]] == top_two, "nothing was recorded"
    assert s.call("GET", "/health/ready").status_code == 200

    # The batch refused during the outage was not kept anywhere: it is new now.
    accepted = s.events(batch)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json() == {"accepted": len(batch), "duplicates": 0}
    after = s.decide(cid, "app", k=50)
    assert after["fallback"] is None
    assert after["offers"], "other offers are still eligible"
    assert all(rank_of(after, offer) is None for offer in top_two)
    again = s.events(batch)
    assert again.json() == {"accepted": 0, "duplicates": len(batch)}

    refused = [("/health/ready", 503), ("/v1/events", 503)]
    errors = [a for a in s.answers if a[1] >= 500]
    assert set(errors) <= set(refused), errors
    assert len(errors) == 2, errors
