"""A small valid data set (hand-checkable) and helpers to write and corrupt it."""

from __future__ import annotations

import copy
import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from omnioffer.contracts.validate import load_valid

Table = list[list[str]]  # header row, then data rows (row 1 = first data row)

VALID: dict[str, Table] = {
    "events": [
        [
            "event_id",
            "timestamp",
            "event_type",
            "channel",
            "customer_id",
            "id_type",
            "id_value",
            "item_id",
            "offer_id",
            "quantity",
            "revenue",
            "session_id",
        ],
        ["e1", "2024-01-01T10:00:00Z", "view", "web", "007", "", "", "i1", "", "", "", "s1"],
        [
            "e2",
            "2024-01-01T10:05:00",
            "purchase",
            "web",
            "007",
            "",
            "",
            "i1",
            "",
            "2",
            "19.98",
            "s1",
        ],
        ["e3", "2024-01-02", "purchase", "store", "007", "", "", "i1", "", "", "9.99", ""],
        ["e4", "1704240000", "purchase", "app", "c2", "", "", "i2", "", "1", "5.00", ""],
        [
            "e5",
            "2024-01-04T09:00:00+02:00",
            "offer_impression",
            "email",
            "",
            "cookie",
            "abc",
            "",
            "o1",
            "",
            "",
            "",
        ],
        ["e6", "2024-01-05 12:00:00", "add_to_cart", "web", "c3", "", "", "i3", "", "", "", ""],
        ["e7", "2024-01-06T12:00:00", "purchase", "web", "c3", "", "", "i3", "", "1", "7.5", ""],
        ["e8", "1704616200.5", "purchase", "app", "007", "", "", "i2", "", "1", "5", ""],
    ],
    "items": [
        ["item_id", "category", "price", "brand", "color"],
        ["i1", "shoes", "9.99", "acme", "red"],
        ["i2", "socks", "5", "acme", "blue"],
        ["i3", "hats", "7.50", "zeta", ""],
        ["007", "misc", "1", "zeta", "green"],
    ],
    "offers": [
        [
            "offer_id",
            "title",
            "items",
            "categories",
            "channels",
            "start",
            "end",
            "value",
            "discount",
            "segments",
            "max_per_customer",
        ],
        [
            "o1",
            "Shoe deal",
            "i1|i3",
            "shoes",
            "web|email",
            "2024-01-01",
            "2024-02-01",
            "3.5",
            "0.1",
            "vip|new",
            "2",
        ],
        ["o2", "All hats", "", "hats", "", "2024-01-01T00:00:00Z", "", "1.0", "", "", ""],
    ],
    "offer_items": [
        ["offer_id", "item_id"],
        ["o2", "i3"],
        ["o1", "i1"],
    ],
    "customers": [
        ["customer_id", "segment", "region", "consent_email", "consent_sms", "loyalty_tier"],
        ["007", "vip", "north", "yes", "0", "gold"],
        ["c2", "new", "south", "TRUE", "false", ""],
        ["c3", "new", "north", "no", "1", "silver"],
    ],
    "identities": [
        ["customer_id", "id_type", "id_value"],
        ["c3", "cookie", "abc"],
    ],
}


def write_csv_tables(root: Path, tables: dict[str, Table]) -> Path:
    """Write each table as `<name>.csv` (UTF-8, \\n line ends) under `root`."""
    root.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        with (root / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh, lineterminator="\n").writerows(rows)
    return root


@pytest.fixture
def tables() -> dict[str, Table]:
    """A fresh deep copy of the valid tables, safe to corrupt."""
    return copy.deepcopy(VALID)


@pytest.fixture
def csv_dir(tmp_path: Path) -> Path:
    return write_csv_tables(tmp_path / "csv", VALID)


@pytest.fixture
def parquet_dir(tmp_path: Path, csv_dir: Path) -> Path:
    """The same data as typed Parquet (Datetime, List, Int64 columns), as a generator writes it."""
    root = tmp_path / "parquet"
    root.mkdir()
    ds = load_valid(csv_dir)
    for name in ds.paths:
        frame = getattr(ds, name)
        frame.collect().write_parquet(root / f"{name}.parquet")
    return root


WriteDir = Callable[[dict[str, Table]], Path]


@pytest.fixture
def write_dir(tmp_path: Path) -> WriteDir:
    """Write tables to a new directory under tmp_path and return it."""
    counter = iter(range(1000))

    def write(tables: dict[str, Table]) -> Path:
        return write_csv_tables(tmp_path / f"data{next(counter)}", tables)

    return write
