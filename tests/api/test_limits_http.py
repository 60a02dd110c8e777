"""The HTTP layer's limits through the real app (over the FakeDecider): rate limits by
client address, 415 for bodies that are not JSON, 431 for oversized headers, the
security headers, CORS, and the API viewer served without any CDN."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from omnioffer.api.app import create_app
from omnioffer.api.security_headers import HTML_CSP
from omnioffer.settings import Settings

Client = TestClient[Litestar]
ProblemFields = Callable[[Any], list[str]]
CHANNELS = ("web", "app", "store")
ValidBody = Callable[[str], dict[str, Any]]
POST_PATHS = ("/v1/decisions", "/v1/recommendations", "/v1/events", "/v1/feedback")
DECISION = {"customer_id": "c1", "channel": "web", "k": 3}
ORIGIN = "https://shop.example.com"


class Frozen:
    """The rate limits' monotonic clock, moved by hand: no refill unless the test says."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _calls(
    app: Litestar, address: str, requests: list[tuple[str, str, Any]]
) -> list[httpx.Response]:
    """Requests from one client address, in order, through the app's ASGI interface."""

    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, client=(address, 40_000))
        async with httpx.AsyncClient(transport=transport, base_url="http://omnioffer") as c:
            return [await c.request(m, p, json=body) for m, p, body in requests]

    return asyncio.run(go())


def _decisions(n: int) -> list[tuple[str, str, Any]]:
    return [("POST", "/v1/decisions", DECISION)] * n


def test_a_burst_from_one_address_gets_exactly_the_excess_refused(
    fake: Any, problem_fields: ProblemFields
) -> None:
    clock = Frozen()
    settings = Settings(channels=CHANNELS, rate_limit_per_s=0.5, rate_limit_burst=4)
    app = create_app(settings, decider=fake, monotonic=clock)
    burst = _calls(app, "10.0.0.1", _decisions(4 + 3))
    assert [r.status_code for r in burst] == [200] * 4 + [429] * 3
    for refused in burst[4:]:
        assert refused.headers["retry-after"] == "2"  # one token at 0.5/s
        assert problem_fields(refused) == []
        assert refused.json()["type"].endswith("/too-many-requests")
        assert "0.5 requests/s (burst 4)" in refused.json()["detail"]
    assert len(fake.calls) == 4  # refused calls never reached the decider
    # another address has a bucket of its own; liveness is never limited
    assert [r.status_code for r in _calls(app, "10.0.0.2", _decisions(4))] == [200] * 4
    live = _calls(app, "10.0.0.1", [("GET", "/health/live", None)] * 10)
    assert {r.status_code for r in live} == {200}
    clock.now += 2.0  # exactly one token back
    again = _calls(app, "10.0.0.1", _decisions(2))
    assert [r.status_code for r in again] == [200, 429]
    clock.now += 1.0  # half a token: the wait left is rounded up to whole seconds
    assert _calls(app, "10.0.0.1", _decisions(1))[0].headers["retry-after"] == "1"
    scrape = _calls(app, "10.0.0.3", [("GET", "/metrics", None)])[0].text
    assert 'omnioffer_rate_limited_total{key="address"} 5.0' in scrape


def test_rate_limits_are_off_by_default_and_with_a_zero_rate(fake: Any) -> None:
    for settings in (Settings(channels=CHANNELS), Settings(channels=CHANNELS, rate_limit_per_s=0)):
        app = create_app(settings, decider=fake, monotonic=Frozen())
        assert {r.status_code for r in _calls(app, "10.0.0.1", _decisions(60))} == {200}


REFUSED_TYPES = [None, "text/plain", "text/plain; charset=utf-8", "text/json",
                 "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                 "application/xml", "application/jsonp", "json"]  # fmt: skip
ACCEPTED_TYPES = ["application/json", "application/json; charset=utf-8", "Application/JSON",
                  "application/vnd.omnioffer+json",
                  "application/merge-patch+json ; q=1"]  # fmt: skip


@pytest.mark.parametrize("path", POST_PATHS)
def test_a_body_route_refuses_any_content_type_but_json_with_415(
    client: Client, fake: Any, problem_fields: ProblemFields, valid_body: ValidBody, path: str
) -> None:
    body = httpx.Request("POST", "http://x", json=valid_body(path)).content
    for content_type in REFUSED_TYPES:
        headers = {} if content_type is None else {"content-type": content_type}
        r = client.post(path, content=body, headers=headers)
        assert r.status_code == 415, (content_type, r.text)
        assert problem_fields(r) == []
        assert "Content-Type" in r.json()["detail"]
        assert r.json()["type"].endswith("/unsupported-media-type")
    assert fake.calls == []  # nothing reached the decision path
    for content_type in ACCEPTED_TYPES:
        r = client.post(path, content=body, headers={"content-type": content_type})
        assert r.status_code == 200, (content_type, r.text)
    assert len(fake.calls) == len(ACCEPTED_TYPES)


def test_routes_without_a_body_ignore_the_content_type(client: Client) -> None:
    r = client.get("/v1/items/i1/similar", headers={"content-type": "text/plain"})
    assert r.status_code == 200, r.text


def test_oversized_request_headers_are_431_before_anything_else(
    fake: Any, problem_fields: ProblemFields
) -> None:
    app = create_app(Settings(channels=CHANNELS, max_header_bytes=2_048), decider=fake)
    with TestClient(app) as client:
        padded = client.post("/v1/decisions", json=DECISION, headers={"x-pad": "a" * 1_500})
        assert padded.status_code == 200
        for method, path in (("POST", "/v1/decisions"), ("GET", "/v1/items/i1/similar"),
                             ("GET", "/health/live"), ("GET", "/schema")):  # fmt: skip
            body = DECISION if method == "POST" else None
            r = client.request(method, path, json=body, headers={"x-pad": "a" * 2_100})
            assert r.status_code == 431, (path, r.text)
            assert problem_fields(r) == []
            assert "max_header_bytes" in r.json()["detail"]
    assert len(fake.calls) == 1


def _answers(client: Client, valid_body: ValidBody) -> dict[str, httpx.Response]:
    bad = {**DECISION, "k": 0}
    return {
        "decision": client.post("/v1/decisions", json=DECISION),
        "decision 400": client.post("/v1/decisions", json=bad),
        "decision 415": client.post("/v1/decisions", content=b"{}"),
        "recommendation": client.post(
            "/v1/recommendations", json=valid_body("/v1/recommendations")
        ),
        "events": client.post("/v1/events", json=valid_body("/v1/events")),
        "feedback": client.post("/v1/feedback", json=valid_body("/v1/feedback")),
        "similar": client.get("/v1/items/i1/similar"),
        "decision 405": client.get("/v1/decisions"),
        "no route": client.get("/nowhere"),
        "live": client.get("/health/live"),
        "ready": client.get("/health/ready"),
        "metrics": client.get("/metrics"),
        "reload": client.post("/admin/policy/reload"),
    }


def test_every_answer_has_nosniff_and_no_store_and_pages_have_a_strict_csp(
    client: Client, valid_body: ValidBody
) -> None:
    for name, r in _answers(client, valid_body).items():
        assert r.headers["x-content-type-options"] == "nosniff", name
        assert r.headers["cache-control"] == "no-store", name
        assert "content-security-policy" not in r.headers, name  # not HTML
    for path in ("/schema", "/schema/swagger"):
        page = client.get(path)
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"] == "no-referrer"
        assert page.headers["content-security-policy"] == HTML_CSP
    directives = dict(d.strip().split(" ", 1) for d in HTML_CSP.split(";"))
    assert directives["default-src"] == "'none'" and directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in HTML_CSP and "http" not in HTML_CSP


_LINK = re.compile(r"""(?:src|href|data-spec)="([^"]*)\"""")


def test_the_api_viewer_loads_nothing_from_outside_the_app(client: Client) -> None:
    for path in ("/schema", "/schema/swagger"):
        page = client.get(path)
        assert page.status_code == 200
        assert "http://" not in page.text and "https://" not in page.text, page.text
        links = _LINK.findall(page.text)
        assert len(links) == 6 and all(link.startswith("/schema/") for link in links), links
        for link in links:
            asset = client.get(link)
            assert asset.status_code == 200, link
            assert len(asset.content) > 0, link
        scripts = re.findall(r'<script src="([^"]*)"', page.text)
        assert {client.get(s).headers["content-type"].split(";")[0] for s in scripts} == {
            "text/javascript"
        }
        assert "<script>" not in page.text  # no inline script: the CSP allows none
    own = client.get("/schema/assets/swagger-init.js").text
    assert "validatorUrl: null" in own and "http" not in own
    assert client.get("/schema/assets/index.html").status_code == 404  # an allow-list
    assert client.get("/schema/openapi.json").json()["info"]["title"] == "omnioffer"
    assert client.get("/schema/openapi.yaml").status_code == 200


def _preflight(client: Client, origin: str) -> httpx.Response:
    return client.options("/v1/decisions", headers={
        "origin": origin, "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, authorization"})  # fmt: skip


def test_cors_is_off_by_default(client: Client, fake: Any) -> None:
    assert "access-control-allow-origin" not in _preflight(client, ORIGIN).headers
    r = client.post("/v1/decisions", json=DECISION, headers={"origin": ORIGIN})
    assert r.status_code == 200
    assert not [h for h in r.headers if h.startswith("access-control-")]


def test_cors_answers_the_allowed_origins_only(fake: Any, problem_fields: ProblemFields) -> None:
    settings = Settings(channels=CHANNELS, cors_origins=(ORIGIN, "http://localhost:3000"))
    with TestClient(create_app(settings, decider=fake)) as client:
        ok = _preflight(client, ORIGIN)
        assert ok.status_code == 204
        assert ok.headers["access-control-allow-origin"] == ORIGIN
        assert "POST" in ok.headers["access-control-allow-methods"]
        allowed = ok.headers["access-control-allow-headers"]
        assert {"content-type", "authorization", "x-api-key"} <= set(allowed.split(", "))
        refused = _preflight(client, "https://evil.example")
        assert refused.status_code == 403
        assert problem_fields(refused) == []
        assert "access-control-allow-origin" not in refused.headers
        assert fake.calls == []  # preflights never reach a handler
        mine = client.post("/v1/decisions", json=DECISION, headers={"origin": ORIGIN})
        assert mine.headers["access-control-allow-origin"] == ORIGIN
        assert "origin" in mine.headers["vary"].lower()
        other = client.post("/v1/decisions", json=DECISION, headers={"origin": "https://x.test"})
        assert other.status_code == 200
        assert "access-control-allow-origin" not in other.headers
