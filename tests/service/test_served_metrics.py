"""/metrics of the real app: offers served and their outcomes per offer and channel (label
sets bounded), the served model, store latency per operation and event ingest lag."""

from __future__ import annotations

from collections import Counter
from typing import Any

from helpers import decide, post_events
from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families

from served_version import iso

Labels = frozenset[tuple[str, str]]
Samples = dict[tuple[str, Labels], float]


def samples(client: TestClient) -> Samples:
    text = client.get("/metrics").text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def series(found: Samples, name: str) -> dict[Labels, float]:
    return {labels: v for (n, labels), v in found.items() if n == name}


def key(**labels: str) -> Labels:
    return frozenset(labels.items())


class Decisions:
    """Every decision the test makes, so the served counters can be checked exactly."""

    def __init__(self, client: TestClient) -> None:
        self.client, self.served = client, Counter[Labels]()

    def make(self, customer: str, channel: str) -> dict[str, Any]:
        decision = decide(self.client, customer, channel)
        for offer in decision["offers"]:
            self.served[key(offer=offer["offer_id"], channel=channel)] += 1
        return decision

    def with_offers(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """A customer's decisions on web (two offers or more) and on app (one or more)."""
        for i in range(100):
            web, app = (self.make(f"c{i:07d}", ch) for ch in ("web", "app"))
            if len(web["offers"]) >= 2 and app["offers"]:
                return web, app
        raise AssertionError("no customer among the first 100 with offers on web and app")


def feedback(client: TestClient, decision: dict[str, Any], rank: int, outcome: str) -> bool:
    body = {"decision_id": decision["decision_id"], "channel": decision["channel"],
            "offer_id": decision["offers"][rank]["offer_id"], "outcome": outcome}  # fmt: skip
    r = client.post("/v1/feedback", json=body)
    assert r.status_code == 200, r.text
    accepted: bool = r.json()["accepted"]
    return accepted


def test_served_offers_their_outcomes_and_the_model(served: tuple[TestClient, float]) -> None:
    client, now = served
    made = Decisions(client)
    web, app = made.with_offers()
    preview = {"customer_id": web["customer_id"], "channel": "web", "dry_run": True}
    assert client.post("/v1/decisions", json=preview).status_code == 200  # not counted
    cid, first, second = web["customer_id"], web["offers"][0], web["offers"][1]

    assert feedback(client, web, 0, "redeem") and feedback(client, web, 1, "dismiss")
    assert not feedback(client, web, 0, "redeem"), "a duplicate is not counted again"
    offer_event = {"customer_id": cid, "channel": "app", "timestamp": iso(now - 120)}
    events = [{**offer_event, "event_id": "m-1", "event_type": "offer_impression",
               "offer_id": app["offers"][0]["offer_id"]},
              {**offer_event, "event_id": "m-2", "event_type": "offer_click",
               "offer_id": app["offers"][0]["offer_id"]},
              {**offer_event, "event_id": "m-3", "event_type": "offer_impression",
               "offer_id": "o-not-in-the-catalog"},
              {**offer_event, "event_id": "m-4", "event_type": "view", "item_id": "i000001",
               "timestamp": iso(now - 7200)}]  # fmt: skip
    assert post_events(client, *events) == {"accepted": 4, "duplicates": 0}
    assert post_events(client, events[0], events[1]) == {"accepted": 0, "duplicates": 2}

    found = samples(client)
    assert series(found, "omnioffer_offers_served_total") == made.served
    assert series(found, "omnioffer_offer_outcomes_total") == {
        key(offer=first["offer_id"], channel="web", outcome="redeem"): 1.0,
        key(offer=second["offer_id"], channel="web", outcome="dismiss"): 1.0,
        key(offer=app["offers"][0]["offer_id"], channel="app", outcome="impression"): 1.0,
        key(offer=app["offers"][0]["offer_id"], channel="app", outcome="click"): 1.0,
        key(offer="other", channel="app", outcome="impression"): 1.0,  # bounded: not in catalog
    }
    assert series(found, "omnioffer_model_info") == {key(version=web["model_version"]): 1.0}


def test_an_unknown_channel_adds_no_series(served: tuple[TestClient, float]) -> None:
    client, _ = served
    made = Decisions(client)
    made.make("c0000001", "web")
    r = client.post("/v1/decisions", json={"customer_id": "c0000001", "channel": "fax"})
    assert r.status_code == 422
    text = client.get("/metrics").text
    assert 'channel="fax"' not in text and 'channel="web"' in text


def test_store_latency_per_operation_and_ingest_lag(served: tuple[TestClient, float]) -> None:
    client, now = served
    made = Decisions(client)
    web, _ = made.with_offers()
    view = {"customer_id": web["customer_id"], "channel": "web", "event_type": "view",
            "item_id": "i000001"}  # fmt: skip
    post_events(client, {**view, "event_id": "l-1", "timestamp": iso(now - 30)},
                {**view, "event_id": "l-2", "timestamp": iso(now - 7200)})  # fmt: skip
    post_events(client, {**view, "event_id": "l-1", "timestamp": iso(now - 30)})  # duplicate
    assert feedback(client, web, 0, "click")  # stamped on arrival: lag 0

    found = samples(client)
    count = series(found, "omnioffer_store_duration_seconds_count")
    assert count[key(operation="ingest")] == 3.0, "two event batches and one feedback"
    assert count[key(operation="recall_decision")] == 1.0
    assert count[key(operation="fetch_customer")] >= 2.0
    lag = series(found, "omnioffer_event_ingest_lag_seconds_bucket")
    assert lag[key(le="1.0")] == 1.0, "the feedback"
    assert lag[key(le="60.0")] == 2.0, "and the event 30 s old; the duplicate is not observed"
    assert lag[key(le="3600.0")] == 2.0 and lag[key(le="14400.0")] == 3.0, "2 h old"
