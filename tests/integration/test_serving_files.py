"""A version's serving files as the store receives them: every customer, every event."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from omnioffer.contracts.payloads import decode_batch
from omnioffer.jobs.serving_files import customer_batches
from omnioffer.registry import load_version
from training.train import TrainOutcome


def test_chunking_changes_nothing_and_every_event_lands_with_its_customer(
    trained: tuple[Path, TrainOutcome],
) -> None:
    models, _ = trained
    loaded = load_version(models)
    small = [row for chunk in customer_batches(loaded, chunk=7) for row in chunk]
    whole = [row for chunk in customer_batches(loaded, chunk=1_000_000) for row in chunk]
    assert small == whole
    ids = [cid for cid, _ in whole]
    assert ids == sorted(set(ids))
    history = pl.read_parquet(loaded.file("serving/history.parquet"))
    key = history.columns[0]
    per_customer = {cid: len(decode_batch(blob).events) for cid, blob in whole}
    counts = dict(history.group_by(key).len().iter_rows())
    assert {c: n for c, n in per_customer.items() if n} == counts
    busiest = max(counts, key=lambda c: counts[c])
    mine = history.filter(pl.col(key) == busiest)
    events = decode_batch(dict(whole)[busiest]).events
    stamps = [e.ts for e in events]
    assert stamps == mine.get_column(mine.columns[1]).to_list()
    assert stamps == sorted(stamps)  # the file is in time order; the reader keeps it
