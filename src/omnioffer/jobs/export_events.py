"""The durable event log back as a data-contract v1 events file (`omnioffer export-events`).

Anonymous events keep their identifier (id_type, id_value) instead of a customer id,
exactly as they arrived, so retraining resolves them like any other history.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from omnioffer.contracts.payloads import decode_event
from omnioffer.errors import UsageError
from omnioffer.store.base import FeatureStore, StoreUnavailable

ANON = "anon:"
PAGE = 10_000  # log entries read, decoded and written at a time


def _row(cid: str, payload: bytes) -> dict[str, object]:
    e = decode_event(payload)
    who: dict[str, object] = {"customer_id": cid, "id_type": None, "id_value": None}
    if cid.startswith(ANON):
        id_type, _, id_value = cid.removeprefix(ANON).partition(":")
        who = {"customer_id": None, "id_type": id_type, "id_value": id_value}
    return {
        "event_id": e.event_id,
        "timestamp": datetime.fromtimestamp(e.ts, tz=UTC),
        "event_type": e.type,
        "channel": e.channel,
        **who,
        "item_id": e.item,
        "offer_id": e.offer,
        "quantity": e.qty,
        "revenue": e.revenue,
    }


SCHEMA: dict[str, pl.DataType] = {
    "event_id": pl.String(), "timestamp": pl.Datetime("us", "UTC"), "event_type": pl.String(),
    "channel": pl.String(), "customer_id": pl.String(), "id_type": pl.String(),
    "id_value": pl.String(), "item_id": pl.String(), "offer_id": pl.String(),
    "quantity": pl.Int64(), "revenue": pl.Float64(),
}  # fmt: skip


def _frame(page: list[tuple[str, str, bytes]]) -> pl.DataFrame:
    return pl.DataFrame([_row(cid, payload) for _, cid, payload in page], schema=SCHEMA,
                        orient="row")  # fmt: skip


class _Writer:
    """Pages of the log into one file: CSV appended as it comes, Parquet as part files
    that one streaming pass joins at the end (polars writes no row groups one by one)."""

    def __init__(self, tmp: Path, fmt: str, parts: Path) -> None:
        self.tmp, self.fmt, self.parts, self.count = tmp, fmt, parts, 0

    def add(self, frame: pl.DataFrame) -> None:
        if self.fmt == "csv":
            with self.tmp.open("ab") as out:
                frame.write_csv(out, include_header=self.count == 0)
        else:
            frame.write_parquet(self.parts / f"part-{self.count:08d}.parquet")
        self.count += 1

    def finish(self) -> None:
        if self.count == 0:  # an empty log still gives a file with the contract's columns
            self.add(pl.DataFrame(schema=SCHEMA))
        if self.fmt != "csv":
            files = sorted(self.parts.glob("part-*.parquet"))
            pl.scan_parquet(files).sink_parquet(self.tmp)


def export_events(
    store: FeatureStore,
    out_dir: Path,
    fmt: str = "parquet",
    *,
    page: int = PAGE,
    trim: bool = False,
) -> tuple[Path, int]:
    """Write the whole log to `out_dir/events.<fmt>`; its path and the number of events.
    The store is closed afterwards, whatever happened.

    The log is read `page` entries at a time and never held whole in memory. The file
    appears complete or not at all: a failure part way (the store going away) leaves
    any earlier `events.<fmt>` as it was and no temporary files behind.

    With `trim`, the exported entries are then deleted from the log, only once the file
    is on disk (fsync'd); entries added meanwhile stay for the next export. It refuses
    an `out_dir` already holding `events.<fmt>`: that file's events would be gone from
    both places once overwritten.
    """
    return asyncio.run(_export(store, out_dir, fmt, page, trim))


async def _export(
    store: FeatureStore, out_dir: Path, fmt: str, page: int, trim: bool
) -> tuple[Path, int]:
    target = out_dir / f"events.{fmt}"
    tmp = out_dir / f".events.{fmt}.tmp"
    try:
        if page < 1:
            raise ValueError(f"page must be >= 1, got {page}")
        if trim and target.exists():
            raise UsageError(
                f"{target} exists: move it away first (--trim deletes what it exports "
                "from the log, so an overwritten export would be lost)"
            )
        out_dir.mkdir(parents=True, exist_ok=True)
        tmp.unlink(missing_ok=True)  # left by a run that was killed: never append to it
        try:
            with tempfile.TemporaryDirectory(prefix=".events-parts-", dir=out_dir) as parts:
                writer = _Writer(tmp, fmt, Path(parts))
                n, ends = await _copy(store, writer, page)
                writer.finish()
            tmp.replace(target)  # readers never see a half-written file
        finally:
            tmp.unlink(missing_ok=True)
        if trim and ends:
            _durable(target)
            await _trim(store, target, n, ends)
        return target, n
    finally:
        await store.close()


async def _copy(store: FeatureStore, writer: _Writer, page: int) -> tuple[int, list[str]]:
    """Every log entry into `writer`, a page at a time; (count, each page's last id)."""
    ends: list[str]
    n, ends = 0, []
    while True:
        entries = await store.read_log(ends[-1] if ends else None, page)
        if entries:
            writer.add(_frame(entries))
            n += len(entries)
            ends.append(entries[-1][0])
        if len(entries) < page:
            return n, ends


async def _trim(store: FeatureStore, target: Path, n: int, ends: list[str]) -> None:
    """Delete the exported entries a page at a time: Redis runs one command at a time,
    and deleting millions in one XTRIM would hold every decision up meanwhile."""
    done = None
    try:
        for end in ends:
            await store.trim_log(end)
            done = end
    except StoreUnavailable as exc:
        where = "not trimmed" if done is None else f"trimmed only through entry {done}"
        raise StoreUnavailable(f"{target} holds all {n} events, but the log was {where}: "
                               f"{exc}") from exc  # fmt: skip


def _durable(path: Path) -> None:
    """fsync a file, then its folder (so the rename into it survives a crash too)."""
    for target, flags in ((path, os.O_RDONLY), (path.parent, os.O_RDONLY | os.O_DIRECTORY)):
        fd = os.open(target, flags)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
