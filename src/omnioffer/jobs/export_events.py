"""The durable event log back as data-contract v1 files (`omnioffer export-events`).

Three files, side by side: `events` (every ingested event), `consents` (each live
consent change, one row per channel: customer_id, timestamp, channel, granted) and
`erasures` (every tombstone: digest, erased_at), so `train` on the folder honours both.
Anonymous events keep their identifier (id_type, id_value) instead of a customer id,
exactly as they arrived, so retraining resolves them like any other history.

Tombstones are honoured here too: an entry of an erased customer (or identifier) dated
at or before its erasure is withheld, whether it was ingested before the erasure and
not yet removed, or arrived late with an older timestamp; entries dated after it are a
new history and are exported.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from omnioffer.contracts.erasure import owner_digest
from omnioffer.contracts.payloads import ConsentChange, Event, decode_log_entry
from omnioffer.errors import UsageError
from omnioffer.store.base import FeatureStore, StoreUnavailable

ANON = "anon:"
PAGE = 10_000  # log entries read, decoded and written at a time


@dataclass(frozen=True)
class Exported:
    """What one export wrote: the events file and its count, the consent changes and
    tombstones beside it, and how many entries of erased customers it withheld."""

    path: Path
    events: int
    consents: int = 0
    tombstones: int = 0
    withheld: int = 0


def _row(cid: str, e: Event) -> dict[str, object]:
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


CONSENT_SCHEMA: dict[str, pl.DataType] = {
    "customer_id": pl.String(), "timestamp": pl.Datetime("us", "UTC"), "channel": pl.String(),
    "granted": pl.Boolean(),
}  # fmt: skip
ERASURE_SCHEMA: dict[str, pl.DataType] = {
    "digest": pl.String(), "erased_at": pl.Datetime("us", "UTC"),
}  # fmt: skip


def _consent_rows(cid: str, change: ConsentChange) -> list[dict[str, object]]:
    at = datetime.fromtimestamp(change.ts, tz=UTC)
    return [{"customer_id": cid, "timestamp": at, "channel": channel, "granted": granted}
            for channel, granted in sorted(change.consent.items())]  # fmt: skip


class _Page:
    """One page of log entries, sorted into events and consent changes, less the
    entries the tombstones withhold."""

    def __init__(self, entries: list[tuple[str, str, bytes]], tombs: dict[str, float]) -> None:
        self.events: list[dict[str, object]] = []
        self.consents: list[dict[str, object]] = []
        self.withheld = 0
        digests: dict[str, str] = {}
        for _, cid, payload in entries:
            entry = decode_log_entry(payload)
            if tombs:
                digest = digests.get(cid) or digests.setdefault(cid, owner_digest(cid))
                if digest in tombs and entry.ts <= tombs[digest]:
                    self.withheld += 1
                    continue
            if isinstance(entry, ConsentChange):
                self.consents += _consent_rows(cid, entry)
            else:
                self.events.append(_row(cid, entry))

    def frames(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        return (pl.DataFrame(self.events, schema=SCHEMA, orient="row"),
                pl.DataFrame(self.consents, schema=CONSENT_SCHEMA, orient="row"))  # fmt: skip


class _Writer:
    """Frames into one file: CSV appended as it comes, Parquet as part files that one
    streaming pass joins at the end (polars writes no row groups one by one). The file
    is written to a temporary name; `publish` moves it into place."""

    def __init__(self, out_dir: Path, name: str, schema: dict[str, pl.DataType], fmt: str,
                 parts: Path) -> None:  # fmt: skip
        self.target = out_dir / f"{name}.{fmt}"
        self.tmp = out_dir / f".{name}.{fmt}.tmp"
        self.schema, self.fmt, self.parts, self.count = schema, fmt, parts / name, 0
        self.parts.mkdir()
        self.tmp.unlink(missing_ok=True)  # left by a run that was killed: never append to it

    def add(self, frame: pl.DataFrame) -> None:
        if frame.height == 0 and self.count:
            return
        if self.fmt == "csv":
            with self.tmp.open("ab") as out:
                frame.write_csv(out, include_header=self.count == 0)
        else:
            frame.write_parquet(self.parts / f"part-{self.count:08d}.parquet")
        self.count += 1

    def finish(self) -> None:
        if self.count == 0:  # nothing to write still gives a file with the contract's columns
            self.add(pl.DataFrame(schema=self.schema))
        if self.fmt != "csv":
            files = sorted(self.parts.glob("part-*.parquet"))
            pl.scan_parquet(files).sink_parquet(self.tmp)

    def publish(self) -> None:
        self.tmp.replace(self.target)  # readers never see a half-written file


def export_events(
    store: FeatureStore,
    out_dir: Path,
    fmt: str = "parquet",
    *,
    page: int = PAGE,
    trim: bool = False,
) -> Exported:
    """Write the whole log to `out_dir/events.<fmt>` and `consents.<fmt>`, and the
    tombstones to `erasures.<fmt>`; what was written. The store is closed afterwards,
    whatever happened.

    The log is read `page` entries at a time and never held whole in memory. The files
    appear complete or not at all: a failure part way (the store going away) leaves
    any earlier files as they were and no temporary files behind.

    With `trim`, the exported entries (and the withheld ones) are then deleted from the
    log, only once the files are on disk (fsync'd); entries added meanwhile stay for
    the next export. It refuses an `out_dir` already holding `events.<fmt>`: that
    file's events would be gone from both places once overwritten.
    """
    return asyncio.run(_export(store, out_dir, fmt, page, trim))


async def _export(store: FeatureStore, out_dir: Path, fmt: str, page: int, trim: bool) -> Exported:
    target = out_dir / f"events.{fmt}"
    try:
        if page < 1:
            raise ValueError(f"page must be >= 1, got {page}")
        if trim and target.exists():
            raise UsageError(
                f"{target} exists: move it away first (--trim deletes what it exports "
                "from the log, so an overwritten export would be lost)"
            )
        out_dir.mkdir(parents=True, exist_ok=True)
        writers: list[_Writer] = []
        try:
            with tempfile.TemporaryDirectory(prefix=".events-parts-", dir=out_dir) as tmp:
                parts = Path(tmp)
                events, consents, erasures = writers = [
                    _Writer(out_dir, name, schema, fmt, parts)
                    for name, schema in (("events", SCHEMA), ("consents", CONSENT_SCHEMA),
                                         ("erasures", ERASURE_SCHEMA))
                ]  # fmt: skip
                tombs = await store.tombstones()
                done, ends = await _copy(store, events, consents, tombs, page)
                erasures.add(_tombstone_frame(tombs))
                for writer in writers:
                    writer.finish()
            for writer in writers:
                writer.publish()
        finally:
            for writer in writers:
                writer.tmp.unlink(missing_ok=True)
        done = Exported(target, done.events, done.consents, len(tombs), done.withheld)
        if trim and ends:
            for writer in writers:
                _durable(writer.target)
            await _trim(store, target, done.events, ends)
        return done
    finally:
        await store.close()


def _tombstone_frame(tombs: dict[str, float]) -> pl.DataFrame:
    rows = [{"digest": d, "erased_at": datetime.fromtimestamp(t, tz=UTC)}
            for d, t in sorted(tombs.items())]  # fmt: skip
    return pl.DataFrame(rows, schema=ERASURE_SCHEMA, orient="row")


async def _copy(
    store: FeatureStore, events: _Writer, consents: _Writer, tombs: dict[str, float], page: int
) -> tuple[Exported, list[str]]:
    """Every log entry into its writer, a page at a time; the counts, each page's last id."""
    ends: list[str] = []
    n_events = n_consents = withheld = 0
    while True:
        entries = await store.read_log(ends[-1] if ends else None, page)
        if entries:
            sorted_page = _Page(entries, tombs)
            event_frame, consent_frame = sorted_page.frames()
            events.add(event_frame)
            consents.add(consent_frame)
            n_events += event_frame.height
            n_consents += consent_frame.height
            withheld += sorted_page.withheld
            ends.append(entries[-1][0])
        if len(entries) < page:
            return Exported(events.target, n_events, n_consents, 0, withheld), ends


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
