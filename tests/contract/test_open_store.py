"""open_store picks the backend from the URL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from omnioffer.store import StoreError, StoreLimits, open_store, sqlite_path
from omnioffer.store.embedded import EmbeddedStore
from omnioffer.store.redis_store import RedisStore


def test_default_is_embedded_in_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aio: asyncio.Runner
) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store(None, limits=StoreLimits(max_events_per_customer=7))
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
