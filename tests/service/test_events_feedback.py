"""Events, feedback, contact policy, export and cold start through the real app and store."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from helpers import customer_with_offers, decide, post_events, rank_of
from litestar.testing import TestClient

from omnioffer.cli.data import run_validate
from omnioffer.jobs.export_events import export_events
from omnioffer.store import open_store
from served_version import iso


def test_events_are_idempotent_by_event_id(served: tuple[TestClient, float]) -> None:
    client, now = served
    event = {"event_id": "e-1", "customer_id": "c0000003", "channel": "web",
             "event_type": "view", "item_id": "i000001", "timestamp": iso(now - 10)}  # fmt: skip
    assert post_events(client, event) == {"accepted": 1, "duplicates": 0}
    assert post_events(client, event, {**event, "event_id": "e-2"}) == {
        "accepted": 1, "duplicates": 1,
    }  # fmt: skip
    no_id = {k: v for k, v in event.items() if k != "event_id"}
    assert post_events(client, no_id) == {"accepted": 1, "duplicates": 0}
    assert post_events(client, no_id) == {"accepted": 0, "duplicates": 1}, "content-derived id"


def test_a_bad_event_rejects_the_whole_batch_and_names_the_field(
    served: tuple[TestClient, float], embedded_url: str, tmp_path: Path
) -> None:
    client, now = served
    good = {"customer_id": "c0000003", "channel": "web", "event_type": "view",
            "item_id": "i000001", "timestamp": iso(now - 10)}  # fmt: skip
    bad = {**good, "event_type": "purchase", "item_id": None}
    r = client.post("/v1/events", json={"events": [good, bad]})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "$.events[1].item_id"
    r = client.post("/v1/events", json={"events": [{**good, "channel": "fax"}]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "$.events[0].channel"
    n = export_events(open_store(embedded_url), tmp_path / "export").events
    assert n == 0, "nothing of a refused batch was written"


def test_feedback_impressions_cap_an_offer_across_channels(
    served: tuple[TestClient, float],
) -> None:
    client, _ = served
    cid = customer_with_offers(client, ("web", "app"))
    top = decide(client, cid, "web")["offers"][0]["offer_id"]
    for channel in ("web", "app", "web"):  # default cap: 3 impressions per offer per 7 days
        # each impression may lower its propensity (fatigue): it stays served, not on top
        decision = decide(client, cid, channel, k=50)
        assert rank_of(decision, top) is not None, channel
        body = {"decision_id": decision["decision_id"], "offer_id": top,
                "outcome": "impression", "channel": channel}  # fmt: skip
        r = client.post("/v1/feedback", json=body)
        assert r.status_code == 200 and r.json() == {"accepted": True, "duplicate": False}
        assert client.post("/v1/feedback", json=body).json()["duplicate"] is True
    assert rank_of(decide(client, cid, "app", k=50), top) is None


def test_feedback_for_an_unknown_decision_or_offer(served: tuple[TestClient, float]) -> None:
    client, _ = served
    body = {"decision_id": "nope", "offer_id": "o0001", "outcome": "click", "channel": "web"}
    assert client.post("/v1/feedback", json=body).status_code == 404
    decision = decide(client, "c0000001", "web")
    r = client.post("/v1/feedback", json={**body, "decision_id": decision["decision_id"],
                                          "offer_id": "not-served"})  # fmt: skip
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "$.offer_id"


def test_unknown_customers_get_channel_popularity_with_fallback_set(
    served: tuple[TestClient, float],
) -> None:
    client, _ = served
    decision = decide(client, "someone-new", "web")
    assert decision["fallback"] == "unknown_customer" and decision["offers"]
    assert all("popular on web" in o["reasons"] for o in decision["offers"])
    r = client.post("/v1/recommendations", json={"customer_id": "someone-new", "channel": "web",
                                                 "k": 5, "exclude": []})  # fmt: skip
    body = r.json()
    assert r.status_code == 200 and body["fallback"] == "unknown_customer"
    assert len(body["items"]) == 5


def test_recommendations_never_filter_past_items_but_honour_exclude(
    served: tuple[TestClient, float],
) -> None:
    client, _ = served
    ask = {"customer_id": "c0000001", "channel": "web", "k": 20}
    items = [i["item_id"] for i in client.post("/v1/recommendations", json=ask).json()["items"]]
    assert len(items) == 20
    again = client.post("/v1/recommendations", json={**ask, "exclude": items[:5]}).json()
    assert not set(items[:5]) & {i["item_id"] for i in again["items"]}
    similar = client.get(f"/v1/items/{items[0]}/similar?k=3").json()
    assert len(similar["items"]) == 3 and items[0] not in {i["item_id"] for i in similar["items"]}
    assert client.get("/v1/items/no-such-item/similar").status_code == 404


def test_export_events_writes_a_valid_contract_file(
    served: tuple[TestClient, float], embedded_url: str, tmp_path: Path
) -> None:
    client, now = served
    post_events(
        client,
        {"customer_id": "c0000002", "channel": "store", "event_type": "purchase",
         "item_id": "i000002", "quantity": 2, "revenue": 9.5, "timestamp": iso(now - 50)},
        {"id_type": "cookie", "id_value": "ck-new", "channel": "web", "event_type": "view",
         "item_id": "i000003", "timestamp": iso(now - 40)},
    )  # fmt: skip
    out = tmp_path / "export"
    done = export_events(open_store(embedded_url), out)
    path, n = done.path, done.events
    assert n == 2
    frame = pl.read_parquet(path)
    assert frame.get_column("customer_id").to_list() == ["c0000002", None]
    assert frame.get_column("id_value").to_list() == [None, "ck-new"]
    assert frame.get_column("quantity").to_list() == [2, 1]
    assert run_validate(out) == 0
