"""Simulated experiment traffic through the real app, with a known truth.

The experiments go in through `PUT /v1/experiments/{id}`. Customers with an offer to
see (a dry-run decision, which nothing records, says so) get a decision from
`/v1/decisions`, which assigns and logs them; they respond to the top offer through
`/v1/feedback` with a known probability per variant (impression always, click with
`truth[variant]`), and a purchase follows a click through `/v1/events`. A decision
without the experiment in its answer would be logged here with GrowthBook's hash (a
service without experiments on its decision path), so the harness runs either way."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np
from litestar.testing import TestClient

from omnioffer.contracts.decision_log import LoggedDecision, LoggedOffer, decode_line, encode_line
from omnioffer.contracts.experiments import Definitions, Exposure
from omnioffer.decide.bucketing import unit_hash
from omnioffer.store import open_store
from served_version import iso

EXPERIMENT = "sim"


@dataclass(frozen=True)
class Traffic:
    response: dict[str, float]  # variant -> P(click on the top offer)
    revenue: float = 30.0  # a click's purchase

    def lift(self, variant: str, control: str) -> float:
        return self.response[variant] - self.response[control]


def _variant(customer: str, names: list[str]) -> str:
    point = unit_hash(EXPERIMENT, customer, 2)
    assert point is not None
    return names[min(int(point * len(names)), len(names) - 1)]


def run(client: TestClient, store_url: str, defs: Definitions, truth: Traffic, now: float, *,
        customers: int, seed: int) -> int:  # fmt: skip
    """Drive the traffic; the number of decisions that showed an offer (the ones logged)."""
    rng = np.random.default_rng(seed)
    for e in defs.experiments:  # through the admin route: this worker follows at once
        put = client.put(f"/v1/experiments/{e.id}", content=msgspec.json.encode(e))
        assert put.status_code == 200, put.text
    names = [v.name for v in defs.experiments[0].variants]
    records, served = [], 0
    for i in range(customers):
        cid = f"c{i:07d}"
        request = {"customer_id": cid, "channel": "web", "k": 3}
        preview = client.post("/v1/decisions", json={**request, "dry_run": True})
        assert preview.status_code == 200, preview.text
        if not preview.json()["offers"]:
            continue  # only customers with an offer to respond to enter the simulation
        r = client.post("/v1/decisions", json=request)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        assert body["offers"], body
        served += 1
        given = {x["id"]: x["variant"] for x in body.get("experiments", [])}
        variant = given.get(EXPERIMENT) or _variant(cid, names)
        if EXPERIMENT not in given:
            records.append(LoggedDecision(
                decision_id=body["decision_id"], ts=now, customer_id=cid, channel="web",
                model_version=body["model_version"], strategy="ranker",
                experiments=[Exposure(EXPERIMENT, variant)], eligible=len(body["offers"]),
                offers=[LoggedOffer(offer_id=o["offer_id"], rank=o["rank"], score=0.0,
                                    propensity=1.0) for o in body["offers"]],
            ))  # fmt: skip
        top = body["offers"][0]["offer_id"]
        outcomes = ["impression"] + (["click"] if rng.random() < truth.response[variant] else [])
        for outcome in outcomes:
            fb = {"decision_id": body["decision_id"], "offer_id": top, "outcome": outcome,
                  "channel": "web"}  # fmt: skip
            answer = client.post("/v1/feedback", json=fb)
            assert answer.status_code == 200, answer.text
        if "click" in outcomes:
            event = {"customer_id": cid, "channel": "web", "event_type": "purchase",
                     "item_id": "i000001", "revenue": truth.revenue, "timestamp": iso(now),
                     "event_id": f"sim-{i}"}  # fmt: skip
            assert client.post("/v1/events", json={"events": [event]}).status_code == 200
    asyncio.run(_log(store_url, records))
    return served


async def _log(url: str, records: list[LoggedDecision]) -> None:
    store = open_store(url)
    try:
        logged = {decode_line(blob).decision_id for _, blob in await store.read_decisions(
            None, 1_000_000)}  # fmt: skip
        await store.log_decisions([(d.customer_id or "", encode_line(d)) for d in records
                                   if d.decision_id not in logged])  # fmt: skip
    finally:
        await store.close()
