"""Take out of a loaded Dataset the rows that failing `drop` checks found.

Rows are matched by their 1-based data row in the file (the index validation reports
them by), so what is dropped is exactly what was reported. A list cell (offers.items)
loses only the values named, its row stays. Still lazy: nothing is collected but the
row numbers of the rows to drop.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import polars as pl

from omnioffer.contracts.checks import ROW, VALUE, Check
from omnioffer.contracts.load import LIST_DTYPE, Dataset
from omnioffer.contracts.problems import Dropped
from omnioffer.contracts.schema import TABLES, Kind


def without_dropped(ds: Dataset, failing: Sequence[Check], dropped: Sequence[Dropped]) -> Dataset:
    """`ds` without what the failing droppable checks name, carrying their `dropped` record."""
    tables: dict[str, list[Check]] = {}
    for check in failing:
        tables.setdefault(check.table, []).append(check)
    changed: dict[str, Any] = {}  # table name -> its frame without the rows
    for table, checks in tables.items():
        frame: pl.LazyFrame | None = getattr(ds, table)
        if frame is None:  # cannot happen: a check ran on the file
            continue
        frame = frame.with_row_index(ROW, offset=1)
        rows = [c for c in checks if not _in_list(c)]
        if rows:
            bad = pl.concat([c.rows.select(ROW) for c in rows]).collect().get_column(ROW)
            frame = frame.filter(~pl.col(ROW).is_in(bad.implode()))
        for check in checks:
            if _in_list(check):
                frame = _without_values(frame, check.column, check.source)
        changed[table] = frame.drop(ROW)
    return dataclasses.replace(ds, **changed, dropped=tuple(dropped))


def _in_list(check: Check) -> bool:
    column = TABLES[check.table].column(check.column)
    return column is not None and column.kind is Kind.LIST


def _without_values(frame: pl.LazyFrame, column: str, pairs: pl.LazyFrame) -> pl.LazyFrame:
    """`frame` whose list `column` lacks the (ROW, VALUE) pairs given."""
    kept = (
        frame.select(ROW, pl.col(column).alias(VALUE))
        .explode(VALUE)
        .join(pairs.select(ROW, VALUE), on=[ROW, VALUE], how="anti")
        .group_by(ROW)
        .agg(pl.col(VALUE).drop_nulls().alias(column))
    )
    order = frame.collect_schema().names()
    return (
        frame.drop(column)
        .join(kept, on=ROW, how="left")
        .with_columns(pl.col(column).fill_null(pl.lit([], dtype=LIST_DTYPE)))
        .sort(ROW)
        .select(order)
    )
