"""Validation: every corruption of the valid fixture is reported at its exact file:row:column."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from table_edits import Tables, WriteDir, set_cell

from omnioffer.cli.data import run_validate
from omnioffer.contracts.validate import validate_dir
from omnioffer.errors import UsageError


def _drop(table: str, *columns: str) -> Callable[[Tables], None]:
    def mutate(tables: Tables) -> None:
        keep = [i for i, name in enumerate(tables[table][0]) if name not in columns]
        tables[table][:] = [[row[i] for i in keep] for row in tables[table]]

    return mutate


def _truncate(table: str) -> Callable[[Tables], None]:
    def mutate(tables: Tables) -> None:
        del tables[table][1:]

    return mutate


def _bytes(name: str, old: bytes, new: bytes) -> Callable[[Path], None]:
    def post(root: Path) -> None:
        path = root / name
        path.write_bytes(path.read_bytes().replace(old, new, 1))

    return post


def _rename(name: str, to: str) -> Callable[[Path], None]:
    return lambda root: (root / name).rename(root / to) and None


def _empty(name: str) -> Callable[[Path], None]:
    return lambda root: (root / name).write_bytes(b"")


def _also_parquet(table: str) -> Callable[[Path], None]:
    return lambda root: pl.read_csv(root / f"{table}.csv").write_parquet(root / f"{table}.parquet")


@dataclass(frozen=True)
class Case:
    """A corruption of the valid data and every problem location it must cause."""

    id: str
    expected: list[tuple[str, int, str]]
    mutate: Callable[[Tables], None] | None = None
    post: Callable[[Path], None] | None = None
    says: str = ""


CASES = [
    Case(
        "missing required column",
        [("events.csv", 0, "event_type")],
        _drop("events", "event_type"),
        says="missing required column",
    ),
    Case(
        "no customer columns at all",
        [("events.csv", 0, "customer_id")],
        _drop("events", "customer_id", "id_type", "id_value"),
        says="need customer_id or id_type+id_value",
    ),
    Case(
        "unparseable timestamp",
        [("events.csv", 3, "timestamp")],
        set_cell("events", 3, "timestamp", "2024-13-45"),
        says="unparseable timestamp '2024-13-45'",
    ),
    Case(
        "missing timestamp",
        [("events.csv", 2, "timestamp")],
        set_cell("events", 2, "timestamp", ""),
        says="missing value",
    ),
    Case(
        "unknown event_type",
        [("events.csv", 4, "event_type")],
        set_cell("events", 4, "event_type", "buy"),
        says="unknown event_type 'buy'",
    ),
    Case(
        "unknown channel",
        [("events.csv", 5, "channel")],
        set_cell("events", 5, "channel", "fax"),
        says="unknown channel 'fax'",
    ),
    Case(
        "missing channel",
        [("events.csv", 5, "channel")],
        set_cell("events", 5, "channel", ""),
        says="missing value",
    ),
    Case(
        "item event without item_id",
        [("events.csv", 7, "item_id")],
        set_cell("events", 7, "item_id", ""),
        says="purchase event without item_id",
    ),
    Case(
        "offer event without offer_id",
        [("events.csv", 5, "offer_id")],
        set_cell("events", 5, "offer_id", ""),
        says="offer_impression event without offer_id",
    ),
    Case(
        "event without customer",
        [("events.csv", 6, "customer_id")],
        set_cell("events", 6, "customer_id", ""),
        says="no customer_id",
    ),
    Case(
        "identifier half missing",
        [("events.csv", 5, "customer_id")],
        set_cell("events", 5, "id_value", ""),
    ),
    Case(
        "quantity below one",
        [("events.csv", 2, "quantity")],
        set_cell("events", 2, "quantity", "0"),
        says="quantity must be >= 1, got '0'",
    ),
    Case(
        "quantity not an integer",
        [("events.csv", 2, "quantity")],
        set_cell("events", 2, "quantity", "1.5"),
        says="not an integer '1.5'",
    ),
    Case(
        "revenue not a number",
        [("events.csv", 4, "revenue")],
        set_cell("events", 4, "revenue", "five"),
        says="not a number 'five'",
    ),
    Case(
        "revenue not finite",
        [("events.csv", 4, "revenue")],
        set_cell("events", 4, "revenue", "inf"),
    ),
    Case(
        "duplicate event_id",
        [("events.csv", 6, "event_id")],
        set_cell("events", 6, "event_id", "e2"),
        says="duplicate event_id 'e2' (first at row 2)",
    ),
    Case(
        "duplicate item_id",
        [("items.csv", 4, "item_id")],
        set_cell("items", 4, "item_id", "i2"),
        says="first at row 2",
    ),
    Case(
        "missing item_id",
        [("items.csv", 4, "item_id")],
        set_cell("items", 4, "item_id", " "),
        says="missing value",
    ),
    Case("price not a number", [("items.csv", 2, "price")], set_cell("items", 2, "price", "cheap")),
    Case(
        "duplicate offer_id",
        [("offer_items.csv", 1, "offer_id"), ("offers.csv", 2, "offer_id")],
        set_cell("offers", 2, "offer_id", "o1"),
    ),
    Case(
        "offer with unknown item",
        [("offers.csv", 1, "items")],
        set_cell("offers", 1, "items", "i1|i9"),
        says="unknown item 'i9' (not in items.csv)",
    ),
    Case(
        "offer with unknown channel",
        [("offers.csv", 1, "channels")],
        set_cell("offers", 1, "channels", "web|fax"),
        says="unknown channel 'fax'",
    ),
    Case(
        "offer ends before it starts",
        [("offers.csv", 1, "end")],
        set_cell("offers", 1, "end", "2023-12-01"),
        says="end is before start",
    ),
    Case(
        "offer start unparseable",
        [("offers.csv", 2, "start")],
        set_cell("offers", 2, "start", "soon"),
    ),
    Case(
        "offer value not a number",
        [("offers.csv", 2, "value")],
        set_cell("offers", 2, "value", "x"),
    ),
    Case(
        "offer max_per_customer not an integer",
        [("offers.csv", 1, "max_per_customer")],
        set_cell("offers", 1, "max_per_customer", "two"),
    ),
    Case(
        "offer_items unknown item",
        [("offer_items.csv", 2, "item_id")],
        set_cell("offer_items", 2, "item_id", "i9"),
        says="unknown item 'i9'",
    ),
    Case(
        "offer_items unknown offer",
        [("offer_items.csv", 1, "offer_id")],
        set_cell("offer_items", 1, "offer_id", "o9"),
        says="unknown offer 'o9' (not in offers.csv)",
    ),
    Case(
        "duplicate customer_id",
        [("customers.csv", 3, "customer_id")],
        set_cell("customers", 3, "customer_id", "c2"),
    ),
    Case(
        "bad consent boolean",
        [("customers.csv", 2, "consent_sms")],
        set_cell("customers", 2, "consent_sms", "maybe"),
        says="not a boolean",
    ),
    Case(
        "identity without id_value",
        [("identities.csv", 1, "id_value")],
        set_cell("identities", 1, "id_value", ""),
    ),
    Case("events header only", [("events.csv", 0, "-")], _truncate("events"), says="no data rows"),
    Case(
        "non-UTF-8 bytes",
        [("events.csv", 4, "-")],
        set_cell("events", 4, "session_id", "XBADX"),
        _bytes("events.csv", b"XBADX", b"\xff\xfe"),
        says="not valid UTF-8: byte 0xFF",
    ),
    Case(
        "non-UTF-8 in header",
        [("items.csv", 0, "-")],
        post=_bytes("items.csv", b"brand", b"br\xe9nd"),
    ),
    Case(
        "truncated UTF-8 at end of file",
        [("identities.csv", 1, "-")],
        post=_bytes("identities.csv", b"abc\n", b"abc\xc3"),
    ),
    Case(
        "ragged row",
        [("offer_items.csv", 2, "-")],
        post=_bytes("offer_items.csv", b"o1,i1", b"o1,i1,extra"),
        says="3 fields, but the header has 2",
    ),
    Case("empty file", [("items.csv", 0, "-")], post=_empty("items.csv"), says="empty file"),
    Case("empty events file", [("events.csv", 0, "-")], post=_empty("events.csv")),
    Case(
        "wrong file extension",
        [("items.json", 0, "-")],
        post=_rename("items.csv", "items.json"),
        says="unsupported file type",
    ),
    Case(
        "events as .txt",
        [("events", 0, "-"), ("events.txt", 0, "-")],
        post=_rename("events.csv", "events.txt"),
        says="required file missing",
    ),
    Case(
        "csv and parquet for one table",
        [("items.parquet", 0, "-")],
        post=_also_parquet("items"),
        says="items.csv is also present",
    ),
]


def _apply(case: Case, tables: Tables, write_dir: WriteDir) -> Path:
    if case.mutate is not None:
        case.mutate(tables)
    root = write_dir(tables)
    if case.post is not None:
        case.post(root)
    return root


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_corruption_is_reported_at_its_location(
    case: Case, tables: Tables, write_dir: WriteDir
) -> None:
    """Strict: the rows train would drop (test_droppable.py) are problems here too."""
    root = _apply(case, tables, write_dir)
    result = validate_dir(root, strict=True)
    assert [(p.file, p.row, p.column) for p in result.problems] == case.expected
    assert result.total == len(case.expected)
    assert result.summary is None
    assert case.says in "\n".join(p.message for p in result.problems)
    out = io.StringIO()
    assert run_validate(root, out=out, strict=True) == 1
    lines = out.getvalue().splitlines()
    refused = [f"({result.refused} of them refused by --strict only: without it train drops"
               " those rows)"] if result.refused else []  # fmt: skip
    assert lines == [str(p) for p in result.problems] + refused


@pytest.mark.parametrize("fixture", ["csv_dir", "parquet_dir"])
def test_valid_fixture_validates_clean(fixture: str, request: pytest.FixtureRequest) -> None:
    root: Path = request.getfixturevalue(fixture)
    result = validate_dir(root)
    assert result.problems == []
    assert result.total == 0
    assert result.summary is not None
    out = io.StringIO()
    assert run_validate(root, out=out) == 0
    assert out.getvalue().startswith("data is valid")


def test_every_problem_is_reported_not_just_the_first(tables: Tables, write_dir: WriteDir) -> None:
    set_cell("events", 1, "channel", "fax")(tables)
    set_cell("events", 8, "timestamp", "yesterday")(tables)
    set_cell("items", 3, "price", "?")(tables)
    set_cell("customers", 1, "consent_email", "perhaps")(tables)
    result = validate_dir(write_dir(tables))
    assert [str(p).split(": ")[0] for p in result.problems] == [
        "customers.csv:1:consent_email",
        "events.csv:1:channel",
        "events.csv:8:timestamp",
        "items.csv:3:price",
    ]


def test_max_problems_truncates_with_a_count(tables: Tables, write_dir: WriteDir) -> None:
    for row in range(1, 6):
        set_cell("events", row, "channel", "fax")(tables)
    root = write_dir(tables)
    result = validate_dir(root, max_problems=2)
    assert [p.row for p in result.problems] == [1, 2]
    assert result.total == 5
    out = io.StringIO()
    assert run_validate(root, max_problems=2, out=out) == 1
    assert out.getvalue().splitlines() == [
        "events.csv:1:channel: unknown channel 'fax'",
        "events.csv:2:channel: unknown channel 'fax'",
        "... and 3 more problems (5 in total)",
    ]


def test_problems_are_deterministic_and_sorted(tables: Tables, write_dir: WriteDir) -> None:
    for row in (7, 2, 5):
        set_cell("events", row, "event_id", "e1")(tables)
        set_cell("events", row, "channel", "fax")(tables)
    root = write_dir(tables)
    first, second = validate_dir(root, strict=True), validate_dir(root, strict=True)
    assert first.problems == second.problems
    assert first.problems == sorted(first.problems)
    assert [(p.row, p.column) for p in first.problems] == [
        (2, "channel"),
        (2, "event_id"),
        (5, "channel"),
        (5, "event_id"),
        (7, "channel"),
        (7, "event_id"),
    ]


def test_rows_count_records_not_lines(tables: Tables, write_dir: WriteDir) -> None:
    """A quoted newline inside a cell does not shift the row numbers of later rows."""
    set_cell("offers", 1, "title", "two\nlines")(tables)
    set_cell("offers", 2, "value", "x")(tables)
    result = validate_dir(write_dir(tables))
    assert [str(p) for p in result.problems] == ["offers.csv:2:value: not a number 'x'"]


def test_channels_parameter_sets_the_vocabulary(csv_dir: Path) -> None:
    result = validate_dir(csv_dir, channels=("web", "app", "store", "email", "kiosk"))
    assert result.total == 0
    result = validate_dir(csv_dir, channels=("app", "store", "email"))
    assert [(p.file, p.row, p.column) for p in result.problems] == [
        ("events.csv", 1, "channel"),
        ("events.csv", 2, "channel"),
        ("events.csv", 6, "channel"),
        ("events.csv", 7, "channel"),
        ("offers.csv", 1, "channels"),
    ]


def test_header_only_optional_table_is_valid(tables: Tables, write_dir: WriteDir) -> None:
    _truncate("identities")(tables)
    assert validate_dir(write_dir(tables)).total == 0


def test_parquet_problems_use_row_numbers_too(tmp_path: Path) -> None:
    pl.DataFrame(
        {
            "timestamp": ["2024-01-01", "2024-01-02", "not a time", "2024-01-04"],
            "event_type": ["view", "view", "view", "view"],
            "channel": ["web", "web", "web", "web"],
            "customer_id": ["c1", "c1", "c2", "c2"],
            "item_id": ["i1", "i2", "i3", "i1"],
            "event_id": ["a", "b", "c", "a"],
        }
    ).write_parquet(tmp_path / "events.parquet")
    assert [str(p) for p in validate_dir(tmp_path, strict=True).problems] == [
        "events.parquet:3:timestamp: unparseable timestamp 'not a time'",
        "events.parquet:4:event_id: duplicate event_id 'a' (first at row 1)",
    ]


def test_missing_directory_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        run_validate(tmp_path / "nope")
    with pytest.raises(UsageError):
        validate_dir(tmp_path / "nope")
