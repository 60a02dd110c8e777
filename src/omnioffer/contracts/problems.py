"""Contract problems: one located finding each, and the error that carries them.

Every problem names a file, a 1-based data row (0 for the file or its header) and a
column ("-" for none), so a user can jump straight to the bad cell.

Most problems make the data unusable. The kinds in DROP_KINDS do not: they are
referential problems of the optional tables, repeated event ids and offers whose window
runs backwards, which `train` drops by default (recording a `Dropped` per kind, file
and column) and `validate --strict` / `train --strict` refuse like any other problem.
"""

from __future__ import annotations

from dataclasses import dataclass

from omnioffer.contracts.schema import TABLES, Kind
from omnioffer.errors import DataError

NO_COLUMN = "-"
FILE_ROW = 0

DROP_KINDS: dict[str, str] = {
    "unknown_item": "names an item that is not in items",
    "unknown_offer": "names an offer that is not in offers",
    "offer_without_items": "an offer that covers no item of items",
    "dropped_offer": "an offer_items row of an offer dropped for its window",
    "duplicate_event_id": "repeats the event_id of an earlier event",
    "end_before_start": "an offer whose end is before its start",
}
"""Problems train drops instead of refusing the data, and what each means. Offers.items
loses the unknown items of its list (the offer stays); every other kind drops its row."""


@dataclass(frozen=True, order=True)
class Problem:
    """One contract violation at `file:row:column` (row 1 = first data row)."""

    file: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}:{self.column}: {self.message}"


@dataclass(frozen=True)
class Dropped:
    """Rows of one kind (DROP_KINDS) in one file column that train drops: how many, and
    the first ones."""

    kind: str
    file: str
    column: str
    rows: int
    first: tuple[Problem, ...]

    def describe(self) -> str:
        """E.g. "2 rows of offer_items.csv (item_id): names an item that is not in items";
        a list column counts the values taken out of its cells."""
        spec = TABLES[self.file.partition(".")[0]].column(self.column)
        noun = "list value" if spec is not None and spec.kind is Kind.LIST else "row"
        noun += "" if self.rows == 1 else "s"
        return f"{self.rows:,} {noun} of {self.file} ({self.column}): {DROP_KINDS[self.kind]}"


class ContractViolation(DataError):  # noqa: N818 (the contract's own name for it)
    """Input data breaks the contract; `problems` holds the first few, `total` counts all;
    `hint` (optional) says what else the user can do."""

    def __init__(self, problems: list[Problem], total: int, hint: str = "") -> None:
        self.problems = problems
        self.total = total
        shown = "\n".join(str(p) for p in problems)
        more = total - len(problems)
        tail = f"\n... and {more} more problems ({total} in total)" if more > 0 else ""
        tail += f"\n{hint}" if hint else ""
        super().__init__(f"data contract violated ({total} problems):\n{shown}{tail}")
