"""A Redis outage surfaces quickly as StoreUnavailable; the same store recovers by itself."""

from __future__ import annotations

import asyncio
import time

import pytest

from omnioffer.store import StoredEvent, StoreUnavailable
from omnioffer.store.redis import RedisStore
from redis_server import RedisServer


def test_outage_and_recovery(server: RedisServer, aio: asyncio.Runner) -> None:
    store = RedisStore(server.url)
    assert aio.run(store.ingest([StoredEvent("e1", "c1", b"p")])).accepted == ("e1",)
    assert aio.run(store.fetch_customer("v1", "c1")).events == [b"p"]

    server.stop()
    for call in (
        lambda: store.fetch_customer("v1", "c1"),
        lambda: store.ingest([StoredEvent("e2", "c1", b"q")]),
    ):
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match=f"127.0.0.1:{server.port}"):
            aio.run(call())
        assert time.monotonic() - started < 2.0

    server.start()  # same port, empty data (no persistence)
    assert aio.run(store.ingest([StoredEvent("e3", "c1", b"r")])).accepted == ("e3",)
    assert aio.run(store.fetch_customer("v1", "c1")).events == [b"r"]
    aio.run(store.close())


def test_password_is_not_in_messages(aio: asyncio.Runner) -> None:
    store = RedisStore("redis://user:s3cret@127.0.0.1:1/0")
    with pytest.raises(StoreUnavailable) as info:
        aio.run(store.ping())
    assert "s3cret" not in str(info.value)
    assert "user:***@127.0.0.1:1" in str(info.value)
    aio.run(store.close())
