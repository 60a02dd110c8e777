"""Experiments in the service, through the real app on both stores (Redis real): the
admin API, the holdout on every channel, sticky variants across channels and workers,
stopping, the decision log and bad input naming the JSON path.

Two app instances over one store stand for two workers. model_poll_s is tiny, and the
poll runs inline on the request path, so the first request after a write on the other
instance reads the new set: no sleep, nothing timed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from omnioffer.contracts.decision_log import LoggedDecision
from omnioffer.contracts.experiments import Definitions, Holdout
from omnioffer.decide.assignment import Assigner
from omnioffer.service import create_service_app
from omnioffer.store import open_store
from redis_server import RedisServer
from served_version import AS_OF_DAYS, iso, load_into, service_settings
from training.train import TrainOutcome

CHANNELS = ("web", "app", "email", "store")
JSON = {"Content-Type": "application/json"}
AB = {"status": "running", "variants": [{"name": "ranker", "weight": 0.5, "strategy": "ranker"},
                                         {"name": "popular", "weight": 0.5,
                                          "strategy": "popular"}]}  # fmt: skip


@pytest.fixture(params=["embedded", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Either store; Redis is conftest's private redis-server (fails when it is missing)."""
    if request.param == "embedded":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    server: RedisServer = request.getfixturevalue("redis")
    return server.url


@pytest.fixture
def two_apps(
    trained: tuple[Path, TrainOutcome], store_url: str
) -> Iterator[tuple[TestClient, TestClient, str, float]]:
    """Two instances of the real app (two workers) over one store."""
    models, _ = trained
    now = load_into(store_url, models) + timedelta(days=AS_OF_DAYS).total_seconds()
    settings = service_settings(store_url, models, as_of=iso(now), replay_clock="frozen",
                                model_poll_s=1e-6)  # fmt: skip
    with ExitStack() as stack:
        a = stack.enter_context(TestClient(create_service_app(settings)))
        b = stack.enter_context(TestClient(create_service_app(settings)))
        yield a, b, store_url, now


def put(client: TestClient, path: str, body: Any, **headers: str) -> Any:
    r = client.put(path, content=msgspec.json.encode(body), headers={**JSON, **headers})
    assert r.status_code == 200, r.text
    return r.json()


def decide(client: TestClient, cid: str, channel: str, **extra: Any) -> dict[str, Any]:
    r = client.post("/v1/decisions", json={"customer_id": cid, "channel": channel, **extra})
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def decision_log(url: str) -> list[LoggedDecision]:
    async def go() -> list[tuple[str, bytes]]:
        store = open_store(url)
        try:
            return await store.read_decisions(None, 100_000)
        finally:
            await store.close()

    return [msgspec.json.decode(p, type=LoggedDecision) for _, p in asyncio.run(go())]


def test_a_5_percent_holdout_gets_no_personalised_decision_on_any_channel(
    two_apps: tuple[TestClient, TestClient, str, float],
) -> None:
    a, b, url, _ = two_apps
    assert a.get("/v1/decisions").status_code == 405
    written = put(a, "/v1/holdout", {"share": 0.05})
    assigner = Assigner(Definitions(holdout=Holdout(share=0.05)))
    held = [f"c{i:07d}" for i in range(1, 400) if assigner.held_out(f"c{i:07d}")]
    assert 5 <= len(held) <= 40, "about 5 % of 400"
    others = [f"c{i:07d}" for i in range(1, 40) if f"c{i:07d}" not in held]
    for n, cid in enumerate(held):
        for channel in CHANNELS:
            got = decide(a if n % 2 else b, cid, channel)
            assert got["holdout"] is True and got["offers"] == [] and got["experiments"] == []
            assert got["fallback"] in (None, "unknown_customer")
        rec = b.post("/v1/recommendations", json={"customer_id": cid, "channel": "web"})
        assert rec.status_code == 200 and rec.json()["items"] == [] and rec.json()["holdout"]
    served = [decide(a, cid, "web") for cid in others]
    assert all("holdout" not in s for s in served)
    assert any(s["offers"] for s in served), "the others are served"
    log = decision_log(url)
    assert len(log) == len(held) * len(CHANNELS) + len(others)
    assert all(r.offers == [] for r in log if r.holdout)
    assert sum(r.holdout for r in log) == len(held) * len(CHANNELS)
    assert a.get("/v1/holdout").json() == {"checksum": written["checksum"],
                                           "holdout": {"share": 0.05, "treatment": "none",
                                                       "salt": "omnioffer-holdout"}}  # fmt: skip


def test_variants_stick_across_channels_and_workers_and_stopping_ends_them(
    two_apps: tuple[TestClient, TestClient, str, float],
) -> None:
    a, b, url, _ = two_apps
    assert b.get("/v1/experiments").json()["experiments"] == []
    written = put(a, "/v1/experiments/ab", AB)  # written on one worker ...
    assert written["experiment"]["salt"] == "ab"
    variants: dict[str, str] = {}
    for i in range(1, 61):
        cid = f"c{i:07d}"
        seen = {(x["id"], x["variant"]) for ch in CHANNELS for c in (a, b)
                for x in decide(c, cid, ch)["experiments"]}  # fmt: skip
        assert len(seen) == 1, (cid, seen)  # ... served by both, one variant everywhere
        variants[cid] = next(iter(seen))[1]
    assert set(variants.values()) == {"ranker", "popular"}
    popular = next(c for c, v in variants.items() if v == "popular")
    offers = decide(b, popular, "web")["offers"]
    assert offers and all("predicted response" not in " ".join(o["reasons"]) for o in offers)
    metrics = a.get("/metrics").text
    assert 'omnioffer_experiment_decisions_total{experiment="ab",variant="popular"}' in metrics
    stopped = b.post("/v1/experiments/ab/stop", headers={"If-Match": written["checksum"]})
    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["experiment"]["status"] == "stopped"
    for cid in list(variants)[:10]:  # the next decision, on either worker: the default policy
        assert decide(a, cid, "web")["experiments"] == []
        assert decide(b, cid, "app")["experiments"] == []
    logged = decision_log(url)
    assert {r.strategy for r in logged if r.experiments} == {"ranker", "popular"}
    assert all(not r.experiments for r in logged[-20:])


def test_an_anonymous_id_keeps_its_variant_once_linked(
    two_apps: tuple[TestClient, TestClient, str, float],
) -> None:
    a, b, _, now = two_apps
    put(a, "/v1/experiments/ab", AB)
    anon: dict[str, str] = {}
    n = 200
    for i in range(n):
        r = a.post("/v1/decisions", json={"id_type": "cookie", "id_value": f"ck{i}",
                                          "channel": "web"})  # fmt: skip
        anon[f"ck{i}"] = r.json()["experiments"][0]["variant"]
    own = Assigner(msgspec.convert({"experiments": [{"id": "ab", "salt": "ab", **AB}]},
                                   Definitions))  # fmt: skip
    events = [{"customer_id": f"c{9_000_000 + i:07d}", "id_type": "cookie", "id_value": f"ck{i}",
               "channel": "web", "event_type": "view", "item_id": "i000001",
               "timestamp": iso(now - 60)} for i in range(n)]  # fmt: skip
    for start in range(0, n, 100):
        r = b.post("/v1/events", json={"events": events[start : start + 100]})
        assert r.status_code == 200, r.text
    moved = 0
    for i in range(n):
        cid = f"c{9_000_000 + i:07d}"
        got = decide(b if i % 2 else a, cid, "app")["experiments"][0]["variant"]
        assert got == anon[f"ck{i}"], cid
        mine = own.assign(cid, "app", 0.0).exposures[0].variant
        moved += mine != got
    assert moved > n // 5, "the customers' own hash would have moved many of them"


def test_exploration_logs_exact_propensities_never_zero(
    two_apps: tuple[TestClient, TestClient, str, float],
) -> None:
    a, _, url, _ = two_apps
    body = {"status": "running", "variants": [
        {"name": "explore", "weight": 0.5, "exploration": 0.5},
        {"name": "explore2", "weight": 0.5, "exploration": 0.5}]}  # fmt: skip
    put(a, "/v1/experiments/eps", body)
    for i in range(1, 81):
        decide(a, f"c{i:07d}", "web", k=3)
    decide(a, "c0000001", "web", dry_run=True)  # a preview is not logged
    log = decision_log(url)
    assert len(log) == 80
    assert {r.explored for r in log} == {True, False}
    for r in log:
        assert r.exploration == 0.5 and r.experiments[0].variant.startswith("explore")
        for o in r.offers:
            greedy = 0.0 if r.explored else 1.0  # an unexplored slate is the ranking itself
            if r.explored:
                continue  # an explored slate may still match the ranking: checked in unit tests
            assert o.propensity == pytest.approx(0.5 * greedy + 0.5 / r.eligible)
        assert all(o.propensity >= 0.5 / r.eligible > 0 for o in r.offers)


def test_bad_admin_input_names_the_json_path(
    two_apps: tuple[TestClient, TestClient, str, float],
) -> None:
    a, *_ = two_apps

    def refused(path: str, body: Any, status: int = 422, **headers: str) -> str:
        raw = body if isinstance(body, bytes) else msgspec.json.encode(body)
        r = a.put(path, content=raw, headers={**JSON, **headers})
        assert r.status_code == status, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        problem = r.json()
        return str(problem["errors"][0]["field"]) if problem.get("errors") else problem["detail"]

    weights = {"status": "running", "variants": [{"name": "a", "weight": 0.5},
                                                 {"name": "b", "weight": 0.4}]}  # fmt: skip
    assert refused("/v1/experiments/x", weights).startswith("$.variants")
    typo = {
        "variants": [{"name": "a", "weight": 0.5, "strategi": "none"}, {"name": "b", "weight": 0.5}]
    }
    assert "$.variants[0].strategi" in refused("/v1/experiments/x", typo, 422)
    unmaterialized = {
        "variants": [
            {"name": "a", "weight": 0.5},
            {"name": "b", "weight": 0.5, "model_version": "v-none"},
        ]
    }
    assert refused("/v1/experiments/x", unmaterialized) == "$.variants[1].model_version"
    als = {
        "variants": [{"name": "a", "weight": 0.5}, {"name": "b", "weight": 0.5, "strategy": "als"}]
    }
    assert refused("/v1/experiments/x", als) == "$.variants[1].strategy"
    assert refused("/v1/holdout", {"share": 1.5}) == "$.share"
    assert refused("/v1/experiments/x", b"{not json") == "$"
    two = {"variants": [{"name": "a", "weight": 0.5}, {"name": "b", "weight": 0.5}]}
    put(a, "/v1/experiments/ok", two)
    assert "not" in refused("/v1/experiments/ok", two, 412, **{"If-Match": "0" * 64})
    assert a.get("/v1/experiments/nope").status_code == 404
    assert a.post("/v1/experiments/nope/stop").status_code == 404
    assert [e["id"] for e in a.get("/v1/experiments").json()["experiments"]] == ["ok"]
