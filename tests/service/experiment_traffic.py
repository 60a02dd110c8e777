"""Simulated experiment traffic through the real app, with a known truth.

Customers are assigned to a variant (the service's own assignment when its answer
carries `experiments`, else GrowthBook's hash here), get a decision from
`/v1/decisions`, and respond to the top offer through `/v1/feedback` with a known
probability per variant (impression always, click with `truth[variant]`); a purchase
follows a click through `/v1/events`. A decision the service did not log itself is
appended to the store's decision log as the LoggedDecision it would write (the
decision path logs its own once experiments are wired into it)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import numpy as np
from litestar.testing import TestClient

from omnioffer.contracts.decision_log import LoggedDecision, LoggedOffer, decode_line, encode_line
from omnioffer.contracts.experiments import Definitions, Exposure, checksum, encode_definitions
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
    asyncio.run(_install(store_url, defs))
    names = [v.name for v in defs.experiments[0].variants]
    records, served = [], 0
    for i in range(customers):
        cid = f"c{i:07d}"
        r = client.post("/v1/decisions", json={"customer_id": cid, "channel": "web", "k": 3})
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        if not body["offers"]:
            continue
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


async def _install(url: str, defs: Definitions) -> None:
    store = open_store(url)
    try:
        assert await store.put_experiments(checksum(defs), encode_definitions(defs), None)
    finally:
        await store.close()


async def _log(url: str, records: list[LoggedDecision]) -> None:
    store = open_store(url)
    try:
        logged = {decode_line(blob).decision_id for _, blob in await store.read_decisions(
            None, 1_000_000)}  # fmt: skip
        await store.log_decisions([(d.customer_id or "", encode_line(d)) for d in records
                                   if d.decision_id not in logged])  # fmt: skip
    finally:
        await store.close()
