"""open_store picks the backend from the URL and hands each the options it takes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from omnioffer.store import StoreError, StoreLimits, StoreOptions, open_store, sqlite_path
from omnioffer.store.redis import RedisStore
from omnioffer.store.sqlite import EmbeddedStore


def test_default_is_embedded_in_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aio: asyncio.Runner
) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store(None, StoreOptions(limits=StoreLimits(max_events_per_customer=7)))
    assert isinstance(store, EmbeddedStore)
    assert store.limits.max_events_per_customer == 7
    aio.run(store.close())
    assert (tmp_path / "omnioffer-store.sqlite").exists()


def test_sqlite_urls_and_paths(tmp_path: Path, aio: asyncio.Runner) -> None:
    for url in (f"sqlite://{tmp_path}/a.sqlite", str(tmp_path / "b.sqlite")):
        store = open_store(url)
        assert isinstance(store, EmbeddedStore)
        aio.run(store.close())
    assert (tmp_path / "a.sqlite").exists()
    assert (tmp_path / "b.sqlite").exists()
    assert sqlite_path("sqlite:///abs/x.sqlite") == Path("/abs/x.sqlite")
    assert sqlite_path("sqlite:////abs/x.sqlite") == Path("/abs/x.sqlite")
    assert sqlite_path("sqlite:rel/x.sqlite") == Path("rel/x.sqlite")


def test_redis_urls(aio: asyncio.Runner) -> None:
    for url in ("redis://127.0.0.1:1/0", "rediss://127.0.0.1:1/0"):
        store = open_store(url)
        assert isinstance(store, RedisStore)
        aio.run(store.close())


def test_unknown_scheme() -> None:
    with pytest.raises(StoreError, match="'postgres'"):
        open_store("postgres://db/x")


def test_redis_options(aio: asyncio.Runner) -> None:
    limits = StoreLimits(decision_ttl_s=60)
    options = StoreOptions(limits=limits, timeout_s=1.5, log_max_len=500)
    store = open_store("redis://127.0.0.1:1/0", options)
    assert isinstance(store, RedisStore)
    assert (store.limits, store.log_max_len) == (limits, 500)
    assert store.wire_pool is not None
    wire = store.wire_pool.options
    assert (wire.read_timeout, wire.connect_timeout) == (1.5, 1.5)
    aio.run(store.close())
    default = open_store("redis://127.0.0.1:1/0")
    assert isinstance(default, RedisStore) and default.wire_pool is not None
    assert (default.wire_pool.options.read_timeout, default.log_max_len) == (0.25, None)
    aio.run(default.close())


def test_the_embedded_store_ignores_the_redis_only_options(
    tmp_path: Path, aio: asyncio.Runner
) -> None:
    options = StoreOptions(limits=StoreLimits(max_events_per_customer=3), timeout_s=9.0,
                           log_max_len=1)  # fmt: skip
    store = open_store(str(tmp_path / "x.sqlite"), options)
    assert isinstance(store, EmbeddedStore)
    assert store.limits.max_events_per_customer == 3
    aio.run(store.close())
