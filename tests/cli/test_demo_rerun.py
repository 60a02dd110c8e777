"""A re-run of the demo keeps its store (events ingested into it included) and its
trained version; other settings are refused unless --fresh, which starts over."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from omnioffer.cli.demo_data import STORE, prepare_demo
from omnioffer.errors import UsageError
from omnioffer.jobs.materialize import materialize
from omnioffer.registry_list import list_versions
from omnioffer.store import open_store
from omnioffer.store.base import StoredEvent

SIZE = {"customers": 4_000, "seed": 5}


def _ingest_one(url: str, models: Path) -> None:
    """Materialize the demo's version and ingest one event, as a demo user would."""

    async def go() -> None:
        store = open_store(url)
        try:
            await materialize(store, models)
            event = StoredEvent("demo-user-1", "c0000001", b"payload", None, None)
            result = await store.ingest([event])
            assert result.accepted == ("demo-user-1",)
        finally:
            await store.close()

    asyncio.run(go())


def _log_ids(url: str) -> list[str]:
    async def go() -> list[str]:
        store = open_store(url)
        try:
            return [cid for _, cid, _ in await store.read_log(None, 10)]
        finally:
            await store.close()

    return asyncio.run(go())


def test_rerun_keeps_store_and_version_and_fresh_starts_over(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, models = tmp_path / "demo-data", tmp_path / "models"
    url = f"sqlite:///{out / STORE}"
    first = prepare_demo(out, **SIZE, models=models, fresh=False)
    _ingest_one(url, models)
    generated = (out / "GENERATED.json").stat().st_mtime_ns
    capsys.readouterr()

    again = prepare_demo(out, **SIZE, models=models, fresh=False)
    said = capsys.readouterr().out
    assert again == first and len(list_versions(models)) == 1  # not trained again
    assert "reuse the retailer" in said and f"reuse model version {first}" in said
    assert (out / "GENERATED.json").stat().st_mtime_ns == generated  # not regenerated
    assert _log_ids(url) == ["c0000001"]  # the ingested event is still there

    with pytest.raises(UsageError, match="--fresh"):
        prepare_demo(out, customers=3_000, seed=5, models=models, fresh=False)
    assert _log_ids(url) == ["c0000001"]  # refused before touching anything

    fresh = prepare_demo(out, **SIZE, models=models, fresh=True)
    assert fresh != first and not (out / STORE).exists()  # new data, new version, no store
    assert len(list_versions(models)) == 2
