"""Edits of the valid tables (tests/unit/contracts/conftest.py) that the validation tests
corrupt them with (a module of its own: test modules import it, and conftest names clash)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

Table = list[list[str]]  # header row, then data rows (row 1 = first data row)
Tables = dict[str, Table]
WriteDir = Callable[[Tables], Path]


def set_cell(table: str, row: int, column: str, value: str) -> Callable[[Tables], None]:
    """Set one cell; `row` is the 1-based data row, which is also the list index."""

    def mutate(tables: Tables) -> None:
        tables[table][row][tables[table][0].index(column)] = value

    return mutate
