"""Contract: versioned batch data (both backends)."""

from __future__ import annotations

import asyncio

import pytest

from omnioffer.store import FeatureStore, StoreError, VersionInfo


async def load(store: FeatureStore, version: str, rows: dict[str, bytes]) -> None:
    """The materialize sequence: begin, globals, customers in chunks, finish."""
    await store.begin_version(version)
    await store.put_globals(version, {"vocab": f"vocab-{version}".encode()})
    items = list(rows.items())
    for start in range(0, len(items), 2):
        await store.put_customers(version, items[start : start + 2])
    await store.finish_version(version, {"trained": version})


def by_name(versions: list[VersionInfo]) -> dict[str, VersionInfo]:
    return {v.name: v for v in versions}


def test_empty_store(store: FeatureStore, aio: asyncio.Runner) -> None:
    assert isinstance(store, FeatureStore)
    aio.run(store.ping())
    assert aio.run(store.active_version()) is None
    assert aio.run(store.list_versions()) == []


def test_lifecycle(store: FeatureStore, aio: asyncio.Runner) -> None:
    aio.run(store.begin_version("v1"))
    aio.run(store.put_customers("v1", [("c1", b"one"), ("c2", b"two"), ("c3", b"three")]))
    (loading,) = aio.run(store.list_versions())
    assert (loading.name, loading.state, loading.customers, loading.active) == (
        "v1",
        "loading",
        3,
        False,
    )
    aio.run(store.finish_version("v1", {"rows": "3"}))
    aio.run(store.activate("v1"))
    assert aio.run(store.active_version()) == "v1"
    assert aio.run(store.list_versions()) == [VersionInfo("v1", "ready", 3, True, {"rows": "3"})]
    assert aio.run(store.fetch_customer("v1", "c2")).batch == b"two"


def test_count_ignores_rewritten_rows(store: FeatureStore, aio: asyncio.Runner) -> None:
    aio.run(store.begin_version("v1"))
    aio.run(store.put_customers("v1", [("c1", b"a"), ("c1", b"b")]))
    aio.run(store.put_customers("v1", [("c1", b"c"), ("c2", b"d")]))
    aio.run(store.finish_version("v1", {}))
    assert by_name(aio.run(store.list_versions()))["v1"].customers == 2
    assert aio.run(store.fetch_customer("v1", "c1")).batch == b"c"


def test_globals_are_per_version(store: FeatureStore, aio: asyncio.Runner) -> None:
    aio.run(load(store, "v1", {"c1": b"x"}))
    aio.run(load(store, "v2", {"c1": b"y"}))
    assert aio.run(store.get_global("v1", "vocab")) == b"vocab-v1"
    assert aio.run(store.get_global("v2", "vocab")) == b"vocab-v2"
    assert aio.run(store.get_global("v2", "missing")) is None
    assert aio.run(store.get_global("v3", "vocab")) is None


def test_activate_needs_ready(store: FeatureStore, aio: asyncio.Runner) -> None:
    with pytest.raises(StoreError, match="unknown"):
        aio.run(store.activate("nope"))
    aio.run(store.begin_version("v1"))
    with pytest.raises(StoreError, match="loading"):
        aio.run(store.activate("v1"))
    assert aio.run(store.active_version()) is None


def test_writes_need_a_loading_version(store: FeatureStore, aio: asyncio.Runner) -> None:
    with pytest.raises(StoreError):
        aio.run(store.put_customers("nope", [("c1", b"x")]))
    aio.run(load(store, "v1", {"c1": b"x"}))
    with pytest.raises(StoreError, match="not loading"):
        aio.run(store.put_customers("v1", [("c2", b"y")]))
    with pytest.raises(StoreError, match="not loading"):
        aio.run(store.finish_version("v1", {}))


def test_restart_clears_interrupted_load(store: FeatureStore, aio: asyncio.Runner) -> None:
    aio.run(store.begin_version("v1"))
    aio.run(store.put_customers("v1", [("old", b"x")]))
    aio.run(store.put_globals("v1", {"stale": b"x"}))
    aio.run(load(store, "v1", {"c1": b"new"}))
    assert aio.run(store.fetch_customer("v1", "old")).batch is None
    assert aio.run(store.get_global("v1", "stale")) is None
    assert by_name(aio.run(store.list_versions()))["v1"].customers == 1


def test_active_version_cannot_be_reloaded_or_dropped(
    store: FeatureStore, aio: asyncio.Runner
) -> None:
    aio.run(load(store, "v1", {"c1": b"x"}))
    aio.run(store.activate("v1"))
    with pytest.raises(StoreError, match="active"):
        aio.run(store.begin_version("v1"))
    with pytest.raises(StoreError, match="active"):
        aio.run(store.drop_version("v1"))
    assert aio.run(store.fetch_customer("v1", "c1")).batch == b"x"


def test_switch_and_rollback(store: FeatureStore, aio: asyncio.Runner) -> None:
    aio.run(load(store, "v1", {"c1": b"old"}))
    aio.run(store.activate("v1"))
    aio.run(load(store, "v2", {"c1": b"new", "c2": b"new"}))
    assert aio.run(store.active_version()) == "v1"
    aio.run(store.activate("v2"))
    versions = by_name(aio.run(store.list_versions()))
    assert (versions["v1"].active, versions["v2"].active) == (False, True)
    assert (versions["v1"].customers, versions["v2"].customers) == (1, 2)
    aio.run(store.activate("v1"))  # rollback: the older version is still there
    assert aio.run(store.active_version()) == "v1"
    assert aio.run(store.fetch_customer("v1", "c1")).batch == b"old"


def test_drop(store: FeatureStore, aio: asyncio.Runner) -> None:
    aio.run(load(store, "v1", {"c1": b"x"}))
    aio.run(load(store, "v10", {"c1": b"y"}))  # shares a name prefix, must survive
    aio.run(store.activate("v10"))
    aio.run(store.drop_version("v1"))
    assert [v.name for v in aio.run(store.list_versions())] == ["v10"]
    assert aio.run(store.fetch_customer("v1", "c1")).batch is None
    assert aio.run(store.get_global("v1", "vocab")) is None
    assert aio.run(store.fetch_customer("v10", "c1")).batch == b"y"
    with pytest.raises(StoreError, match="unknown"):
        aio.run(store.drop_version("v1"))
    with pytest.raises(StoreError, match="unknown"):
        aio.run(store.activate("v1"))


def test_list_versions_in_creation_order(store: FeatureStore, aio: asyncio.Runner) -> None:
    for name in ("b", "a", "c"):
        aio.run(load(store, name, {}))
    assert [v.name for v in aio.run(store.list_versions())] == ["b", "a", "c"]
    assert all(v.customers == 0 and v.state == "ready" for v in aio.run(store.list_versions()))


@pytest.mark.parametrize("bad", ["", "a b", "v:1", "v*", "{v}", "x" * 101])
def test_bad_version_names(store: FeatureStore, aio: asyncio.Runner, bad: str) -> None:
    with pytest.raises(StoreError, match="invalid version"):
        aio.run(store.begin_version(bad))
    assert aio.run(store.list_versions()) == []
