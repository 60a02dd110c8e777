"""Time split and interaction matrix: windows, weights, decay, no leakage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from omnioffer.errors import UsageError
from training.prep.interactions import InteractionConfig, build_interactions
from training.prep.split import before, between, evaluation_window, make_split

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _events(rows: list[tuple[int, str, str, str, int]]) -> pl.LazyFrame:
    """rows: (day, customer_key, event_type, item_id, quantity)."""
    return pl.DataFrame(
        {
            "timestamp": [T0 + timedelta(days=d) for d, *_ in rows],
            "customer_key": [r[1] for r in rows],
            "event_type": [r[2] for r in rows],
            "item_id": [r[3] for r in rows],
            "quantity": [r[4] for r in rows],
            "channel": ["web"] * len(rows),
            "anonymous": [r[1].startswith("anon:") for r in rows],
        },
        schema_overrides={"timestamp": pl.Datetime("us", "UTC")},
    ).lazy()


def test_split_places_windows_back_from_the_last_event() -> None:
    events = _events([(0, "a", "view", "i1", 1), (100, "a", "purchase", "i1", 1)])
    split = make_split(events, test_days=28, val_days=14)
    assert split.end == T0 + timedelta(days=100)
    assert split.test_start == T0 + timedelta(days=72)
    assert split.val_start == T0 + timedelta(days=58)
    assert split.start == T0


def test_windows_partition_the_events() -> None:
    events = _events([(d, "a", "purchase", f"i{d}", 1) for d in range(0, 101)])
    split = make_split(events, test_days=28)
    sizes = [
        before(events, split.val_start).collect().height,
        between(events, split.val_start, split.test_start).collect().height,
        evaluation_window(events, split).collect().height,
    ]
    assert sizes == [44, 28, 29]  # days 0-43, 44-71, 72-100 (end inclusive)
    assert sum(sizes) == 101


def test_too_short_history_is_refused_with_the_dates() -> None:
    events = _events([(0, "a", "view", "i1", 1), (40, "a", "view", "i1", 1)])
    with pytest.raises(UsageError, match="too short"):
        make_split(events, test_days=28)


def test_interactions_weight_decay_and_clip_returns() -> None:
    events = _events(
        [
            (0, "a", "purchase", "i1", 2),  # 4 * 2 * 0.5 (one half-life old)
            (5, "a", "view", "i2", 1),  # 0.5 * 1 * 0.5 ** 0.5 (half a half-life)
            (5, "b", "purchase", "i1", 1),
            (6, "b", "return", "i1", 1),  # cancels b's purchase, cell dropped
            (3, "anon:cookie:x", "purchase", "i3", 1),  # anonymous: not a customer row
        ]
    )
    cutoff = T0 + timedelta(days=10)
    inter = build_interactions(events, cutoff, InteractionConfig(half_life_days=10.0))
    assert inter.customers.ids == ["a", "b"]
    assert inter.items.ids == ["i1", "i2"]
    dense = inter.matrix.toarray()
    np.testing.assert_allclose(dense[0], [4.0, 0.5 * 0.5**0.5], rtol=1e-6)
    assert dense[1].tolist() == [0.0, 0.0]
    assert inter.matrix.dtype == np.float32


def test_interactions_never_see_the_cutoff_or_later() -> None:
    events = _events(
        [
            (1, "a", "purchase", "i1", 1),
            (9, "late", "purchase", "i_new", 1),
            (8, "a", "view", "i1", 1),
        ]
    )
    inter = build_interactions(events, T0 + timedelta(days=8))
    assert "late" not in inter.customers
    assert "i_new" not in inter.items
    # The view on day 8 is at the cutoff, so it is not counted either.
    without = build_interactions(
        events.filter(pl.col("timestamp") < T0 + timedelta(days=8)), T0 + timedelta(days=8)
    )
    assert (inter.matrix != without.matrix).nnz == 0


def test_interactions_do_not_depend_on_how_many_slices_aggregate_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from training.prep import interactions

    rng = np.random.default_rng(2)
    kinds = ["view", "add_to_cart", "purchase", "return"]
    rows = [
        (int(rng.integers(1, 60)), f"c{rng.integers(40)}", kinds[int(rng.integers(4))],
         f"i{rng.integers(25)}", int(rng.integers(1, 3)))
        for _ in range(600)
    ]  # fmt: skip
    events, cutoff = _events(rows), T0 + timedelta(days=61)
    built = {}
    for parts in (1, interactions.PARTS, 7):
        monkeypatch.setattr(interactions, "PARTS", parts)
        built[parts] = build_interactions(events, cutoff)
    first = built[1]
    assert first.matrix.nnz > 100  # most of the 40 x 25 cells, returns clipped
    for other in built.values():
        assert other.customers.ids == first.customers.ids and other.items.ids == first.items.ids
        assert (other.matrix != first.matrix).nnz == 0
