"""`omnioffer identities`: resolve a data folder's identities and write the merge audit."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import polars as pl

from omnioffer.contracts.load import load_dataset
from omnioffer.contracts.schema import DEFAULT_CHANNELS
from omnioffer.identity import IdentityMap, build_identity_map, resolve_events

log = logging.getLogger("omnioffer.identity")


def write_merges(identity_map: IdentityMap, path: Path) -> None:
    """Write the audit CSV atomically: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    identity_map.merges.write_csv(partial)
    partial.replace(path)


def run_identities(
    data_dir: Path,
    *,
    out: Path,
    channels: Sequence[str] = DEFAULT_CHANNELS,
    stream: TextIO = sys.stdout,
) -> int:
    """Resolve identities of a valid data folder; print what was merged and resolved."""
    dataset = load_dataset(data_dir, channels=channels)
    identity_map = build_identity_map(dataset.identities, dataset.events)
    write_merges(identity_map, out)
    log.info("wrote %d merge rows to %s", identity_map.merged_count, out)
    counts = (
        resolve_events(dataset.events, identity_map)
        .select(
            pl.len().alias("events"),
            pl.col("anonymous").sum().alias("anonymous"),
            pl.col("customer_key").filter(~pl.col("anonymous")).n_unique().alias("customers"),
        )
        .collect()
        .row(0, named=True)
    )
    total = max(int(counts["events"]), 1)
    canonical = identity_map.customers.get_column("canonical_id").n_unique()
    print(f"customer ids          {identity_map.customers.height:>12,}", file=stream)
    print(f"resolved customers    {canonical:>12,}", file=stream)
    print(f"merged customer ids   {identity_map.merged_count:>12,}  (audit: {out})", file=stream)
    print(f"linked identifiers    {identity_map.identifiers.height:>12,}", file=stream)
    print(f"customers with events {int(counts['customers']):>12,}", file=stream)
    anonymous = int(counts["anonymous"])
    print(
        f"anonymous events      {anonymous:>12,}  ({100 * anonymous / total:.1f}% of events)",
        file=stream,
    )
    return 0
