"""Everything known at one cutoff: the input of candidates and features.

Training builds one snapshot at the validation cutoff (for ranker labels) and one
at the test cutoff (for evaluation); nothing in a snapshot sees its cutoff or later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from training.cf import CFModel
from training.prep.interactions import Interactions


@dataclass(frozen=True)
class Snapshot:
    cutoff: datetime
    hist: pl.LazyFrame  # resolved, non-anonymous events strictly before cutoff
    items: pl.LazyFrame  # item_id, category, price
    inter: Interactions
    cf: CFModel
    channels: tuple[str, ...]
