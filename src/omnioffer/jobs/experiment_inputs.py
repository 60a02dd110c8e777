"""The inputs of experiment results and off-policy evaluation, read from exported files
(`export-decisions`' JSON Lines, `export-events`' events file) or from the store.

Every refusal names the file and line (row) and the field; nothing is half read.
The store is read a page at a time up to `limit` records of each log: results over
more than that are refused by name rather than silently computed on a prefix.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from omnioffer.contracts.decision_log import FORMAT, LoggedDecision, decode_line
from omnioffer.contracts.experiment_results import ExperimentResults, Query
from omnioffer.contracts.experiments import Definitions, Experiment
from omnioffer.contracts.payloads import Event, decode_event
from omnioffer.errors import DataError, NotFound
from omnioffer.jobs.experiment_results import CustomerEvent, experiment_results
from omnioffer.jobs.export_events import ANON
from omnioffer.store.base import FeatureStore

PAGE = 10_000
LIMIT = 1_000_000  # records of each log one results call reads at most


def read_decisions_file(path: Path) -> list[LoggedDecision]:
    """Every record of a decision-log JSON Lines file; DataError naming file:line."""
    try:
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise DataError(f"cannot read the decision log {path}: {exc.strerror or exc}") from exc
    out = []
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = decode_line(line)
        except msgspec.ValidationError as exc:
            raise DataError(f"{path}:{i}: {exc}") from exc
        except msgspec.DecodeError as exc:
            raise DataError(f"{path}:{i}: not a JSON object: {exc}") from exc
        if record.format != FORMAT:
            raise DataError(f"{path}:{i}: format: {record.format} is not {FORMAT}")
        out.append(record)
    return out


def _events_file(path: Path) -> Path:
    if path.is_dir():
        found = [p for p in (path / "events.parquet", path / "events.csv") if p.exists()]
        if not found:
            raise DataError(f"{path} holds no events.parquet or events.csv")
        return found[0]
    if not path.exists():
        raise DataError(f"no events file {path}")
    return path


def _stamp(value: object, where: str) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return when.timestamp() if when.tzinfo else when.replace(tzinfo=None).timestamp()
    raise DataError(f"{where}:timestamp: not a time: {value!r}")


def read_events_path(path: Path) -> list[CustomerEvent]:
    """An exported events file (or the folder holding it), as (customer, event): the
    customer is `customer_id`, or the store's anonymous key for id_type/id_value."""
    import polars as pl

    source = _events_file(path)
    try:
        frame = (
            pl.read_parquet(source)
            if source.suffix == ".parquet"
            else pl.read_csv(source, try_parse_dates=True, infer_schema_length=0)
        )
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise DataError(f"cannot read the events file {source}: {exc}") from exc
    missing = {"timestamp", "event_type", "channel"} - set(frame.columns)
    if missing:
        raise DataError(f"{source}: missing columns {', '.join(sorted(missing))}")
    out = []
    for row_no, row in enumerate(frame.iter_rows(named=True), 2):
        where = f"{source}:{row_no}"
        cid = row.get("customer_id")
        if not cid and row.get("id_type") and row.get("id_value"):
            cid = f"{ANON}{row['id_type']}:{row['id_value']}"
        if not cid:
            raise DataError(f"{where}:customer_id: empty (and no id_type/id_value)")
        try:
            revenue = row.get("revenue")
            event = Event(
                _stamp(row["timestamp"], where), str(row["event_type"]), str(row["channel"]),
                row.get("item_id") or None, row.get("offer_id") or None,
                int(row.get("quantity") or 1),
                None if revenue in (None, "") else float(revenue),
                row.get("event_id") or None,
            )  # fmt: skip
        except (TypeError, ValueError) as exc:
            raise DataError(f"{where}: {exc}") from exc
        out.append((str(cid), event))
    return out


T = TypeVar("T", bound=tuple[Any, ...])


async def read_all(
    read: Callable[[str | None, int], Awaitable[list[T]]], what: str, limit: int = LIMIT
) -> list[T]:
    """Page through a store log (`read(after, n)`, entries starting with their id), at
    most `limit` entries; DataError naming the log when it holds more."""
    out: list[T] = []
    after = None
    while True:
        page = await read(after, PAGE)
        out.extend(page)
        if len(out) > limit:
            raise DataError(f"the {what} holds more than {limit} entries: export it "
                            "and compute the results from the files")  # fmt: skip
        if len(page) < PAGE:
            return out
        after = str(page[-1][0])


def decode_log_events(entries: list[tuple[str, str, bytes]]) -> list[CustomerEvent]:
    """store.read_log's entries as (customer, event)."""
    return [(cid, decode_event(payload)) for _, cid, payload in entries]


def find_experiment(defs: Definitions, experiment_id: str) -> Experiment:
    """The experiment of that id; NotFound naming the ids there are."""
    found = defs.find(experiment_id)
    if found is None:
        known = ", ".join(e.id for e in defs.experiments) or "none"
        raise NotFound(f"no experiment {experiment_id!r} (defined: {known})")
    return found


async def stored_definitions(store: FeatureStore) -> Definitions:
    """The store's experiment definitions (an empty set when none are stored)."""
    stored = await store.get_experiments()
    if stored is None:
        return Definitions()
    return msgspec.json.decode(stored[1], type=Definitions)


async def results_from_store(
    store: FeatureStore, experiment_id: str, query: Query, limit: int = LIMIT
) -> ExperimentResults:
    """Results over the store's decision log and event log (at most `limit` entries of
    each, read a page at a time): what the results route computes."""
    experiment = find_experiment(await stored_definitions(store), experiment_id)
    entries = await read_all(store.read_decisions, "decision log", limit)
    decisions = []
    for entry_id, blob in entries:
        try:
            decisions.append(decode_line(blob))
        except msgspec.DecodeError as exc:
            raise DataError(f"decision log entry {entry_id}: {exc}") from exc
    events = decode_log_events(await read_all(store.read_log, "event log", limit))
    return experiment_results(experiment, decisions, events, query)
