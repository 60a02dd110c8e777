"""`omnioffer export-events`: the durable event log back as a data-contract v1 events file.

Anonymous events keep their identifier (id_type, id_value) instead of a customer id,
exactly as they arrived, so retraining resolves them like any other history.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import polars as pl

from omnioffer.decide.records import decode_event
from omnioffer.store.base import FeatureStore
from omnioffer.store_report import read_whole_log

ANON = "anon:"


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


def export_events(store: FeatureStore, out_dir: Path, fmt: str = "parquet") -> tuple[Path, int]:
    async def go() -> list[tuple[str, bytes]]:
        try:
            return await read_whole_log(store)
        finally:
            await store.close()

    rows = [_row(cid, payload) for cid, payload in asyncio.run(go())]
    frame = pl.DataFrame(rows, schema=SCHEMA, orient="row")
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"events.{fmt}"
    tmp = out_dir / f".events.{fmt}.tmp"
    if fmt == "csv":
        frame.write_csv(tmp)
    else:
        frame.write_parquet(tmp)
    tmp.replace(target)  # readers never see a half-written file
    return target, frame.height


def run_export(store: FeatureStore, out_dir: Path, fmt: str, out: TextIO = sys.stdout) -> int:
    target, n = export_events(store, out_dir, fmt)
    print(f"exported {n} events to {target}", file=out)
    return 0
