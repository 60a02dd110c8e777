"""Erasure and live consent through the real app, on both store backends: after `DELETE
/v1/customers/{id}` the whole store (every Redis key name and value, every SQLite cell)
holds nothing of the customer; a consent change is honoured by the next decision of
every worker; an erasure refused while Redis is down is finished by its retry."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import polars as pl
import pytest
from helpers import decide, post_events
from litestar.testing import TestClient

from omnioffer.contracts.erasure import customer_digest
from omnioffer.jobs.export_events import export_events
from omnioffer.jobs.materialize import materialize
from omnioffer.service import create_service_app
from omnioffer.store import open_store
from redis_server import RedisServer, require_redis_server
from served_version import AS_OF_DAYS, iso, load_into, service_settings
from store_traces import redis_traces, sqlite_traces

if TYPE_CHECKING:
    from training.train import TrainOutcome

COOKIE = "ck-privacy-test-1"


@dataclass
class World:
    """The real app over a store of one backend, a second worker over the same store."""

    client: TestClient[Any]
    other: TestClient[Any]  # another worker: its own decider, the same store
    url: str
    now: float
    backend: str

    def traces(self, needles: list[str]) -> list[str]:
        if self.backend == "redis":
            return redis_traces(self.url, needles)
        return sqlite_traces(Path(self.url.removeprefix("sqlite:///")), needles)


@pytest.fixture(params=["embedded", "redis"])
def world(
    request: pytest.FixtureRequest, trained: tuple[Path, TrainOutcome], tmp_path: Path
) -> Iterator[World]:
    server = None
    if request.param == "redis":
        require_redis_server()
        server = RedisServer().start()
        url = server.url
    else:
        url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    try:
        now = load_into(url, trained[0]) + timedelta(days=AS_OF_DAYS).total_seconds()
        settings = service_settings(url, trained[0], as_of=iso(now), replay_clock="frozen")
        with TestClient(create_service_app(settings)) as client, \
                TestClient(create_service_app(settings)) as other:  # fmt: skip
            yield World(client, other, url, now, request.param)
    finally:
        if server is not None:
            server.cleanup()


async def tombstones(url: str) -> dict[str, float]:
    store = open_store(url)
    try:
        return await store.tombstones()
    finally:
        await store.close()


async def read_log(url: str) -> list[tuple[str, str, bytes]]:
    store = open_store(url)
    try:
        return await store.read_log(None, 1000)
    finally:
        await store.close()


def identities_of(models: Path) -> pl.DataFrame:
    (version,) = [p for p in models.iterdir() if p.is_dir() and (p / "serving").is_dir()][:1]
    return pl.read_parquet(version / "serving" / "identities.parquet")


def email_customer(client: TestClient[Any], models: Path) -> tuple[str, list[str]]:
    """A customer with batch identifiers who gets email offers, and those identifiers."""
    table = identities_of(models)
    for cid in table.get_column("customer_key").unique().sort().to_list()[:300]:
        if len(decide(client, cid, "email")["offers"]) >= 2:
            mine = table.filter(pl.col("customer_key") == cid)
            return cid, mine.get_column("id_value").to_list()
    raise AssertionError("no customer with identifiers and email offers among 300")


def live(world: World, cid: str) -> None:
    """Give `cid` state in every family: an anonymous past linked by a login, events, a
    decision with feedback, a consent change."""
    anon = {"id_type": "cookie", "id_value": COOKIE, "channel": "web", "event_type": "view",
            "item_id": "i000001", "timestamp": iso(world.now - 300)}  # fmt: skip
    post_events(world.client, anon)
    login = {**anon, "customer_id": cid, "event_type": "add_to_cart", "item_id": "i000002",
             "timestamp": iso(world.now - 200), "event_id": f"{cid}-login"}  # fmt: skip
    post_events(world.client, login)
    decision = decide(world.client, cid, "app")
    r = world.client.post("/v1/feedback", json={
        "decision_id": decision["decision_id"], "offer_id": decision["offers"][0]["offer_id"],
        "outcome": "click", "channel": "app"})  # fmt: skip
    assert r.status_code == 200, r.text
    r = world.client.put(f"/v1/customers/{cid}/consent", json={"sms": True})
    assert r.status_code == 200, r.text


def test_erasure_leaves_no_trace_of_the_customer_or_its_identifiers(
    world: World, trained: tuple[Path, TrainOutcome]
) -> None:
    cid, identifiers = email_customer(world.client, trained[0])
    keep = "c0000001" if cid == "c0000000" else "c0000000"
    assert decide(world.client, keep, "app")["fallback"] is None
    live(world, cid)
    needles = [cid, COOKIE, *identifiers]
    assert world.traces(needles), "the scan sees the customer before the erasure"

    r = world.client.delete(f"/v1/customers/{cid}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["customer_id"] == cid and body["erased"] is True
    removed = body["removed"]
    assert removed["batch"] == 1 and removed["consent"] == 1
    assert removed["decisions"] == 2  # email_customer's and live's
    assert removed["events"] == 3 and removed["log"] == 4  # 2 events, 1 feedback, 1 consent
    assert removed["identities"] == len(identifiers) + 1  # the batch links and the cookie
    assert body["tombstones"] == len(identifiers) + 2
    assert world.traces(needles) == []
    again = world.client.delete(f"/v1/customers/{cid}")  # idempotent
    assert again.status_code == 200 and again.json()["erased"] is False
    assert set(again.json()["removed"].values()) == {0}
    assert "nothing was stored" in again.json()["detail"]

    after = decide(
        world.other, cid, "email"
    )  # a new history begins  # every worker: nothing is cached
    assert after["fallback"] == "unknown_customer"
    by_cookie = world.client.post("/v1/decisions", json={"id_type": "cookie", "id_value": COOKIE,
                                                         "channel": "web"})  # fmt: skip
    assert by_cookie.json()["customer_id"] == f"anon:cookie:{COOKIE}"  # the link is gone
    assert decide(world.client, keep, "app")["fallback"] is None  # everyone else stays


def test_erasing_an_unknown_customer_says_so_and_still_writes_its_tombstone(
    world: World,
) -> None:
    r = world.client.delete("/v1/customers/never-seen-7")
    assert r.status_code == 200, r.text
    assert r.json()["erased"] is False and r.json()["tombstones"] == 1
    assert "nothing was stored for 'never-seen-7'" in r.json()["detail"]

    assert asyncio.run(tombstones(world.url)) == {customer_digest("never-seen-7"): world.now}


def test_a_consent_withdrawal_holds_on_the_next_decision_of_every_worker(
    world: World, trained: tuple[Path, TrainOutcome]
) -> None:
    cid, _ = email_customer(world.client, trained[0])
    assert decide(world.other, cid, "email")["offers"]
    r = world.client.put(f"/v1/customers/{cid}/consent", json={"email": False})
    assert r.status_code == 200, r.text
    assert r.json() == {"customer_id": cid, "consent": {"email": False}}
    for client in (world.client, world.other):
        withdrawn = decide(client, cid, "email")
        assert withdrawn["offers"] == [] and withdrawn["fallback"] is None
        assert set(withdrawn["empty_reasons"]) == {"consent"}
    assert decide(world.other, cid, "app")["offers"], "other channels keep their offers"

    back = world.other.put(f"/v1/customers/{cid}/consent", json={"email": True, "sms": False})
    assert back.json()["consent"] == {"email": True, "sms": False}
    assert len(decide(world.client, cid, "email")["offers"]) >= 2


def test_consent_changes_are_logged_and_exported(world: World, tmp_path: Path) -> None:
    for body in ({"email": False}, {"email": True, "sms": True}):
        assert world.client.put("/v1/customers/c0000005/consent", json=body).status_code == 200
    done = export_events(open_store(world.url), tmp_path / "out")
    assert (done.events, done.consents) == (0, 3)
    rows = pl.read_parquet(tmp_path / "out" / "consents.parquet").rows()
    stamp = pl.Series([world.now]).cast(pl.Float64).item()
    assert [(c, ch, g) for c, _, ch, g in rows] == [
        ("c0000005", "email", False),
        ("c0000005", "email", True),
        ("c0000005", "sms", True),
    ]
    assert {t.timestamp() for _, t, _, _ in rows} == {stamp}


def test_consent_is_checked_against_the_configured_channels(world: World) -> None:
    r = world.client.put("/v1/customers/c0000005/consent", json={"email": False, "fax": True})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "$.fax"
    assert "unknown channel 'fax'" in r.json()["errors"][0]["message"]
    r = world.client.put("/v1/customers/c0000005/consent", json={"email": "false"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "$.email"
    assert world.client.put("/v1/customers/c0000005/consent", json={}).status_code == 400
    r = world.client.put("/v1/customers/anon:cookie:x/consent", json={"email": True})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "$.customer_id"
    r = world.client.get("/v1/customers/c0000005/consent")
    assert r.status_code == 405
    overlay = world.client.put("/v1/customers/c0000005/consent", json={"sms": False})
    assert overlay.json()["consent"] == {"sms": False}, "the refused ones changed nothing"


def test_events_after_an_erasure_are_a_new_history_and_export_withholds_the_old(
    world: World, tmp_path: Path
) -> None:
    """A late event dated before the erasure is withheld from the export; one dated
    after it (the customer came back) is exported."""
    cid = "c0000009"
    old = {"customer_id": cid, "channel": "web", "event_type": "view", "item_id": "i000001",
           "timestamp": iso(world.now - 100)}  # fmt: skip
    post_events(world.client, old)
    assert world.client.delete(f"/v1/customers/{cid}").status_code == 200
    late = {**old, "item_id": "i000003"}  # in flight during the erasure: dated before it
    post_events(world.client, late)
    done = export_events(open_store(world.url), tmp_path / "out")
    assert (done.events, done.withheld) == (0, 1)
    tombs = pl.read_parquet(tmp_path / "out" / "erasures.parquet")
    assert customer_digest(cid) in tombs.get_column("digest").to_list()
    assert tombs.height == done.tombstones  # the customer's and its batch identifiers'
    back = {**old, "item_id": "i000004", "timestamp": iso(world.now + 60)}  # after it
    post_events(world.client, back)
    done = export_events(open_store(world.url), tmp_path / "again")
    assert (done.events, done.withheld) == (1, 1)


@pytest.fixture
def persistent(trained: tuple[Path, TrainOutcome]) -> Iterator[tuple[World, RedisServer]]:
    """The app over a redis-server with an append-only file, so it can die and come back."""
    require_redis_server()
    server = RedisServer(extra_args=("--appendonly", "yes")).start()
    try:
        now = load_into(server.url, trained[0]) + timedelta(days=AS_OF_DAYS).total_seconds()
        settings = service_settings(server.url, trained[0], as_of=iso(now),
                                    replay_clock="frozen", store_timeout_s=0.2)  # fmt: skip
        with TestClient(create_service_app(settings)) as client:
            yield World(client, client, server.url, now, "redis"), server
    finally:
        server.cleanup()


def test_an_erasure_refused_while_redis_is_down_is_finished_by_its_retry(
    persistent: tuple[World, RedisServer],
    trained: tuple[Path, TrainOutcome],
    caplog: pytest.LogCaptureFixture,
) -> None:
    world, server = persistent
    cid, identifiers = email_customer(world.client, trained[0])
    live(world, cid)
    server.kill()
    caplog.clear()  # the records as they are emitted (the app's own handler is a queue)
    r = world.client.delete(f"/v1/customers/{cid}")
    assert r.status_code == 503, r.text
    logged = "\n".join(r.getMessage() for r in caplog.records  # the service's, not httpx's
                        if r.name.startswith("omnioffer"))  # fmt: skip
    assert "store unavailable on DELETE /v1/customers/{customer_id}" in logged
    assert cid not in logged, "the log names the route, never the customer"
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["retry-after"] == "1" and r.json()["type"].endswith("/store-unavailable")
    server.start()
    deadline = time.monotonic() + 10
    while (r := world.client.delete(f"/v1/customers/{cid}")).status_code != 200:
        assert r.status_code == 503 and time.monotonic() < deadline, r.text
    assert r.json()["erased"] is True
    assert world.traces([cid, COOKIE, *identifiers]) == []


def test_the_same_event_id_for_two_customers_stores_both(world: World) -> None:
    """Event ids are scoped per customer: a client reusing another's id suppresses
    nothing (before, the second event was answered as a duplicate and dropped)."""
    event = {"channel": "store", "event_type": "purchase", "item_id": "i000003",
             "timestamp": iso(world.now - 30), "event_id": "pos-0001"}  # fmt: skip
    first = post_events(world.client, {**event, "customer_id": "c0000011"})
    second = post_events(world.other, {**event, "customer_id": "c0000012"})
    assert first == second == {"accepted": 1, "duplicates": 0}
    again = post_events(world.client, {**event, "customer_id": "c0000012"})
    assert again == {"accepted": 0, "duplicates": 1}, "still idempotent per customer"
    assert [c for _, c, _ in asyncio.run(read_log(world.url))] == ["c0000011", "c0000012"]


def test_materialize_leaves_out_who_was_erased_after_the_version_was_made(
    trained: tuple[Path, TrainOutcome], tmp_path: Path
) -> None:
    """Re-materializing a version trained before an erasure brings nobody back; a
    version made after it (trained with the tombstones, or on a new history) loads."""
    models = trained[0]
    table = identities_of(models)
    cid = str(table.get_column("customer_key").sort()[0])
    mine = table.filter(pl.col("customer_key") == cid).rows()

    async def go(erased_at: float) -> tuple[bytes | None, list[str | None], bytes | None]:
        store = open_store(f"sqlite:///{tmp_path / f'{erased_at}.sqlite'}")
        try:
            await store.erase_customer(cid, erased_at)
            name, _ = await materialize(store, models)
            record = await store.fetch_customer(name, cid)
            links = [await store.resolve(t, v) for t, v, _ in mine]
            return record.batch, links, (await store.fetch_customer(name, "c0000001")).batch
        finally:
            await store.close()

    batch, links, other = asyncio.run(go(time.time()))  # erased after the version was made
    assert batch is None and links == [None] * len(mine) and other is not None
    batch, links, _ = asyncio.run(go(0.0))  # erased before: the version may hold the new one
    assert batch is not None and links == [cid] * len(mine)


def test_the_documented_privacy_examples(served: tuple[TestClient[Any], float]) -> None:
    """docs/api.md's consent request gives its documented answer; the erasure answer
    has the documented fields, and its `removed` the documented kinds in that order."""
    client, _ = served
    text = (Path(__file__).parents[2] / "docs" / "api.md").read_text()
    start = text.index("\n## DELETE /v1/customers/{customer_id}\n")
    end = text.index("\n## GET /health/live\n")
    blocks = [json.loads(b) for b in re.findall(r"```json\n(.*?)```", text[start:end], re.S)]
    erased, consent_request, consent_answer = blocks
    cid = consent_answer["customer_id"]
    r = client.put(f"/v1/customers/{cid}/consent", json=consent_request)
    assert r.status_code == 200 and r.json() == consent_answer
    got = client.delete(f"/v1/customers/{erased['customer_id']}").json()
    assert set(got) == set(erased) and list(got["removed"]) == list(erased["removed"])
    assert sum(erased["removed"].values()) == int(re.findall(r"erased (\d+)", erased["detail"])[0])


def test_export_decisions_withholds_an_erased_customers_late_records(
    world: World, tmp_path: Path
) -> None:
    """A decision-log record of an erased customer dated before the erasure (written
    while it ran) is not exported; the same customer's later record is."""
    from omnioffer.contracts.decision_log import LoggedDecision, decode_line
    from omnioffer.jobs.export_decisions import export_decisions

    cid = "c0000013"
    assert world.client.delete(f"/v1/customers/{cid}").status_code == 200

    def record(customer: str, ts: float) -> tuple[str, bytes]:
        logged = LoggedDecision(decision_id=f"d-{customer}-{ts:.0f}", ts=ts, customer_id=customer,
                                channel="app", model_version="v", strategy="ranker")  # fmt: skip
        return customer, msgspec.json.encode(logged)

    async def log() -> None:
        store = open_store(world.url)
        try:
            late, other = record(cid, world.now - 5), record("c0000014", world.now - 5)
            await store.log_decisions([late, other, record(cid, world.now + 5)])
        finally:
            await store.close()

    asyncio.run(log())
    out = tmp_path / "decisions.jsonl"
    n, _ = export_decisions(open_store(world.url), out)
    rows = [decode_line(line) for line in out.read_bytes().splitlines()]
    assert n == 2 and [(r.customer_id, r.ts > world.now) for r in rows] == [
        ("c0000014", False), (cid, True)]  # fmt: skip
