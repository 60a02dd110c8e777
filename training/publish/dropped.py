"""What train dropped from its data (contracts/problems.DROP_KINDS), as the manifest
records it and the model card shows it."""

from __future__ import annotations

from collections.abc import Sequence

from omnioffer.contracts.artifact import DroppedRows
from omnioffer.contracts.problems import DROP_KINDS, Dropped

FIRST_ROWS = 10  # the first rows of each kind a version keeps


def dropped_rows(dropped: Sequence[Dropped]) -> list[DroppedRows]:
    """The manifest's `dropped`: one entry per kind, file and column."""
    return [
        DroppedRows(kind=d.kind, file=d.file, column=d.column, rows=d.rows,
                    first=[str(p) for p in d.first[:FIRST_ROWS]])
        for d in dropped
    ]  # fmt: skip


def dropped_notes(dropped: Sequence[Dropped]) -> list[str]:
    """One line per kind for train's report, e.g. "dropped 2 rows of offer_items.csv ..."."""
    return [
        f"dropped {d.describe()}, first {d.first[0].file}:{d.first[0].row}:{d.first[0].column}"
        " (train --strict refuses them)"
        for d in dropped
        if d.first
    ]


def dropped_section(dropped: Sequence[Dropped]) -> list[str]:
    """The model card's "Dropped rows" section (always there: none is news too)."""
    lines = ["## Dropped rows", ""]
    if not dropped:
        return [*lines, "None: every reference between the tables resolved, no event id "
                "repeated and no offer window ran backwards.", ""]  # fmt: skip
    lines += [
        "Rows of the training data left out (`train --strict` refuses them instead):",
        "",
        "| kind | file | column | rows | meaning | first rows |",
        "|---|---|---|---:|---|---|",
    ]
    for d in dropped:
        first = "<br>".join(f"`{p.file}:{p.row}:{p.column}`" for p in d.first[:3])
        lines.append(f"| {d.kind} | {d.file} | {d.column} | {d.rows:,} | {DROP_KINDS[d.kind]} "
                     f"| {first} |")  # fmt: skip
    return [*lines, ""]
