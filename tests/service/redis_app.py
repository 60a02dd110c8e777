"""The real app over a private redis-server, with every answer it gave recorded (shared by
the outage tests: a stopped, hung or killed Redis)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from litestar.testing import TestClient

from omnioffer.service import create_service_app
from redis_server import RedisServer
from served_version import AS_OF_DAYS, iso, load_into, service_settings


@dataclass
class RedisApp:
    """The real app over a private Redis, with every answer it gave recorded."""

    client: TestClient[Any]
    redis: RedisServer
    models: Path
    now: float
    answers: list[tuple[str, int]] = field(default_factory=list)  # (path, status)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        r = self.client.request(method, path, json=body)
        self.answers.append((path, r.status_code))
        return r

    def timed(self, path: str, body: dict[str, Any]) -> tuple[dict[str, Any], float]:
        started = time.monotonic()
        r = self.call("POST", path, body)
        took = time.monotonic() - started
        assert r.status_code == 200, r.text
        answer: dict[str, Any] = r.json()
        return answer, took

    def decide(self, customer: str, channel: str, k: int = 10) -> dict[str, Any]:
        body = {"customer_id": customer, "channel": channel, "k": k}
        return self.timed("/v1/decisions", body)[0]

    def events(self, batch: list[dict[str, Any]]) -> httpx.Response:
        return self.call("POST", "/v1/events", {"events": batch})


@contextmanager
def redis_app(models: Path, redis: RedisServer, **settings: object) -> Iterator[RedisApp]:
    """A version materialised into `redis`, served with a frozen replay clock."""
    cutoff = load_into(redis.url, models)
    now = cutoff + timedelta(days=AS_OF_DAYS).total_seconds()
    chosen = service_settings(redis.url, models, as_of=iso(now), replay_clock="frozen", **settings)
    with TestClient(create_service_app(chosen)) as client:
        yield RedisApp(client, redis, models, now)


def redeems(cid: str, offers: list[str], now: float, tag: str = "") -> list[dict[str, Any]]:
    """Redemptions of `offers` in the last minute (with event ids `tag`N when `tag`)."""
    return [
        {"customer_id": cid, "channel": "store", "event_type": "offer_redeem",
         "offer_id": offer, "timestamp": iso(now - 60 + n)}
        | ({"event_id": f"{tag}{n}"} if tag else {})
        for n, offer in enumerate(offers)
    ]  # fmt: skip


def views(cid: str, items: list[str], now: float, tag: str) -> list[dict[str, Any]]:
    """Web views of `items` in the last minute, with event ids `tag`N."""
    return [
        {"customer_id": cid, "channel": "web", "event_type": "view", "item_id": item,
         "timestamp": iso(now - 50 + n), "event_id": f"{tag}{n}"}
        for n, item in enumerate(items)
    ]  # fmt: skip
