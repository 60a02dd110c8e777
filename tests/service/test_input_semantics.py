"""Inputs the service once took too kindly, refused through the real app: numeric
strings for numbers, an anonymous pseudo-id as a customer id, events from the future."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from served_version import iso


def _problem(r: Any, status: int, field: str) -> None:
    assert r.status_code == status, r.text
    assert field in [e["field"] for e in r.json()["errors"]], r.json()


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/decisions", {"customer_id": "c0000001", "channel": "app", "k": "3"}, "$.k"),
        ("/v1/recommendations", {"customer_id": "c0000001", "channel": "web", "k": "5"}, "$.k"),
        ("/v1/decisions", {"customer_id": "c0000001", "channel": "app", "dry_run": "true"},
         "$.dry_run"),
        ("/v1/events", {"events": [{"customer_id": "c0000001", "channel": "web",
                                    "event_type": "purchase", "item_id": "i000001",
                                    "quantity": "2", "timestamp": 1_700_000_000}]},
         "$.events[0].quantity"),
    ],
)  # fmt: skip
def test_numbers_and_booleans_must_be_json_numbers_and_booleans(
    served: tuple[TestClient, float], path: str, body: dict[str, Any], field: str
) -> None:
    client, _ = served
    _problem(client.post(path, json=body), 400, field)


def test_a_customer_id_that_is_an_anonymous_pseudo_id_is_refused(
    served: tuple[TestClient, float],
) -> None:
    client, now = served
    body = {"customer_id": "anon:cookie:abc", "channel": "app"}
    _problem(client.post("/v1/decisions", json=body), 422, "$.customer_id")
    event = {"customer_id": "anon:cookie:abc", "channel": "web", "event_type": "view",
             "item_id": "i000001", "timestamp": iso(now - 60)}  # fmt: skip
    _problem(client.post("/v1/events", json={"events": [event]}), 422, "$.events[0].customer_id")
    by_cookie = {"id_type": "cookie", "id_value": "abc", "channel": "app"}  # the right way
    assert client.post("/v1/decisions", json=by_cookie).status_code == 200


def test_events_from_the_future_are_refused_and_leave_nothing(
    served: tuple[TestClient, float],
) -> None:
    client, now = served
    cid = "c0000003"
    shown = [{"customer_id": cid, "channel": "web", "event_type": "offer_impression",
              "offer_id": "o0001", "event_id": f"future-{n}",
              "timestamp": "2099-01-01T00:00:00Z" if n == 5 else iso(now - 10)}
             for n in range(6)]  # fmt: skip
    _problem(client.post("/v1/events", json={"events": shown}), 422, "$.events[5].timestamp")
    again = client.post("/v1/events", json={"events": shown[:5]})  # nothing was stored
    assert again.json() == {"accepted": 5, "duplicates": 0}
    soon = {**shown[0], "event_id": "future-ok", "timestamp": now + 60}  # within the skew
    assert client.post("/v1/events", json={"events": [soon]}).json()["accepted"] == 1
