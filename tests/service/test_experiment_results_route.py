"""`GET /v1/experiments/{id}/results` through the real app over real stores, fed by
simulated traffic with a known truth (tests/service/experiment_traffic.py): the lift's
CI covers the true lift, the answer equals the computation over the store's logs, and
bad requests get problem bodies naming the parameter."""

from __future__ import annotations

import asyncio

import experiment_traffic as traffic
import msgspec
from litestar.testing import TestClient

from omnioffer.contracts.experiment_results import Query
from omnioffer.decide.experiment_defs import definitions_from_json
from omnioffer.jobs.experiment_inputs import results_from_store
from omnioffer.store import open_store

DEFS = definitions_from_json(msgspec.json.encode({"experiments": [{
    "id": traffic.EXPERIMENT, "status": "running",
    "variants": [{"name": "control", "weight": 0.5}, {"name": "treatment", "weight": 0.5}],
}]}))  # fmt: skip
TRUTH = traffic.Traffic(response={"control": 0.15, "treatment": 0.45})


def _computed(url: str, query: Query) -> dict[str, object]:
    async def go() -> dict[str, object]:
        store = open_store(url)
        try:
            return msgspec.to_builtins(await results_from_store(store, traffic.EXPERIMENT, query))
        finally:
            await store.close()

    return asyncio.run(go())


def test_results_route_covers_the_simulated_truth(
    served: tuple[TestClient, float], embedded_url: str
) -> None:
    client, now = served
    shown = traffic.run(client, embedded_url, DEFS, TRUTH, now, customers=300, seed=4)
    assert shown >= 200
    r = client.get(f"/v1/experiments/{traffic.EXPERIMENT}/results", params={"mode": "fixed"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body == _computed(embedded_url, Query(mode="fixed"))
    assert body["overall"]["exposed_customers"] == shown
    control, treatment = body["variants"]
    assert control["metrics"]["impressions"] == control["metrics"]["decisions"]
    rate = treatment["lift"]["response_rate"]
    assert rate["method"] == "two_proportion_z+fixed_horizon"
    assert rate["ci_low"] <= TRUTH.lift("treatment", "control") <= rate["ci_high"]
    assert rate["ci_low"] > 0  # and the test has the power to see it
    revenue = treatment["lift"]["revenue_per_exposed"]
    assert revenue["lift"] > 0 and revenue["method"].startswith("welch_delta")
    seq = client.get(f"/v1/experiments/{traffic.EXPERIMENT}/results").json()
    assert seq["mode"] == "sequential"
    s_rate = seq["variants"][1]["lift"]["response_rate"]
    assert s_rate["ci_high"] - s_rate["ci_low"] > rate["ci_high"] - rate["ci_low"]
    web = client.get(f"/v1/experiments/{traffic.EXPERIMENT}/results?channel=app").json()
    assert web["overall"]["exposed_customers"] == 0


def test_results_route_refuses_bad_requests_by_name(served: tuple[TestClient, float]) -> None:
    client, _ = served
    path = f"/v1/experiments/{traffic.EXPERIMENT}/results"
    unknown = client.get("/v1/experiments/nope/results")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    assert "no experiment 'nope'" in unknown.json()["detail"]
    bad_params = (({"mode": "peek"}, "mode"), ({"attribution_days": "0"}, "attribution_days"),
                  ({"attribution_days": "x"}, "attribution_days"))  # fmt: skip
    for params, name in bad_params:
        bad = client.get(path, params=params)
        assert bad.status_code == 400, (params, bad.text)
        assert bad.headers["content-type"].startswith("application/problem+json")
        assert name in str(bad.json()["errors"]), bad.json()
