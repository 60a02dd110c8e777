"""Fixtures of the store contract: every test runs once per backend on an empty store."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

sys.path.append(str(Path(__file__).resolve().parents[1]))  # for tests/redis_server.py

from omnioffer.store import FeatureStore, StoreLimits
from omnioffer.store.redis import RedisStore
from omnioffer.store.redis.keys import PREFIX
from omnioffer.store.sqlite import EmbeddedStore
from redis_server import RedisServer, require_redis_server

StoreFactory = Callable[..., FeatureStore]


@pytest.fixture
def server() -> Iterator[RedisServer]:
    """A private redis-server for this test alone (it may stop, restart or break it)."""
    require_redis_server()
    srv = RedisServer().start()
    yield srv
    srv.cleanup()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """REDIS_URL when set (only this layout's "oo:2:*" keys are touched), else a private server."""
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    require_redis_server()
    server = RedisServer().start()
    try:
        yield server.url
    finally:
        server.cleanup()


def clean_prefix(url: str) -> None:
    """Delete this layout's keys only, so a shared REDIS_URL keeps everything else."""
    client = redis.Redis.from_url(url)
    try:
        batch = list(client.scan_iter(match=f"{PREFIX}*", count=1000))
        for start in range(0, len(batch), 1000):
            client.delete(*batch[start : start + 1000])
    finally:
        client.close()


@pytest.fixture
def aio() -> Iterator[asyncio.Runner]:
    """One event loop per test: the redis client's connections belong to it."""
    with asyncio.Runner() as runner:
        yield runner


@pytest.fixture(params=["embedded", "redis"])
def store_factory(
    request: pytest.FixtureRequest, tmp_path: Path, aio: asyncio.Runner
) -> Iterator[StoreFactory]:
    """Stores of one backend over the same (initially empty) data; all closed afterwards."""
    opened: list[FeatureStore] = []
    url = ""
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        clean_prefix(url)

    def make(limits: StoreLimits | None = None) -> FeatureStore:
        store: FeatureStore
        if request.param == "redis":
            store = RedisStore(url, limits=limits)
        else:
            store = EmbeddedStore(tmp_path / "store.sqlite", limits=limits)
        opened.append(store)
        return store

    yield make
    for store in opened:
        aio.run(store.close())


@pytest.fixture
def store(store_factory: StoreFactory) -> FeatureStore:
    return store_factory()


@pytest.fixture
def redis_factory(redis_url: str, aio: asyncio.Runner) -> Iterator[Callable[..., RedisStore]]:
    """Redis-only tests: RedisStores with any options, over one empty prefix; closed after."""
    clean_prefix(redis_url)
    opened: list[RedisStore] = []

    def make(url: str | None = None, **options: Any) -> RedisStore:
        store = RedisStore(url or redis_url, **options)
        opened.append(store)
        return store

    yield make
    for store in opened:
        aio.run(store.close())
