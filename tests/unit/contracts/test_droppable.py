"""Messy data (issue 16, point 5): each referential problem of the optional tables, a
repeated event id and a backwards offer window leave the data usable. By default
validation reports them (count, first rows as file:row:column) and loading drops exactly
those rows; --strict refuses them, naming file:row:column."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from table_edits import Tables, WriteDir, set_cell

from omnioffer.cli.data import run_validate
from omnioffer.contracts.load import load_dataset
from omnioffer.contracts.problems import ContractViolation
from omnioffer.contracts.validate import load_valid, validate_dir


def _add_offer(offer_id: str, **cells: str) -> Callable[[Tables], None]:
    def mutate(tables: Tables) -> None:
        header = tables["offers"][0]
        row = dict.fromkeys(header, "") | {"offer_id": offer_id, "start": "2024-01-01"} | cells
        tables["offers"].append([row[name] for name in header])

    return mutate


@dataclass(frozen=True)
class Case:
    """A problem of one kind and what must go: (file, row, column) of every reported row,
    and the table rows (by a key column) or list values that loading takes out."""

    id: str
    mutate: list[Callable[[Tables], None]]
    reported: list[tuple[str, str, int, str]]  # kind, file, row, column
    says: str
    gone: dict[str, set[str]]  # table -> values of its key column no longer loaded


CASES = [
    Case(
        "offer lists an unknown item",
        [set_cell("offers", 1, "items", "i1|i9|i3")],
        [("unknown_item", "offers.csv", 1, "items")],
        "unknown item 'i9' (not in items.csv)",
        {},  # the offer stays, without i9 (checked below)
    ),
    Case(
        "offer_items names an unknown item",
        [set_cell("offer_items", 2, "item_id", "i9")],
        [("unknown_item", "offer_items.csv", 2, "item_id")],
        "unknown item 'i9' (not in items.csv)",
        {"offer_items": {"o1"}},
    ),
    Case(
        "offer_items names an unknown offer",
        [set_cell("offer_items", 1, "offer_id", "o9")],
        [("unknown_offer", "offer_items.csv", 1, "offer_id")],
        "unknown offer 'o9' (not in offers.csv)",
        {"offer_items": {"o9"}},
    ),
    Case(
        "an event names an unknown item",
        [set_cell("events", 3, "item_id", "i9")],
        [("unknown_item", "events.csv", 3, "item_id")],
        "unknown item 'i9' (not in items.csv)",
        {"events": {"e3"}},
    ),
    Case(
        "an offer covers no item",
        [_add_offer("o3", title="Free delivery")],
        [("offer_without_items", "offers.csv", 3, "offer_id")],
        "offer 'o3' covers no item of items.csv",
        {"offers": {"o3"}},
    ),
    Case(
        "an offer covers only unknown items",
        [_add_offer("o3", items="i8|i9")],
        [
            ("unknown_item", "offers.csv", 3, "items"),
            ("unknown_item", "offers.csv", 3, "items"),
            ("offer_without_items", "offers.csv", 3, "offer_id"),
        ],
        "offer 'o3' covers no item of items.csv",
        {"offers": {"o3"}},
    ),
    Case(
        "a repeated event id",
        [set_cell("events", 6, "event_id", "e2")],
        [("duplicate_event_id", "events.csv", 6, "event_id")],
        "duplicate event_id 'e2' (first at row 2)",
        {},  # one events row fewer, but e2 stays: its first row (checked below)
    ),
    Case(
        "an offer ends before it starts",
        [set_cell("offers", 1, "end", "2023-12-01")],
        [
            ("dropped_offer", "offer_items.csv", 2, "offer_id"),
            ("end_before_start", "offers.csv", 1, "end"),
        ],
        "end is before start",
        {"offers": {"o1"}, "offer_items": {"o1"}},
    ),
]
KEYS = {"events": "event_id", "offers": "offer_id", "offer_items": "offer_id"}


def _written(case: Case, tables: Tables, write_dir: WriteDir) -> Path:
    for mutate in case.mutate:
        mutate(tables)
    return write_dir(tables)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_by_default_the_rows_are_reported_and_dropped(
    case: Case, tables: Tables, write_dir: WriteDir
) -> None:
    root = _written(case, tables, write_dir)
    raw = load_dataset(root)  # as written, nothing dropped
    result = validate_dir(root)
    assert result.problems == [] and result.total == 0 and result.summary is not None
    found = [(d.kind, p.file, p.row, p.column) for d in result.dropped for p in d.first]
    assert sorted(found) == sorted(case.reported)
    assert all(d.rows == len(d.first) for d in result.dropped)
    assert case.says in "\n".join(p.message for d in result.dropped for p in d.first)
    out = io.StringIO()
    assert run_validate(root, out=out) == 0
    printed = out.getvalue()
    assert printed.startswith("train drops these (validate --strict and train --strict refuse")
    for _, file, row, column in case.reported:
        assert f"    {file}:{row}:{column}: " in printed
    assert "data is valid (contract v1)" in printed

    loaded = load_valid(root)
    assert loaded.dropped == result.dropped
    for table, key in KEYS.items():
        before, after = _rows(getattr(raw, table), key), _rows(getattr(loaded, table), key)
        gone = case.gone.get(table, set())
        assert set(before) - set(after) == gone and not set(after) & gone, table
        dropped_rows = {r for _, f, r, c in case.reported if f.startswith(table + ".")
                        and c != "items"}  # fmt: skip
        assert len(before) - len(after) == len(dropped_rows), table


def _rows(frame: pl.LazyFrame | None, key: str) -> list[str]:
    """The key column of every row."""
    assert frame is not None
    return [str(v) for v in frame.select(key).collect().get_column(key).to_list()]


def test_a_list_loses_only_its_unknown_values_and_a_repeat_only_its_later_row(
    tables: Tables, write_dir: WriteDir
) -> None:
    set_cell("offers", 1, "items", "i1|i9|i3")(tables)
    set_cell("events", 6, "event_id", "e2")(tables)
    loaded = load_valid(write_dir(tables))
    offers = loaded.offers
    assert offers is not None
    items = offers.select("offer_id", "items").collect().rows()
    assert items == [("o1", ["i1", "i3"]), ("o2", [])]
    events = loaded.events.select("event_id", "event_type").collect()
    assert events.get_column("event_id").to_list() == ["e1", "e2", "e3", "e4", "e5", "e7", "e8"]
    assert events.row(1) == ("e2", "purchase")  # the first e2 is kept, the repeat goes


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_strict_refuses_them_naming_file_row_and_column(
    case: Case, tables: Tables, write_dir: WriteDir
) -> None:
    root = _written(case, tables, write_dir)
    # strict drops nothing, so no row goes with a dropped offer
    refused = [(f, r, c) for k, f, r, c in case.reported if k != "dropped_offer"]
    out = io.StringIO()
    assert run_validate(root, out=out, strict=True) == 1
    lines = out.getvalue().splitlines()
    assert {tuple(line.split(": ")[0].split(":")) for line in lines[:-1]} == {
        (f, str(r), c) for f, r, c in refused
    }
    assert lines[-1].startswith(f"({len(refused)} of them refused by --strict only")
    with pytest.raises(ContractViolation) as caught:
        load_valid(root, strict=True)
    for file, row, column in refused:
        assert f"{file}:{row}:{column}: " in str(caught.value)
    assert "without --strict train drops those rows" in str(caught.value)


def test_errors_still_make_the_data_unusable_whatever_else_would_drop(
    tables: Tables, write_dir: WriteDir
) -> None:
    set_cell("offer_items", 2, "item_id", "i9")(tables)  # droppable
    set_cell("events", 2, "channel", "fax")(tables)  # an error
    root = write_dir(tables)
    result = validate_dir(root)
    assert [str(p) for p in result.problems] == ["events.csv:2:channel: unknown channel 'fax'"]
    with pytest.raises(ContractViolation):
        load_valid(root)
    assert run_validate(root, out=io.StringIO()) == 1
