"""`export-events` reads the log a page at a time, writes the file whole or not at all,
and with `trim` deletes from the log only what the file holds."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, cast

import polars as pl
import pytest
from helpers import event_log, post_events
from litestar.testing import TestClient

from omnioffer.cli.data import run_validate
from omnioffer.cli.store import run_export
from omnioffer.errors import UsageError
from omnioffer.jobs.export_events import export_events
from omnioffer.store import open_store
from omnioffer.store.base import FeatureStore, StoreUnavailable
from served_version import iso

EVENTS = 8


def _post(client: TestClient, now: float) -> None:
    events = [
        {"customer_id": f"c000000{n % 3 + 1}", "channel": ("web", "app", "store")[n % 3],
         "event_type": "view", "item_id": f"i00000{n + 1}", "timestamp": iso(now - 100 + n)}
        for n in range(EVENTS - 1)
    ] + [{"id_type": "cookie", "id_value": "ck-x", "channel": "web", "event_type": "view",
          "item_id": "i000009", "timestamp": iso(now - 10)}]  # fmt: skip
    assert post_events(client, *events) == {"accepted": EVENTS, "duplicates": 0}


def _read(path: Path) -> pl.DataFrame:
    if path.suffix == ".csv":
        return pl.read_csv(path, infer_schema=False)
    return pl.read_parquet(path)


class _FailsOnPage:
    """A store whose log read fails on one page (the store going away part way)."""

    def __init__(self, store: FeatureStore, failing_call: int) -> None:
        self._store, self._failing, self.calls = store, failing_call, 0

    async def read_log(self, after: str | None, limit: int) -> list[tuple[str, str, bytes]]:
        self.calls += 1
        if self.calls == self._failing:
            raise StoreUnavailable("connection lost")
        return await self._store.read_log(after, limit)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_a_paged_export_equals_the_one_page_export_in_log_order(
    served: tuple[TestClient, float], embedded_url: str, tmp_path: Path, fmt: str
) -> None:
    client, now = served
    _post(client, now)
    whole = export_events(open_store(embedded_url), tmp_path / "whole", fmt)
    n_whole, whole = whole.events, whole.path
    paged = export_events(open_store(embedded_url), tmp_path / "paged", fmt, page=3)
    n_paged, paged = paged.events, paged.path
    assert n_whole == n_paged == EVENTS
    frame = _read(paged)
    assert frame.equals(_read(whole))
    items = [f"i00000{n + 1}" for n in range(EVENTS - 1)] + ["i000009"]
    assert frame.get_column("item_id").to_list() == items
    assert frame.get_column("id_value").to_list()[-1] == "ck-x"
    assert run_validate(tmp_path / "paged") == 0
    assert sorted(p.name for p in (tmp_path / "paged").iterdir()) == [
        f"consents.{fmt}", f"erasures.{fmt}", f"events.{fmt}"]  # fmt: skip


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_an_empty_log_gives_a_file_with_the_contract_columns(
    served: tuple[TestClient, float], embedded_url: str, tmp_path: Path, fmt: str
) -> None:
    done = export_events(open_store(embedded_url), tmp_path / "out", fmt)
    path, n = done.path, done.events
    frame = _read(path)
    assert n == 0 and frame.height == 0
    assert "event_id" in frame.columns and "revenue" in frame.columns


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_a_store_failure_part_way_leaves_the_earlier_file_and_no_temporary_files(
    served: tuple[TestClient, float], embedded_url: str, tmp_path: Path, fmt: str
) -> None:
    client, now = served
    post_events(client, {"customer_id": "c0000001", "channel": "web", "event_type": "view",
                         "item_id": "i000001", "timestamp": iso(now - 200)})  # fmt: skip
    out = tmp_path / "out"
    earlier = export_events(open_store(embedded_url), out, fmt).path
    before = earlier.read_bytes()
    _post(client, now)
    failing = _FailsOnPage(open_store(embedded_url), failing_call=3)
    with pytest.raises(StoreUnavailable):
        export_events(cast(FeatureStore, failing), out, fmt, page=2)
    assert failing.calls == 3, "two pages were written before the failure"
    assert earlier.read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == [
        f"consents.{fmt}", f"erasures.{fmt}", f"events.{fmt}"]  # fmt: skip


def test_a_temporary_file_left_by_a_killed_run_is_not_appended_to(
    served: tuple[TestClient, float], embedded_url: str, tmp_path: Path
) -> None:
    client, now = served
    _post(client, now)
    out = tmp_path / "out"
    out.mkdir()
    (out / ".events.csv.tmp").write_text("garbage,from,a,killed,run\n")
    done = export_events(open_store(embedded_url), out, "csv", page=3)
    path, n = done.path, done.events
    assert n == EVENTS and _read(path).height == EVENTS
    assert "garbage" not in path.read_text()


def test_a_page_size_below_one_is_refused(embedded_url: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="page must be >= 1"):
        export_events(open_store(embedded_url), tmp_path, page=0)
    assert not tmp_path.joinpath("events.parquet").exists()


class _TrimFailsOnCall:
    """A store whose log trim fails on one call (the store going away part way)."""

    def __init__(self, store: FeatureStore, failing_call: int) -> None:
        self._store, self._failing, self.calls = store, failing_call, 0

    async def trim_log(self, through: str) -> int:
        self.calls += 1
        if self.calls == self._failing:
            raise StoreUnavailable("connection lost")
        return await self._store.trim_log(through)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_trim_deletes_what_was_exported_and_the_next_export_gets_the_rest(
    served: tuple[TestClient, float], embedded_url: str, tmp_path: Path
) -> None:
    client, now = served
    _post(client, now)
    done = export_events(open_store(embedded_url), tmp_path / "a", page=3, trim=True)
    first, n = done.path, done.events
    assert n == EVENTS and _read(first).height == EVENTS
    assert event_log(embedded_url) == []
    post_events(client, {"customer_id": "c0000001", "channel": "email", "event_type": "view",
                         "item_id": "i000010", "timestamp": iso(now - 5)})  # fmt: skip
    done = export_events(open_store(embedded_url), tmp_path / "b", trim=True)
    second, n = done.path, done.events
    assert n == 1 and _read(second).get_column("item_id").to_list() == ["i000010"]
    assert _read(first).height == EVENTS, "the first export is left alone"


def test_trim_refuses_a_folder_that_holds_an_export_and_touches_nothing(
    served: tuple[TestClient, float], embedded_url: str, tmp_path: Path
) -> None:
    client, now = served
    _post(client, now)
    path = export_events(open_store(embedded_url), tmp_path).path  # no trim: the log stays
    before, log = path.read_bytes(), event_log(embedded_url)
    with pytest.raises(UsageError, match=r"events\.parquet exists: move it away first"):
        export_events(open_store(embedded_url), tmp_path, trim=True)
    assert path.read_bytes() == before and event_log(embedded_url) == log and len(log) == EVENTS


def test_a_trim_that_fails_part_way_says_how_far_it_got_and_keeps_the_rest(
    served: tuple[TestClient, float], embedded_url: str, tmp_path: Path
) -> None:
    client, now = served
    _post(client, now)
    failing = _TrimFailsOnCall(open_store(embedded_url), failing_call=2)
    with pytest.raises(StoreUnavailable, match="holds all 8 events, but the log was trimmed only"):
        export_events(cast(FeatureStore, failing), tmp_path, "csv", page=3, trim=True)
    assert _read(tmp_path / "events.csv").height == EVENTS, "the file is whole"
    assert len(event_log(embedded_url)) == EVENTS - 3, "the first page went, the rest stays"


def test_the_cli_trims_and_says_so(
    served: tuple[TestClient, float], embedded_url: str, tmp_path: Path
) -> None:
    client, now = served
    _post(client, now)
    out = io.StringIO()
    assert run_export(open_store(embedded_url), tmp_path, "csv", out, trim=True) == 0
    assert out.getvalue() == (
        f"exported {EVENTS} events to {tmp_path / 'events.csv'}; "
        f"{EVENTS} entries deleted from the log\n"
    )
    assert event_log(embedded_url) == []
