"""Time split: train | validation | test, so nothing from the future leaks backwards.

    start ........ val_start ........ test_start ........ end
    |-- features for the ranker --|-- ranker labels --|-- test (evaluation) --|

The ranker learns from features built before `val_start` and labels in
[val_start, test_start). Evaluation rebuilds features from everything before
`test_start` and scores against [test_start, end]. Events after `end` are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from omnioffer.errors import UsageError

MIN_FEATURE_DAYS = 7


@dataclass(frozen=True)
class TimeSplit:
    start: datetime
    val_start: datetime
    test_start: datetime
    end: datetime

    def as_dict(self) -> dict[str, str]:
        return {
            k: getattr(self, k).isoformat() for k in ("start", "val_start", "test_start", "end")
        }


def make_split(
    events: pl.LazyFrame,
    *,
    until: datetime | None = None,
    test_days: int = 28,
    val_days: int | None = None,
) -> TimeSplit:
    """Place the windows from the data's time range; `until` defaults to the last event."""
    if test_days < 1:
        raise UsageError(f"--test-days must be >= 1, got {test_days}")
    val_days = test_days if val_days is None else val_days
    bounds = events.select(
        pl.col("timestamp").min().alias("lo"), pl.col("timestamp").max().alias("hi")
    ).collect()
    lo, hi = bounds.item(0, "lo"), bounds.item(0, "hi")
    if lo is None:
        raise UsageError("no events to split")
    end = hi if until is None else until
    test_start = end - timedelta(days=test_days)
    val_start = test_start - timedelta(days=val_days)
    if val_start - lo < timedelta(days=MIN_FEATURE_DAYS):
        raise UsageError(
            f"history from {lo:%Y-%m-%d} to {end:%Y-%m-%d} is too short for a "
            f"{val_days}-day validation and {test_days}-day test window "
            f"(need {MIN_FEATURE_DAYS}+ days before them)"
        )
    return TimeSplit(start=lo, val_start=val_start, test_start=test_start, end=end)


def before(events: pl.LazyFrame, cutoff: datetime) -> pl.LazyFrame:
    """Events strictly before `cutoff`: the only ones features may see at that time."""
    return events.filter(pl.col("timestamp") < cutoff)


def between(events: pl.LazyFrame, start: datetime, end: datetime) -> pl.LazyFrame:
    """Events in [start, end): a label or test window."""
    return events.filter((pl.col("timestamp") >= start) & (pl.col("timestamp") < end))


def evaluation_window(events: pl.LazyFrame, split: TimeSplit) -> pl.LazyFrame:
    """The evaluation window [test_start, end], end inclusive (it is the last event)."""
    return events.filter(
        (pl.col("timestamp") >= split.test_start) & (pl.col("timestamp") <= split.end)
    )
