"""A hung Redis (SIGSTOP: connections open, nothing answers) and a killed one, under the
real app: every decision degrades to the fallback, the model holder asks the store for
the active version at most once per `model_poll_s` (not once per request), writes are
refused with 503 and retrying them is safe, and no acknowledged event is lost."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import redis as redis_py
from helpers import customer_with_offers
from redis_app import RedisApp, redeems, redis_app, views

from omnioffer.contracts.payloads import decode_event
from omnioffer.store.redis import RedisStore, keys
from redis_server import RedisServer, require_redis_server

if TYPE_CHECKING:
    from training.train import TrainOutcome

STORE_TIMEOUT_S = 0.1
MODEL_POLL_S = 0.5
HUNG_POLLS = 3  # the hang lasts this many model_poll_s periods at least
PARALLEL = 6
RECOVERY_DEADLINE_S = 10.0
ITEMS = ["i000001", "i000002", "i000003", "i000004"]
BURST = 20  # acknowledged batches sent just before the kill


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[float]]:
    """When each call reached the Redis store's active-version lookup and its per-decision
    fetch (monotonic), by method name."""
    calls: dict[str, list[float]] = {"active_version": [], "fetch_customer": []}
    for name, times in calls.items():
        real = getattr(RedisStore, name)

        async def counted(self: RedisStore, *args: Any, _real: Any = real,
                          _times: list[float] = times) -> Any:  # fmt: skip
            _times.append(time.monotonic())
            return await _real(self, *args)

        monkeypatch.setattr(RedisStore, name, counted)
    return calls


@pytest.fixture
def hung_app(trained: tuple[Path, TrainOutcome], redis: RedisServer) -> Iterator[RedisApp]:
    settings = {"store_timeout_s": STORE_TIMEOUT_S, "model_poll_s": MODEL_POLL_S}
    with redis_app(trained[0], redis, **settings) as app:
        yield app


def stored_event_ids(url: str, cid: str) -> list[str]:
    """The event ids of the customer's real-time events, oldest first."""
    client = redis_py.Redis.from_url(url)
    try:
        events = client.lrange(keys.customer_events(cid), 0, -1)
        return [decode_event(p).event_id or "" for p in events]
    finally:
        client.close()


def log_length(url: str) -> int:
    client = redis_py.Redis.from_url(url)
    try:
        return int(client.xlen(keys.log()))
    finally:
        client.close()


def until(answer: Callable[[], dict[str, Any]], done: Callable[[dict[str, Any]], bool]) -> None:
    """Call `answer` until `done` says so, or fail (polling with a deadline, no sleep)."""
    deadline, calls = time.monotonic() + RECOVERY_DEADLINE_S, 0
    while not done(answer()):
        calls += 1
        assert time.monotonic() < deadline, f"not done after {calls} calls"


def test_a_hung_redis_degrades_decisions_and_the_holder_backs_off(
    hung_app: RedisApp, lookups: dict[str, list[float]]
) -> None:
    s = hung_app
    cid = customer_with_offers(s.client, ("app",))
    healthy = s.decide(cid, "app")
    assert healthy["fallback"] is None
    offers = [o["offer_id"] for o in healthy["offers"][:3]]
    acked = redeems(cid, offers[:2], s.now, tag="acked-")
    assert s.events(acked).json() == {"accepted": 2, "duplicates": 0}
    before = log_length(s.redis.url)
    click = {"decision_id": healthy["decision_id"], "offer_id": offers[0], "channel": "app",
             "outcome": "click"}  # fmt: skip

    s.redis.pause()
    hung_at = time.monotonic()
    try:
        hung: list[dict[str, Any]] = []
        with ThreadPoolExecutor(PARALLEL) as pool:  # rounds of parallel decisions
            while time.monotonic() - hung_at < HUNG_POLLS * MODEL_POLL_S:
                hung += pool.map(lambda _: s.decide(cid, "app"), range(PARALLEL))
        refused = redeems(cid, offers[2:], s.now, tag="refused-") + views(
            cid, ITEMS, s.now, tag="refused-view-")  # fmt: skip
        answer = s.events(refused)
        feedback = s.call("POST", "/v1/feedback", click)
        lookups_while_hung = [t for t in lookups["active_version"] if t >= hung_at]
        fetches_while_hung = [t for t in lookups["fetch_customer"] if t >= hung_at]
        hung_for = time.monotonic() - hung_at
    finally:
        s.redis.resume()

    assert [d["fallback"] for d in hung] == ["store_unavailable"] * len(hung)
    assert all(d["offers"] and d["model_version"] == healthy["model_version"] for d in hung)
    # one lookup per model_poll_s at most, however many requests (before the fix: one
    # per request once the first had failed, each with the others queued behind it)
    assert len(lookups_while_hung) <= 1 + int(hung_for / MODEL_POLL_S), lookups_while_hung
    # and the store gate: one probe at a time asks the hung store (each waits up to
    # store_timeout_s), every other decision falls back without asking it
    probes = PARALLEL + int(hung_for / STORE_TIMEOUT_S)
    assert len(fetches_while_hung) <= probes, (len(fetches_while_hung), len(hung))
    assert len(hung) > 2 * probes, len(hung)
    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"] == "1"
    assert feedback.status_code == 503, feedback.text

    # Resumed: the holder kept its model, so the first decision already uses it.
    assert s.decide(cid, "app")["fallback"] is None
    # The refused batch may have been recorded (Redis ran the bytes it had received);
    # retrying it is safe: its event ids make every copy after the first a duplicate.
    retried = s.events(refused).json()
    assert retried["accepted"] + retried["duplicates"] == len(refused), retried
    assert retried["accepted"] in (0, len(refused)), retried  # the hung batch ran whole or not
    assert s.events(refused).json() == {"accepted": 0, "duplicates": len(refused)}
    assert s.call("POST", "/v1/feedback", click).json() == {"accepted": True, "duplicate": False}

    ids = stored_event_ids(s.redis.url, cid)  # each event exactly once, none acknowledged lost
    expected = ["acked-0", "acked-1", *(e["event_id"] for e in refused)]
    assert sorted(i for i in ids if not i.startswith("fb:")) == sorted(expected)
    assert ids.count(f"fb:{healthy['decision_id']}:{offers[0]}:click") == 1
    assert log_length(s.redis.url) == before + len(refused) + 1  # + the feedback, once
    errors = [a for a in s.answers if a[1] >= 500]
    assert errors == [("/v1/events", 503), ("/v1/feedback", 503)], errors


@pytest.fixture
def persistent_app(trained: tuple[Path, TrainOutcome]) -> Iterator[RedisApp]:
    """The app over a redis-server with an append-only file (Redis's default fsync)."""
    require_redis_server()
    server = RedisServer(extra_args=("--appendonly", "yes")).start()
    try:
        with redis_app(trained[0], server, store_timeout_s=STORE_TIMEOUT_S) as app:
            yield app
    finally:
        server.cleanup()


def test_a_killed_persistent_redis_loses_no_acknowledged_event(persistent_app: RedisApp) -> None:
    s = persistent_app
    cid = customer_with_offers(s.client, ("app",))
    offers = [o["offer_id"] for o in s.decide(cid, "app")["offers"][:3]]
    acked = redeems(cid, offers[:2], s.now, tag="acked-")
    assert s.events(acked).json() == {"accepted": 2, "duplicates": 0}
    burst = [views(cid, ITEMS, s.now, tag=f"burst-{b}-") for b in range(BURST)]
    for batch in burst:  # acknowledged one after the other, the last just before the kill
        assert s.events(batch).json() == {"accepted": len(ITEMS), "duplicates": 0}
    before = log_length(s.redis.url)

    s.redis.kill()  # SIGKILL: no shutdown, no final save
    assert s.decide(cid, "app")["fallback"] == "store_unavailable"
    refused = redeems(cid, offers[2:], s.now, tag="refused-")
    assert s.events(refused).status_code == 503  # connection refused: nothing was sent
    s.redis.start()  # same port and dir: the append-only file is replayed

    until(lambda: s.decide(cid, "app"), lambda d: d["fallback"] is None)  # or fails
    ids = stored_event_ids(s.redis.url, cid)  # every acknowledged event, each exactly once
    assert ids[:2] == ["acked-0", "acked-1"]
    assert sorted(ids[2:]) == sorted(e["event_id"] for batch in burst for e in batch)
    assert log_length(s.redis.url) == before == 2 + BURST * len(ITEMS)
    assert s.events(refused).json() == {"accepted": 1, "duplicates": 0}
    assert s.events(acked).json() == {"accepted": 0, "duplicates": 2}  # dedup markers too
