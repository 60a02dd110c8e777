"""Bad input is a 4xx problem naming the offending JSON path, never a 5xx."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from omnioffer.errors import InputError

Client = TestClient[Litestar]
ValidBody = Callable[[str], dict[str, Any]]
ProblemFields = Callable[[Any], list[str]]

POST_PATHS = ("/v1/decisions", "/v1/recommendations", "/v1/events", "/v1/feedback")
DELETE = object()  # marks a field to remove from the valid body
EVENT_0 = "events.0"


def _patched(body: dict[str, Any], where: str, value: Any) -> dict[str, Any]:
    """Set (or DELETE) the value at a dotted path such as "events.0.quantity"."""
    *parents, last = where.split(".")
    node: Any = body
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key: Any = int(last) if isinstance(node, list) else last
    if value is DELETE:
        del node[key]
    else:
        node[key] = value
    return body


# (path, dotted field, bad value, expected errors[].field): all 400
FieldCase = tuple[str, str, Any, str]
FIELD_CASES: list[FieldCase] = [
    ("/v1/decisions", "channel", 5, "$.channel"),
    ("/v1/decisions", "channel", DELETE, "$.channel"),
    ("/v1/decisions", "channel", "x" * 65, "$.channel"),
    ("/v1/decisions", "k", "five", "$.k"),
    ("/v1/decisions", "k", 0, "$.k"),
    ("/v1/decisions", "k", 51, "$.k"),
    ("/v1/decisions", "k", 2.5, "$.k"),
    ("/v1/decisions", "customer_id", "", "$.customer_id"),
    ("/v1/decisions", "coupon", "FREE", "$.coupon"),
    ("/v1/decisions", "context.cart", [1], "$.context.cart[0]"),
    ("/v1/decisions", "context.colour", "red", "$.context.colour"),
    ("/v1/decisions", "context", "mobile", "$.context"),
    ("/v1/recommendations", "k", 0, "$.k"),
    ("/v1/recommendations", "k", 101, "$.k"),
    ("/v1/recommendations", "k", None, "$.k"),
    ("/v1/recommendations", "exclude", "i1", "$.exclude"),
    ("/v1/recommendations", "exclude", ["i"] * 1001, "$.exclude"),
    ("/v1/recommendations", "channel", DELETE, "$.channel"),
    ("/v1/recommendations", "limit", 3, "$.limit"),
    ("/v1/events", f"{EVENT_0}.quantity", 0, "$.events[0].quantity"),
    ("/v1/events", f"{EVENT_0}.quantity", "two", "$.events[0].quantity"),
    ("/v1/events", f"{EVENT_0}.event_type", "hover", "$.events[0].event_type"),
    ("/v1/events", f"{EVENT_0}.timestamp", DELETE, "$.events[0].timestamp"),
    ("/v1/events", f"{EVENT_0}.timestamp", [], "$.events[0].timestamp"),
    ("/v1/events", f"{EVENT_0}.price", 3.5, "$.events[0].price"),
    ("/v1/events", f"{EVENT_0}.revenue", "a lot", "$.events[0].revenue"),
    ("/v1/events", "events", [], "$.events"),
    ("/v1/events", "events", DELETE, "$.events"),
    ("/v1/events", "events", {"0": {}}, "$.events"),
    ("/v1/events", "source", "pos", "$.source"),
    ("/v1/feedback", "outcome", "like", "$.outcome"),
    ("/v1/feedback", "decision_id", DELETE, "$.decision_id"),
    ("/v1/feedback", "offer_id", 7, "$.offer_id"),
    ("/v1/feedback", "reason", "meh", "$.reason"),
]


@pytest.mark.parametrize(
    "case", FIELD_CASES, ids=[f"{c[0]}:{c[1]}={c[2]!r:.20}" for c in FIELD_CASES]
)
def test_bad_fields_name_their_json_path(
    client: Client, valid_body: ValidBody, problem_fields: ProblemFields, case: FieldCase
) -> None:
    path, where, value, field = case
    response = client.post(path, json=_patched(valid_body(path), where, value))
    assert response.status_code == 400, response.text
    assert problem_fields(response) == [field]


def test_a_batch_of_1001_events_is_refused(
    client: Client, valid_body: ValidBody, problem_fields: ProblemFields
) -> None:
    body = valid_body("/v1/events")
    body["events"] = body["events"] * 1001
    response = client.post("/v1/events", json=body)
    assert response.status_code == 400
    assert problem_fields(response) == ["$.events"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"k": "0"}, "$.k"),
        ({"k": "101"}, "$.k"),
        ({"k": "abc"}, "$.k"),
        ({"k": "1.5"}, "$.k"),
        ({"k": ""}, "$.k"),
    ],
)
def test_similar_bad_k(
    client: Client, problem_fields: ProblemFields, query: dict[str, str], field: str
) -> None:
    response = client.get("/v1/items/i1/similar", params=query)
    assert response.status_code == 400
    assert problem_fields(response) == [field]


def test_similar_item_id_too_long(client: Client, problem_fields: ProblemFields) -> None:
    response = client.get(f"/v1/items/{'x' * 201}/similar")
    assert response.status_code == 400
    assert problem_fields(response) == ["$.item_id"]


JSON = {"content-type": "application/json"}
RawCase = tuple[str, bytes, dict[str, str], str | None]
RAW_BODY_CASES: list[RawCase] = [
    ("malformed", b'{"channel": "web",', JSON, "malformed-json"),
    ("not-json", b"channel=web&k=3", JSON, "malformed-json"),
    ("xml", b"<decision><channel>web</channel></decision>", JSON, "malformed-json"),
    ("empty", b"", JSON, "malformed-json"),
    ("bad-utf8", b'{"channel": "\xed\xa0\x80"}', JSON, "malformed-json"),
    ("deep", b"[" * 100_000, JSON, "malformed-json"),
    ("array", b"[]", JSON, "invalid-request"),
    ("null", b"null", JSON, "invalid-request"),
]


@pytest.mark.parametrize("path", POST_PATHS)
@pytest.mark.parametrize("case", RAW_BODY_CASES, ids=[case[0] for case in RAW_BODY_CASES])
def test_bodies_that_are_not_a_json_object_are_400_at_the_root(
    client: Client, problem_fields: ProblemFields, path: str, case: RawCase
) -> None:
    _, content, headers, slug = case
    response = client.post(path, content=content, headers=headers)
    assert response.status_code == 400, response.text
    assert problem_fields(response) == ["$"]
    if slug is not None:
        assert response.json()["type"].endswith("/" + slug)


@pytest.mark.parametrize("path", POST_PATHS)
def test_oversized_bodies_are_413(client: Client, problem_fields: ProblemFields, path: str) -> None:
    content = b'{"channel": "' + b"x" * 2_000_001 + b'"}'
    response = client.post(path, content=content, headers=JSON)
    assert response.status_code == 413
    assert problem_fields(response) == ["$"]


@pytest.mark.parametrize("path", POST_PATHS)
def test_wrong_method_is_405_with_allow(
    client: Client, problem_fields: ProblemFields, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]
    assert problem_fields(response) == []


def test_unknown_route_is_404_problem(client: Client, problem_fields: ProblemFields) -> None:
    response = client.post("/v1/offers", json={})
    assert response.status_code == 404
    assert problem_fields(response) == []


INPUT_ERRORS = [
    ("/v1/decisions", "$.customer_id", "either customer_id or id_type with id_value"),
    ("/v1/recommendations", "$.exclude[0]", "unknown item"),
    ("/v1/events", "$.events[0].quantity", "a return cannot exceed the purchase"),
    ("/v1/feedback", "$.decision_id", "decision expired"),
]


@pytest.mark.parametrize("case", INPUT_ERRORS, ids=[case[0] for case in INPUT_ERRORS])
def test_input_errors_from_the_decider_are_422(
    client: Client,
    fake: Any,
    valid_body: ValidBody,
    problem_fields: ProblemFields,
    case: tuple[str, str, str],
) -> None:
    path, field, message = case
    fake.error = InputError(field, message)
    response = client.post(path, json=valid_body(path))
    assert response.status_code == 422
    assert problem_fields(response) == [field]
    assert response.json()["errors"][0]["message"] == message


def test_input_error_on_similar_is_422(
    client: Client, fake: Any, problem_fields: ProblemFields
) -> None:
    fake.error = InputError("$.item_id", "item ids are case-sensitive SKUs")
    response = client.get("/v1/items/i1/similar")
    assert response.status_code == 422
    assert problem_fields(response) == ["$.item_id"]


# --- fuzz: many malformed bodies, one rule: never a 5xx ----------------------------
FUZZ_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    2**63,
    -(2**70),
    1e308,
    "",
    " ",
    "x" * 5_000,
    "\u0000",
    "\U0001f600",
    "$.k",
    [],
    [None],
    {},
    {"a": {"b": [1, "2"]}},
]
RAW_FUZZ: list[bytes] = [
    b"{",
    b"}",
    b"{}",
    b"[{}]",
    b'"x"',
    b"1",
    b"true",
    b"NaN",
    b'{"k": NaN}',
    b'{"k": 1e999}',
    b'{"k": 99999999999999999999999}',
    b'{"channel": "\\ud800"}',
    b'{"channel": "\\udc00x"}',
    b"\x00",
    b"\xff\xfe{\x00}",
    b'{"channel": "web"}{"channel": "web"}',
    b'{"channel": "web", "channel": "app"}',
    b' \n\t{"channel": "web"}\n ',
    b'{"events": [' + b"{}," * 2_000 + b"{}]}",
    b'{"channel": "web", "context": {"cart": [' + b'"i",' * 500 + b'"i"]}}',
    b"{" * 5_000,
    b'{"a":' * 5_000,
]


def _paths(node: Any, prefix: str = "") -> list[str]:
    """Every dotted path in a body, so each field (and nested one) gets fuzzed."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    paths: list[str] = []
    for key, child in items:
        path = f"{prefix}{key}"
        paths.append(path)
        if isinstance(child, dict | list) and child:
            paths.extend(_paths(child, path + "."))
    return paths


def _assert_no_5xx(response: Any, case: object) -> None:
    assert response.status_code < 500, (case, response.text)
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json"), case


@pytest.mark.parametrize("path", POST_PATHS)
def test_fuzzed_fields_never_produce_5xx(client: Client, valid_body: ValidBody, path: str) -> None:
    for where in _paths(valid_body(path)):
        for value in FUZZ_VALUES:
            response = client.post(path, json=_patched(valid_body(path), where, value))
            _assert_no_5xx(response, (where, value))


@pytest.mark.parametrize("path", POST_PATHS)
def test_fuzzed_raw_bodies_never_produce_5xx(client: Client, path: str) -> None:
    for content in RAW_FUZZ:
        _assert_no_5xx(client.post(path, content=content, headers=JSON), content[:40])


def test_fuzzed_similar_requests_never_produce_5xx(client: Client) -> None:
    item_ids = ["%00", "a%2Fb", "..", "%F0%9F%98%80", "%ff", "a b", "x" * 300]
    ks = ["-1", "1e2", "0x10", "\u0661", " 10 ", "%", "99999999999999999999", "true"]
    for item_id in item_ids:
        _assert_no_5xx(client.get(f"/v1/items/{item_id}/similar"), item_id)
    for k in ks:
        _assert_no_5xx(client.get("/v1/items/i1/similar", params={"k": k}), k)
    _assert_no_5xx(client.get("/v1/items/i1/similar?k=1&k=2"), "k twice")
