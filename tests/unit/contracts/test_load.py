"""Loading: typed lazy frames from CSV and Parquet, ids as text, timestamps in UTC."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from omnioffer.contracts.load import load_dataset, locate_files, offer_item_pairs
from omnioffer.contracts.problems import ContractViolation
from omnioffer.contracts.validate import load_valid

Table = list[list[str]]
WriteDir = Callable[[dict[str, Table]], Path]

UTC_US = pl.Datetime("us", "UTC")
EXPECTED_EVENT_TIMES = [
    datetime(2024, 1, 1, 10, 0, tzinfo=UTC),  # ISO with Z
    datetime(2024, 1, 1, 10, 5, tzinfo=UTC),  # naive = UTC
    datetime(2024, 1, 2, tzinfo=UTC),  # date only
    datetime(2024, 1, 3, tzinfo=UTC),  # epoch seconds (int)
    datetime(2024, 1, 4, 7, 0, tzinfo=UTC),  # +02:00 offset
    datetime(2024, 1, 5, 12, 0, tzinfo=UTC),  # space separator, naive
    datetime(2024, 1, 6, 12, 0, tzinfo=UTC),
    datetime(2024, 1, 7, 8, 30, 0, 500_000, tzinfo=UTC),  # epoch seconds (float)
]


@pytest.fixture(params=["csv", "parquet"])
def data_dir(request: pytest.FixtureRequest, csv_dir: Path) -> Path:
    if request.param == "csv":
        return csv_dir
    path: Path = request.getfixturevalue("parquet_dir")
    return path


def test_frames_are_lazy_and_typed(data_dir: Path) -> None:
    ds = load_dataset(data_dir)
    assert isinstance(ds.events, pl.LazyFrame)
    events = ds.events.collect_schema()
    assert events["timestamp"] == UTC_US
    assert events["quantity"] == pl.Int64
    assert events["revenue"] == pl.Float64
    assert events["customer_id"] == pl.String
    assert ds.items is not None and ds.items.collect_schema()["price"] == pl.Float64
    assert ds.offers is not None
    offers = ds.offers.collect_schema()
    assert offers["items"] == pl.List(pl.String)
    assert offers["start"] == UTC_US
    assert offers["max_per_customer"] == pl.Int64
    assert ds.customers is not None
    assert ds.customers.collect_schema()["consent_sms"] == pl.Boolean
    assert set(ds.paths) == {"events", "items", "offers", "offer_items", "customers", "identities"}


def test_ids_stay_text(data_dir: Path) -> None:
    ds = load_dataset(data_dir)
    assert ds.events.collect().get_column("customer_id")[0] == "007"
    assert ds.items is not None
    assert "007" in ds.items.collect().get_column("item_id").to_list()


def test_timestamps_iso_naive_offset_date_and_epoch(data_dir: Path) -> None:
    times = load_dataset(data_dir).events.collect().get_column("timestamp").to_list()
    assert times == EXPECTED_EVENT_TIMES


def test_lists_split_on_pipe_and_empty_cell_is_empty_list(data_dir: Path) -> None:
    ds = load_dataset(data_dir)
    assert ds.offers is not None
    offers = ds.offers.collect()
    assert offers.get_column("items").to_list() == [["i1", "i3"], []]
    assert offers.get_column("channels").to_list() == [["web", "email"], []]
    assert offers.get_column("segments").to_list() == [["vip", "new"], []]


def test_quantity_defaults_to_one_and_booleans_parse(data_dir: Path) -> None:
    ds = load_dataset(data_dir)
    assert ds.events.collect().get_column("quantity").to_list() == [1, 2, 1, 1, 1, 1, 1, 1]
    assert ds.customers is not None
    customers = ds.customers.collect()
    assert customers.get_column("consent_email").to_list() == [True, True, False]
    assert customers.get_column("consent_sms").to_list() == [False, False, True]


def test_unknown_attribute_columns_are_kept_as_text(data_dir: Path) -> None:
    ds = load_dataset(data_dir)
    assert ds.items is not None and ds.customers is not None
    assert ds.items.collect().get_column("color").to_list() == ["red", "blue", None, "green"]
    assert ds.customers.collect_schema()["loyalty_tier"] == pl.String


def test_unknown_event_columns_are_dropped_with_a_warning(
    tables: dict[str, Table], write_dir: WriteDir, caplog: pytest.LogCaptureFixture
) -> None:
    for i, row in enumerate(tables["events"]):
        row.append("utm_source" if i == 0 else "x")
    with caplog.at_level(logging.WARNING, logger="omnioffer.contracts"):
        ds = load_dataset(write_dir(tables))
    assert "utm_source" not in ds.events.collect_schema().names()
    assert any("utm_source" in r.getMessage() for r in caplog.records)


def test_absent_optional_columns_are_typed_nulls(
    tables: dict[str, Table], write_dir: WriteDir
) -> None:
    events = tables["events"]
    keep = [
        events[0].index(c) for c in ("timestamp", "event_type", "channel", "customer_id", "item_id")
    ]
    tables = {"events": [[row[i] for i in keep] for row in events[:2]]}  # one view event
    ds = load_dataset(write_dir(tables))
    frame = ds.events.collect()
    assert frame.schema["offer_id"] == pl.String
    assert frame.schema["revenue"] == pl.Float64
    assert frame.get_column("offer_id").to_list() == [None]
    assert frame.get_column("quantity").to_list() == [1]
    assert ds.items is None and ds.offers is None


def test_parquet_naive_datetimes_and_epoch_numbers_are_utc(tmp_path: Path) -> None:
    naive = datetime(2024, 3, 1, 12, 30)
    events = pl.DataFrame(
        {
            "timestamp": [naive, naive],
            "event_type": ["view", "view"],
            "channel": ["web", "app"],
            "customer_id": ["c1", "c2"],
            "item_id": ["i1", "i2"],
        }
    )
    events.write_parquet(tmp_path / "events.parquet")
    got = load_dataset(tmp_path).events.collect().get_column("timestamp").to_list()
    assert got == [naive.replace(tzinfo=UTC)] * 2
    events.with_columns(pl.Series("timestamp", [1704067200, 1704067201])).write_parquet(
        tmp_path / "events.parquet"
    )
    got = load_dataset(tmp_path).events.collect().get_column("timestamp").to_list()
    assert got == [datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, 0, 0, 1, tzinfo=UTC)]


def test_offer_item_pairs_union_of_list_and_long_form(csv_dir: Path) -> None:
    pairs = offer_item_pairs(load_dataset(csv_dir)).collect().sort("offer_id", "item_id")
    assert pairs.rows() == [("o1", "i1"), ("o1", "i3"), ("o2", "i3")]


def test_load_valid_refuses_invalid_data_with_its_problems(
    tables: dict[str, Table], write_dir: WriteDir
) -> None:
    tables["events"][3][3] = "fax"
    with pytest.raises(ContractViolation) as caught:
        load_valid(write_dir(tables))
    assert [str(p) for p in caught.value.problems] == [
        "events.csv:3:channel: unknown channel 'fax'"
    ]
    assert caught.value.total == 1


def test_loading_alone_never_validates(tables: dict[str, Table], write_dir: WriteDir) -> None:
    tables["events"][3][3] = "fax"
    ds = load_dataset(write_dir(tables))
    assert ds.events.collect().get_column("channel")[2] == "fax"


def test_locate_files_flags_wrong_extension_and_duplicates(tmp_path: Path) -> None:
    for name in ("events.csv", "events.parquet", "items.json", "README.md", "offers.csv"):
        (tmp_path / name).write_text("x\n")
    paths, problems = locate_files(tmp_path)
    assert paths == {"events": tmp_path / "events.csv", "offers": tmp_path / "offers.csv"}
    assert [(p.file, p.row, p.column) for p in problems] == [
        ("events.parquet", 0, "-"),
        ("items.json", 0, "-"),
    ]
