"""Limits through the real service (a trained version in a real store, API keys): rate
limits per key with exact counts, a cross-site `text/plain` post that writes nothing on
either store, and answers carrying personal data that no cache may keep."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from helpers import event_log
from litestar.testing import TestClient

from omnioffer.api_keys import KeyFile
from omnioffer.service import create_service_app
from redis_server import RedisServer
from served_version import AS_OF_DAYS, iso, load_into, service_settings
from training.train import TrainOutcome

CID = "c0000001"
BURST, RATE = 5, 1.0  # the service's default limit in these tests
DECISION = {"customer_id": CID, "channel": "web"}


class Frozen:
    """The rate limits' clock: buckets refill only when the test moves it."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


World = tuple[Path, dict[str, str], float]


@pytest.fixture(scope="module")
def world(trained: tuple[Path, TrainOutcome], tmp_path_factory: pytest.TempPathFactory) -> World:
    """A materialised store and keys: two on the default limit, one with its own, one
    never limited (each test gets a fresh app, so fresh buckets)."""
    root = tmp_path_factory.mktemp("limits")
    keys = KeyFile(root / "keys.json")
    made = {name: keys.create(name, ["decide", "events"]) for name in ("a", "b", "probe")}
    made["own"] = keys.create("own", ["decide"], rate_per_s=0.5, burst=2)
    made["free"] = keys.create("free", ["decide"], rate_per_s=0)
    keys.write()
    url = f"sqlite:///{root / 'store.sqlite'}"
    now = load_into(url, trained[0]) + timedelta(days=AS_OF_DAYS).total_seconds()
    return root, made, now


@pytest.fixture
def limited(
    world: World, trained: tuple[Path, TrainOutcome]
) -> Iterator[tuple[TestClient[Any], dict[str, str], Frozen]]:
    root, keys, now = world
    settings = service_settings(f"sqlite:///{root / 'store.sqlite'}", trained[0], as_of=iso(now),
                                replay_clock="frozen", keys_file=str(root / "keys.json"),
                                host="0.0.0.0", rate_limit_per_s=RATE,
                                rate_limit_burst=BURST)  # fmt: skip
    clock = Frozen()
    with TestClient(create_service_app(settings, monotonic=clock)) as client:
        yield client, keys, clock


def _decide(client: TestClient[Any], key: str, n: int) -> list[int]:
    headers = {"Authorization": f"Bearer {key}"}
    return [client.post("/v1/decisions", json=DECISION, headers=headers).status_code
            for _ in range(n)]  # fmt: skip


def _refusals(client: TestClient[Any], keys: dict[str, str], name: str) -> float:
    scrape = client.get("/metrics", headers={"X-API-Key": keys["probe"]}).text
    key_id = keys[name].split("_")[1]
    prefix = f'omnioffer_rate_limited_total{{key="{key_id}"}} '
    return sum(float(line.removeprefix(prefix)) for line in scrape.splitlines()
               if line.startswith(prefix))  # fmt: skip


def test_a_burst_of_b_plus_n_calls_gets_exactly_n_refusals(
    limited: tuple[TestClient[Any], dict[str, str], Frozen],
) -> None:
    client, keys, clock = limited
    assert _decide(client, keys["a"], BURST + 3) == [200] * BURST + [429] * 3
    r = client.post("/v1/decisions", json=DECISION, headers={"X-API-Key": keys["a"]})
    assert r.status_code == 429
    assert r.headers["retry-after"] == "1"  # one token at 1/s
    assert r.headers["content-type"].startswith("application/problem+json")
    key_id = keys["a"].split("_")[1]
    assert r.json()["status"] == 429 and f"key {key_id}" in r.json()["detail"]
    assert _refusals(client, keys, "a") == 4
    clock.now += 2.0  # two tokens back, no more
    assert _decide(client, keys["a"], 3) == [200, 200, 429]
    assert _refusals(client, keys, "a") == 5


def test_one_keys_burst_does_not_limit_another(
    limited: tuple[TestClient[Any], dict[str, str], Frozen],
) -> None:
    client, keys, _ = limited
    assert _decide(client, keys["a"], BURST + 1) == [200] * BURST + [429]
    assert _decide(client, keys["b"], BURST + 1) == [200] * BURST + [429]  # its own bucket
    own = _decide(client, keys["own"], 3)  # its own limit: 0.5/s, burst 2
    assert own == [200, 200, 429]
    r = client.post("/v1/decisions", json=DECISION, headers={"X-API-Key": keys["own"]})
    assert r.headers["retry-after"] == "2"
    assert _decide(client, keys["free"], 3 * BURST) == [200] * (3 * BURST)  # rate 0: none
    assert client.get("/health/live").status_code == 200  # never limited
    assert _refusals(client, keys, "b") == 1 and _refusals(client, keys, "free") == 0


def test_decisions_and_their_refusals_are_not_cacheable(
    limited: tuple[TestClient[Any], dict[str, str], Frozen],
) -> None:
    client, keys, _ = limited
    headers = {"X-API-Key": keys["b"]}
    answers = [client.post("/v1/decisions", json=DECISION, headers=headers),
               client.post("/v1/decisions", json={**DECISION, "channel": "fax"}, headers=headers),
               client.post("/v1/decisions", json=DECISION)]  # fmt: skip
    answers += [client.post("/v1/decisions", json=DECISION, headers=headers) for _ in range(5)]
    assert [r.status_code for r in answers] == [200, 422, 401, 200, 200, 200, 429, 429]
    for r in answers:
        assert r.headers["cache-control"] == "no-store"
        assert r.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_a_cross_site_text_plain_post_writes_no_event(
    trained: tuple[Path, TrainOutcome], tmp_path: Path, request: pytest.FixtureRequest,
    backend: str,
) -> None:  # fmt: skip
    if backend == "redis":
        server: RedisServer = request.getfixturevalue("redis")
        url = server.url
    else:
        url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    now = load_into(url, trained[0]) + timedelta(days=AS_OF_DAYS).total_seconds()
    settings = service_settings(url, trained[0], as_of=iso(now), replay_clock="frozen")
    event = {"customer_id": CID, "channel": "web", "event_type": "add_to_cart",
             "item_id": "i000001", "timestamp": iso(now - 60), "event_id": "csrf-1"}  # fmt: skip
    body = json.dumps({"events": [event]}).encode()
    with TestClient(create_service_app(settings)) as client:
        # what <form enctype="text/plain"> or fetch(..., {mode: "no-cors"}) sends
        for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
            headers = {} if content_type is None else {"content-type": content_type}
            r = client.post("/v1/events", content=body, headers=headers)
            assert r.status_code == 415, r.text
            assert "Content-Type" in r.json()["detail"]
        assert event_log(url) == []  # nothing stored
        ok = client.post("/v1/events", content=body, headers={"content-type": "application/json"})
        assert ok.status_code == 200 and ok.json() == {"accepted": 1, "duplicates": 0}
    assert len(event_log(url)) == 1
