"""Everything known at one cutoff: the input of candidates and features.

Training builds one snapshot at the validation cutoff (for ranker labels) and one
at the test cutoff (for evaluation); nothing in a snapshot sees its cutoff or later.
Candidates and features are built a block of customers at a time, so a snapshot
keeps what does not depend on the block (popularity, item statistics) after its
first use, and hands each block its customers' history in one scan.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import polars as pl

from training.items.cf import CFModel
from training.prep.interactions import Interactions

T = TypeVar("T")


@dataclass(frozen=True)
class Snapshot:
    cutoff: datetime
    hist: pl.LazyFrame  # resolved, non-anonymous events strictly before cutoff
    items: pl.LazyFrame  # item_id, category, price
    inter: Interactions
    cf: CFModel
    channels: tuple[str, ...]
    _memo: dict[Hashable, object] = field(default_factory=dict, repr=False, compare=False)

    def memo(self, key: Hashable, make: Callable[[], T]) -> T:
        """`make()` once per snapshot and key: for block-independent tables."""
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]  # type: ignore[return-value]

    def history_of(self, customers: pl.Series) -> pl.LazyFrame:
        """The history of these customers, collected (one scan of `hist`) so the many
        queries of one block do not each filter every event again."""
        wanted = customers.unique().implode()
        return self.hist.filter(pl.col("customer_key").is_in(wanted)).collect().lazy()
