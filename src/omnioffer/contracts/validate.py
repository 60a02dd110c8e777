"""Validate a data directory against data contract v1 and report every problem.

Files are checked first (presence, extension, bytes, header), then every row with
lazy polars expressions over a 1-based row index. Each check is counted in one pass
per table (all masks summed in one query), and only checks that fail are queried
again for their first `max_problems` rows, so a valid 20M-row file costs one scan and
an invalid one a few more, never a materialised list of every bad row.

Header-only files: an events file without data rows is a problem (there is nothing
to train on); an optional table with a header and no rows is valid and means "none".

Problems of a DROP_KINDS kind (references between tables, repeated event ids, offer
windows that run backwards) leave the data usable: they are reported apart, per kind,
with their count and first rows, and `load_valid` returns the data without those rows
(drops.py), unless `strict`, which refuses them like every other problem.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from omnioffer.contracts.checks import MESSAGE, ROW, Check, TableFrame, row_checks, table_frame
from omnioffer.contracts.drops import without_dropped
from omnioffer.contracts.load import Dataset, is_csv, load_dataset, locate_files, scan_raw
from omnioffer.contracts.problems import FILE_ROW, NO_COLUMN, ContractViolation, Dropped, Problem
from omnioffer.contracts.referential import FOLLOWERS, referential_checks
from omnioffer.contracts.schema import DEFAULT_CHANNELS, EVENTS, TABLES, TableSpec
from omnioffer.contracts.summary import Summary, summarize
from omnioffer.errors import UsageError

_CHUNK = 1 << 20
_READ_ERRORS = (pl.exceptions.PolarsError, OSError)


@dataclass(frozen=True)
class ValidationResult:
    """The first problems (sorted by file, then row), how many in all, and a summary if
    valid; `dropped`: the rows train drops (not problems unless `strict`); `refused`: how
    many of the problems are such rows, refused because `strict`."""

    problems: list[Problem]
    total: int
    summary: Summary | None = None
    dropped: tuple[Dropped, ...] = ()
    refused: int = 0

    @property
    def ok(self) -> bool:
        return self.total == 0


def validate_dir(
    data_dir: Path,
    *,
    channels: Sequence[str] = DEFAULT_CHANNELS,
    max_problems: int = 50,
    with_summary: bool = True,
    strict: bool = False,
) -> ValidationResult:
    """Check every file and row of `data_dir`; summarise the data only when it is valid
    (as train reads it: without the dropped rows)."""
    return _validate(data_dir, channels, max_problems, with_summary, strict)[0]


def load_valid(
    data_dir: Path, *, channels: Sequence[str] = DEFAULT_CHANNELS, strict: bool = False
) -> Dataset:
    """Validate, then load: the typed tables of a directory that meets the contract,
    without the rows of DROP_KINDS problems (recorded in `Dataset.dropped`).

    Raises ContractViolation with the problems when the data is invalid (with `strict`,
    also for rows it would drop), so nothing downstream ever runs on input that breaks
    the contract.
    """
    result, failing = _validate(data_dir, channels, 50, False, strict)
    if result.total:
        hint = ""
        if result.refused:
            hint = (f"({result.refused} of them refused by --strict: references between tables,"
                    " repeated event ids or backwards offer windows; without --strict train drops"
                    " those rows and records them in the version)")  # fmt: skip
        raise ContractViolation(result.problems, result.total, hint)
    return without_dropped(load_dataset(data_dir), failing, result.dropped)


def _validate(
    data_dir: Path, channels: Sequence[str], max_problems: int, with_summary: bool, strict: bool
) -> tuple[ValidationResult, list[Check]]:
    """The result, and the failing checks whose rows are dropped (none when `strict`)."""
    if not data_dir.is_dir():
        raise UsageError(f"not a directory: {data_dir}")
    if max_problems < 0:
        raise UsageError(f"max_problems must be >= 0, got {max_problems}")
    paths, problems = locate_files(data_dir)
    if EVENTS.name not in paths:
        message = "required file missing (events.csv or events.parquet)"
        problems.append(Problem(EVENTS.name, FILE_ROW, NO_COLUMN, message))
    frames: dict[str, TableFrame] = {}
    for name, path in paths.items():
        frame = _check_file(TABLES[name], path, problems)
        if frame is not None:
            frames[name] = frame
    checks = row_checks(frames, channels) + referential_checks(frames)
    if strict:  # nothing is dropped, so no row goes with a dropped offer
        checks = [c for c in checks if c.drop not in FOLLOWERS]
    run = _run_checks(checks, max_problems, strict)
    problems += run.problems
    total = run.total + len(problems) - len(run.problems)
    problems.sort()
    dropped = tuple(sorted(run.dropped, key=lambda d: (d.file, d.column, d.kind)))
    summary = None
    if total == 0 and with_summary:
        summary = summarize(without_dropped(load_dataset(data_dir), run.failing, dropped))
    result = ValidationResult(problems[:max_problems], total, summary, dropped, run.refused)
    return result, run.failing


def _check_file(spec: TableSpec, path: Path, problems: list[Problem]) -> TableFrame | None:
    """File-level checks; returns the frame to check rows on, or None if unreadable."""
    if path.stat().st_size == 0:
        problems.append(Problem(path.name, FILE_ROW, NO_COLUMN, "empty file (0 bytes)"))
        return None
    if is_csv(path) and (bad_bytes := utf8_problem(path)) is not None:
        problems.append(bad_bytes)
    try:
        frame = table_frame(spec, path, scan_raw(path))
    except _READ_ERRORS as exc:
        problems.append(Problem(path.name, FILE_ROW, NO_COLUMN, f"cannot read: {_short(exc)}"))
        return None
    problems += _header_problems(spec, path.name, frame.names)
    return frame


def _header_problems(spec: TableSpec, file: str, names: Sequence[str]) -> list[Problem]:
    """Missing required columns, and the any_of rule (customer_id or id_type + id_value)."""
    found = [
        Problem(file, FILE_ROW, name, "missing required column")
        for name in spec.required_columns
        if name not in names
    ]
    if spec.any_of and not any(all(n in names for n in group) for group in spec.any_of):
        need = " or ".join("+".join(group) for group in spec.any_of)
        found.append(Problem(file, FILE_ROW, spec.any_of[0][0], f"missing column: need {need}"))
    return found


def utf8_problem(path: Path) -> Problem | None:
    """The first byte that is not UTF-8, located by data row (0 = the header line)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = newlines = 0
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(_CHUNK)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                pending = len(exc.object) - len(chunk)
                at = offset - pending + exc.start
                row = newlines + chunk[: max(at - offset, 0)].count(b"\n")
                byte = exc.object[exc.start]
                message = f"not valid UTF-8: byte 0x{byte:02X} at offset {at}"
                return Problem(path.name, row, NO_COLUMN, message)
            if not chunk:
                return None
            newlines += chunk.count(b"\n")
            offset += len(chunk)


@dataclass
class _Run:
    problems: list[Problem]
    total: int
    dropped: list[Dropped]
    failing: list[Check]  # the droppable checks that found rows (none when strict)
    refused: int  # problems of droppable checks counted as errors (strict)


def _run_checks(checks: list[Check], max_problems: int, strict: bool) -> _Run:
    """Count every check (one query per source frame), then fetch rows of failing ones."""
    counts, problems = _count(checks)
    run = _Run(problems, len(problems), [], [], 0)
    for check in checks:
        count = counts.get(id(check), 0)
        if count == 0:
            continue
        rows = check.rows.select(
            pl.col(ROW).cast(pl.Int64), pl.col(MESSAGE).fill_null("invalid value")
        )
        try:
            frame = rows.head(max_problems).collect()
        except _READ_ERRORS as exc:  # pragma: no cover - the count query read it already
            run.problems.append(Problem(check.file, FILE_ROW, check.column, _short(exc)))
            run.total += count
            continue
        found = [
            Problem(check.file, int(row), check.column, str(message))
            for row, message in frame.iter_rows()
        ]
        if check.drop is not None and not strict:
            run.dropped.append(Dropped(check.drop, check.file, check.column, count, tuple(found)))
            run.failing.append(check)
            continue
        run.problems += found
        run.total += count
        run.refused += count if check.drop is not None else 0
    return run


def _count(checks: list[Check]) -> tuple[dict[int, int], list[Problem]]:
    """One aggregate query per source; a source that cannot be read is one file problem."""
    groups: dict[int, list[Check]] = {}
    for check in checks:
        groups.setdefault(id(check.source), []).append(check)
    counts: dict[int, int] = {}
    problems: list[Problem] = []
    broken: set[str] = set()
    for group in groups.values():
        if broken.intersection(group[0].files):
            continue
        exprs = [c.count.cast(pl.Int64).alias(str(i)) for i, c in enumerate(group)]
        try:
            row = group[0].source.select(exprs).collect(engine="streaming").row(0)
        except _READ_ERRORS as exc:
            broken.add(group[0].file)
            problems.append(_read_problem(group[0], exc))
            continue
        counts.update({id(c): int(n or 0) for c, n in zip(group, row, strict=True)})
    return counts, problems


def _read_problem(check: Check, exc: BaseException) -> Problem:
    """Locate a ragged CSV row (polars does not say which); else report the file."""
    path = check.path
    if path is not None and is_csv(path) and "more fields" in str(exc):
        located = ragged_row(path)
        if located is not None:
            row, fields, expected = located
            message = f"{fields} fields, but the header has {expected}"
            return Problem(check.file, row, NO_COLUMN, message)
    return Problem(check.file, FILE_ROW, NO_COLUMN, f"cannot read: {_short(exc)}")


def ragged_row(path: Path) -> tuple[int, int, int] | None:
    """(data row, fields, header fields) of the first record longer than the header."""
    with path.open(newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        for row, record in enumerate(reader, start=1):
            if len(record) > len(header):
                return row, len(record), len(header)
    return None


def _short(exc: BaseException) -> str:
    """First line of a polars error: the rest is hints meant for programmers."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
