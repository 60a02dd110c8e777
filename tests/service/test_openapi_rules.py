"""The OpenAPI document states every rule the service enforces: for each rule, a body
breaking it is refused by the real app AND the live `/schema/openapi.json` calls it
invalid, and bodies the document accepts are accepted. Each body is judged by two
validators: `jsonschema` (Python's `re`, as msgspec) and `jsonschema_rs` (ECMA-262
patterns, as schemathesis and most generated clients read them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
import pytest
from litestar.testing import TestClient

from omnioffer.api_keys import KeyFile
from omnioffer.service import create_service_app
from omnioffer.settings import DEFAULT_CHANNELS
from served_version import iso, load_into, service_settings
from training.train import TrainOutcome

CID = "c0000001"
ROUTES = {"/v1/decisions": "DecisionRequest", "/v1/recommendations": "RecommendationRequest",
          "/v1/events": "EventsRequest", "/v1/feedback": "FeedbackRequest"}  # fmt: skip
NOW_PLACEHOLDER = "<now>"


class Judge:
    """Both validators of one request component of the served document."""

    def __init__(self, document: dict[str, Any], component: str) -> None:
        schema = {"$ref": f"#/components/schemas/{component}",
                  "components": document["components"]}  # fmt: skip
        self.python = jsonschema.Draft202012Validator(schema)
        self.ecma = jsonschema_rs.validator_for(schema)

    def valid(self, body: Any) -> bool:
        python, ecma = self.python.is_valid(body), self.ecma.is_valid(body)
        assert python == ecma, ("the validators disagree", body, python, ecma)
        return python


@pytest.fixture(scope="module")
def world(
    trained: tuple[Path, TrainOutcome], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient[Any], dict[str, Any], float]]:
    """(client, live document, now): the real app over an embedded store."""
    root = tmp_path_factory.mktemp("openapi")
    url = f"sqlite:///{root / 'store.sqlite'}"
    now = load_into(url, trained[0]) + 86_400.0
    settings = service_settings(url, trained[0], as_of=iso(now), replay_clock="frozen")
    with TestClient(create_service_app(settings)) as client:
        document = client.get("/schema/openapi.json").json()
        yield client, document, now


def _event(now: float, **fields: Any) -> dict[str, Any]:
    event = {"customer_id": CID, "channel": "web", "event_type": "view", "item_id": "i000001",
             "timestamp": iso(now - 60)} | fields  # fmt: skip
    return {k: v for k, v in event.items() if v is not None}


def _decision(**fields: Any) -> dict[str, Any]:
    body = {"customer_id": CID, "channel": "app"} | fields
    return {k: v for k, v in body.items() if v is not None}


# (rule, path, body or a function of now, the status the service answers)
REFUSED: list[tuple[str, str, Any, int]] = [
    ("channel enum", "/v1/decisions", _decision(channel="tv"), 422),
    ("channel enum", "/v1/recommendations", {"customer_id": CID, "channel": "tv"}, 422),
    ("channel enum", "/v1/events", lambda now: {"events": [_event(now, channel="tv")]}, 422),
    ("channel enum", "/v1/feedback", {"decision_id": "d" * 32, "offer_id": "o0001",
                                      "outcome": "click", "channel": "tv"}, 422),
    ("customer_id or id_type + id_value", "/v1/decisions", {"channel": "app"}, 422),
    ("customer_id or id_type + id_value", "/v1/recommendations", {"channel": "web"}, 422),
    ("customer_id or id_type + id_value", "/v1/events",
     lambda now: {"events": [_event(now, customer_id=None)]}, 422),
    ("id_type and id_value together", "/v1/decisions", _decision(id_type="cookie"), 422),
    ("id_type and id_value together", "/v1/decisions",
     {"id_value": "ck-1", "channel": "app"}, 422),
    ("id_type and id_value together", "/v1/events",
     lambda now: {"events": [_event(now, id_type="cookie", id_value=None)]}, 422),
    ("null is absent", "/v1/decisions",
     {"customer_id": None, "id_type": "cookie", "id_value": None, "channel": "app"}, 422),
    ("not an anon: pseudo-id", "/v1/decisions", _decision(customer_id="anon:cookie:x"), 422),
    ("not an anon: pseudo-id", "/v1/events",
     lambda now: {"events": [_event(now, customer_id="anon:cookie:x")]}, 422),
    ("unknown field", "/v1/decisions", _decision(colour="red"), 400),
    ("unknown field", "/v1/decisions", _decision(context={"device": "ios", "mood": 1}), 400),
    ("unknown field", "/v1/events", lambda now: {"events": [_event(now, colour=1)]}, 400),
    ("unknown field", "/v1/events", lambda now: {"events": [_event(now)], "batch": 1}, 400),
    ("unknown field", "/v1/feedback", {"decision_id": "d" * 32, "offer_id": "o0001",
                                       "outcome": "click", "channel": "app", "x": 1}, 400),
    ("k bounds", "/v1/decisions", _decision(k=0), 400),
    ("k bounds", "/v1/decisions", _decision(k=51), 400),
    ("k bounds", "/v1/recommendations", {"customer_id": CID, "channel": "web", "k": 101}, 400),
    ("k is an integer", "/v1/decisions", _decision(k=2.5), 400),
    ("k is a number", "/v1/decisions", _decision(k="3"), 400),
    ("quantity bounds", "/v1/events", lambda now: {"events": [_event(now, quantity=0)]}, 400),
    ("quantity bounds", "/v1/events",
     lambda now: {"events": [_event(now, quantity=10_001)]}, 400),
    ("id length", "/v1/decisions", _decision(customer_id="c" * 201), 400),
    ("id length", "/v1/decisions", _decision(customer_id=""), 400),
    ("name length", "/v1/decisions", _decision(placement="p" * 65), 400),
    ("no braces in ids", "/v1/decisions", _decision(customer_id="c{1}"), 400),
    ("no ':' in id_type", "/v1/decisions",
     {"id_type": "a:b", "id_value": "v", "channel": "app"}, 400),
    ("no white space in names", "/v1/decisions",
     {"id_type": "cookie\n", "id_value": "v", "channel": "app"}, 400),
    ("no white space in names", "/v1/decisions", _decision(placement="home\ufeff"), 400),
    ("no white space in names", "/v1/decisions", _decision(placement="home\x1c"), 400),
    ("list limits", "/v1/decisions", _decision(explain=["o0001"] * 51), 400),
    ("list limits", "/v1/decisions", _decision(context={"cart": ["i000001"] * 101}), 400),
    ("list limits", "/v1/recommendations",
     {"customer_id": CID, "channel": "web", "exclude": ["i000001"] * 1_001}, 400),
    ("ids in lists", "/v1/decisions", _decision(explain=[""]), 400),
    ("ids in lists", "/v1/decisions", _decision(context={"cart": ["i{1}"]}), 400),
    ("ids in lists", "/v1/recommendations",
     {"customer_id": CID, "channel": "web", "exclude": ["x" * 201]}, 400),
    ("batch size", "/v1/events", {"events": []}, 400),
    ("batch size", "/v1/events", lambda now: {"events": [_event(now)] * 1_001}, 400),
    ("event type enum", "/v1/events",
     lambda now: {"events": [_event(now, event_type="like")]}, 400),
    ("item events need item_id", "/v1/events",
     lambda now: {"events": [_event(now, event_type="purchase", item_id=None)]}, 422),
    ("offer events need offer_id", "/v1/events",
     lambda now: {"events": [_event(now, event_type="offer_click", item_id=None)]}, 422),
    ("timestamp grammar", "/v1/events",
     lambda now: {"events": [_event(now, timestamp="yesterday")]}, 422),
    ("timestamp grammar", "/v1/events",
     lambda now: {"events": [_event(now, timestamp="2024-02-30T10:00:00")]}, 422),
    ("timestamp grammar", "/v1/events",
     lambda now: {"events": [_event(now, timestamp="2025-02-29")]}, 422),
    ("timestamp grammar", "/v1/events",
     lambda now: {"events": [_event(now, timestamp="2024-05-01T10:00:00,5")]}, 422),
    ("timestamp range", "/v1/events", lambda now: {"events": [_event(now, timestamp=-1)]}, 422),
    ("timestamp range", "/v1/events",
     lambda now: {"events": [_event(now, timestamp="1969-12-31T23:00:00Z")]}, 422),
    ("timestamp type", "/v1/events", lambda now: {"events": [_event(now, timestamp=True)]}, 400),
    ("outcome enum", "/v1/feedback", {"decision_id": "d" * 32, "offer_id": "o0001",
                                      "outcome": "like", "channel": "app"}, 400),
    ("required fields", "/v1/feedback", {"offer_id": "o0001", "outcome": "click",
                                         "channel": "app"}, 400),
]  # fmt: skip

ACCEPTED: list[tuple[str, Any]] = [
    ("/v1/decisions", _decision()),
    ("/v1/decisions", {"id_type": "cookie", "id_value": "ck-1", "channel": "web", "k": 50}),
    ("/v1/decisions", _decision(id_type="cookie", id_value="ck-1", k=1, dry_run=True)),
    ("/v1/decisions", {"customer_id": CID, "id_type": None, "id_value": None, "channel": "sms"}),
    ("/v1/decisions", _decision(k=3.0, placement="home", explain=["o0001", "nope"],
                                context={"device": "ios", "store_id": "s 1", "cart": ["i000001"]})),
    ("/v1/decisions", _decision(customer_id="x" * 200, placement="p" * 64)),
    ("/v1/recommendations", {"customer_id": CID, "channel": "web", "k": 100,
                             "exclude": ["i000001"] * 1_000}),
    ("/v1/events", lambda now: {"events": [_event(now)] * 1_000}),
    ("/v1/events", lambda now: {"events": [
        _event(now, event_type="offer_impression", item_id=None, offer_id="o0001", quantity=10_000),
        _event(now, id_type="cookie", id_value="ck-2", timestamp=now - 120),
        _event(now, customer_id=None, id_type="cookie", id_value="ck-3", timestamp=now - 1.5),
        _event(now, timestamp=iso(now - 3_600).replace("+00:00", "Z"), revenue=-3),
        _event(now, timestamp=iso(now - 7_200)[:16]),  # YYYY-MM-DDTHH:MM, naive = UTC
        _event(now, timestamp=iso(now - 86_400)[:10]),  # a date alone
        _event(now, timestamp=iso(now - 60).replace("T", " ").replace("+00:00", "+0000")),
        _event(now, event_type="purchase", session_id="s-1", event_id="e-1", revenue=2.5),
    ]}),
]  # fmt: skip


def _body(body: Any, now: float) -> Any:
    return body(now) if callable(body) else body


@pytest.mark.parametrize(("rule", "path", "body", "status"), REFUSED,
                         ids=[f"{r[1]} {r[0]}" for r in REFUSED])  # fmt: skip
def test_a_body_breaking_a_rule_is_refused_and_the_document_says_so(
    world: tuple[TestClient[Any], dict[str, Any], float], rule: str, path: str, body: Any,
    status: int,
) -> None:  # fmt: skip
    client, document, now = world
    sent = _body(body, now)
    answer = client.post(path, json=sent)
    assert answer.status_code == status, (rule, answer.text)
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert not Judge(document, ROUTES[path]).valid(sent), f"the document lets {rule!r} pass"


@pytest.mark.parametrize(("path", "body"), ACCEPTED)
def test_a_body_the_document_accepts_is_accepted(
    world: tuple[TestClient[Any], dict[str, Any], float], path: str, body: Any
) -> None:
    client, document, now = world
    sent = _body(body, now)
    assert Judge(document, ROUTES[path]).valid(sent)
    answer = client.post(path, json=sent)
    assert answer.status_code == 200, answer.text


def test_feedback_the_document_accepts_is_accepted(
    world: tuple[TestClient[Any], dict[str, Any], float],
) -> None:
    client, document, _ = world
    decision = client.post("/v1/decisions", json=_decision(k=2)).json()
    body = {"decision_id": decision["decision_id"], "offer_id": decision["offers"][0]["offer_id"],
            "outcome": "click", "channel": "web"}  # fmt: skip
    assert Judge(document, ROUTES["/v1/feedback"]).valid(body)
    assert client.post("/v1/feedback", json=body).json() == {"accepted": True, "duplicate": False}


def test_similar_items_parameters_state_their_limits(
    world: tuple[TestClient[Any], dict[str, Any], float],
) -> None:
    client, document, _ = world
    operation = document["paths"]["/v1/items/{item_id}/similar"]["get"]
    k = next(p["schema"] for p in operation["parameters"] if p["name"] == "k")
    judge = jsonschema_rs.validator_for(k)
    for value, status in ((0, 400), (101, 400), (100, 200), (1, 200)):
        assert client.get(f"/v1/items/i000001/similar?k={value}").status_code in (status, 404)
        assert judge.is_valid(value) == (status == 200)


def test_the_document_names_the_rules_and_every_problem_answer(
    world: tuple[TestClient[Any], dict[str, Any], float],
) -> None:
    _, document, _ = world
    schemas = document["components"]["schemas"]
    for component in (*ROUTES.values(), "EventIn", "DecisionContext"):
        assert schemas[component]["additionalProperties"] is False, component
    for component in ("DecisionRequest", "RecommendationRequest", "EventIn", "FeedbackRequest"):
        assert schemas[component]["properties"]["channel"]["enum"] == list(DEFAULT_CHANNELS)
    timestamp = schemas["EventIn"]["properties"]["timestamp"]["anyOf"]
    assert {b["type"] for b in timestamp} == {"string", "number"}
    for path in (*ROUTES, "/v1/items/{item_id}/similar"):
        for operation in document["paths"][path].values():
            statuses = set(operation["responses"])
            assert {"400", "401", "403", "422", "429", "431", "503"} <= statuses, (path, statuses)
            if "requestBody" in operation:
                assert {"413", "415"} <= statuses, (path, statuses)
    for path, item in document["paths"].items():
        for operation in item.values():
            statuses = set(operation["responses"])
            assert {"429", "431"} <= statuses or path == "/health/live", (path, statuses)
            for status in statuses - {"200"} - ({"503"} if path == "/health/ready" else set()):
                content = operation["responses"][status]["content"]  # (readiness: its body)
                assert "application/problem+json" in content, (path, status)


def test_with_keys_the_document_says_which_scope_each_route_needs(
    trained: tuple[Path, TrainOutcome], tmp_path: Path
) -> None:
    keys = KeyFile(tmp_path / "keys.json")
    keys.create("any", ["decide"])
    keys.write()
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    settings = service_settings(url, trained[0], keys_file=str(tmp_path / "keys.json"),
                                host="0.0.0.0", channels=["web", "pos"])  # fmt: skip
    with TestClient(create_service_app(settings)) as client:
        document = client.get("/schema/openapi.json").json()
    assert set(document["components"]["securitySchemes"]) == {"bearer", "apiKey"}
    needs = {(path, method): [sorted(r.items()) for r in op.get("security", [])]
             for path, item in document["paths"].items()
             for method, op in item.items()}  # fmt: skip
    assert needs[("/v1/decisions", "post")] == [[("bearer", ["decide"])], [("apiKey", ["decide"])]]
    assert needs[("/v1/items/{item_id}/similar", "get")][0] == [("bearer", ["recommend"])]
    assert needs[("/admin/policy/reload", "post")][1] == [("apiKey", ["admin"])]
    assert needs[("/metrics", "get")] == [[("bearer", [])], [("apiKey", [])]]  # off loopback
    assert needs[("/health/live", "get")] == []
    for path, item in document["paths"].items():  # a secured route documents its refusals
        for operation in item.values():
            if operation.get("security"):
                assert "401" in operation["responses"], path
                scoped = any(roles for r in operation["security"] for roles in r.values())
                assert not scoped or "403" in operation["responses"], path
    channel = document["components"]["schemas"]["FeedbackRequest"]["properties"]["channel"]
    assert channel["enum"] == ["web", "pos"]
