"""Rankings, baselines and the scoreboard on a hand-made history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from training.evaluate import baselines
from training.evaluate.rankings import ranked_matrix, sample_groups, window_truth
from training.evaluate.scoreboard import score_rankings
from training.items.candidates import CandidateConfig, generate_candidates
from training.items.cf import CFModel
from training.prep.interactions import build_interactions
from training.prep.snapshot import Snapshot

T0 = datetime(2026, 3, 1, tzinfo=UTC)
CUTOFF = T0 + timedelta(days=30)


def _history() -> pl.LazyFrame:
    rows = [
        # (day, customer, channel, item, qty)
        (1, "a", "store", "milk", 1),
        (8, "a", "store", "milk", 1),
        (15, "a", "store", "milk", 1),
        (20, "b", "web", "tv", 1),
        (25, "c", "web", "tv", 1),
        (26, "c", "web", "cable", 2),
        (27, "d", "store", "bread", 3),
    ]
    return pl.DataFrame(
        {
            "timestamp": [T0 + timedelta(days=r[0]) for r in rows],
            "customer_key": [r[1] for r in rows],
            "channel": [r[2] for r in rows],
            "item_id": [r[3] for r in rows],
            "quantity": [r[4] for r in rows],
            "event_type": ["purchase"] * len(rows),
            "anonymous": [False] * len(rows),
        },
        schema_overrides={"timestamp": pl.Datetime("us", "UTC")},
    ).lazy()


def _snapshot() -> Snapshot:
    hist = _history()
    inter = build_interactions(hist, CUTOFF)
    rng = np.random.default_rng(0)
    cf = CFModel(
        rng.normal(size=(len(inter.customers), 4)).astype(np.float32),
        rng.normal(size=(len(inter.items), 4)).astype(np.float32),
    )
    items = pl.DataFrame({"item_id": ["bread", "cable", "milk", "tv"]}).lazy()
    return Snapshot(CUTOFF, hist, items, inter, cf, ("web", "store"))


def _truth() -> tuple[pl.DataFrame, list[str]]:
    test = pl.DataFrame(
        {
            "customer_key": ["a", "b", "new"],
            "channel": ["store", "web", "web"],
            "item_id": ["milk", "cable", "tv"],
        }
    )
    return test, ["bread", "cable", "milk", "tv"]


def test_window_truth_groups_and_relevant_sets() -> None:
    test, items = _truth()
    truth = window_truth(test, items)
    assert truth.groups.rows() == [("a", "store", 0), ("b", "web", 1), ("new", "web", 2)]
    assert [r.tolist() for r in truth.relevant] == [[2], [1], [3]]


def test_baselines_rank_as_defined() -> None:
    snap = _snapshot()
    test, items = _truth()
    truth = window_truth(test, items)
    groups = truth.groups.select("customer_key", "channel")
    popular = ranked_matrix(baselines.popular(groups, snap, 4), truth, 4)
    # quantity in the last 28 days: bread 3, milk 2 (days 8, 15), tv 2, cable 2; ties by id
    assert popular[0].tolist() == [0, 1, 2, 3]
    by_channel = ranked_matrix(baselines.popular_channel(groups, snap, 4), truth, 4)
    assert by_channel[1].tolist()[:2] == [1, 3]  # web: cable 2, tv 2
    assert by_channel[0].tolist()[:2] == [0, 2]  # store: bread 3, milk 2
    rep = ranked_matrix(baselines.repurchase(groups, snap, 4), truth, 4)
    assert rep[0, 0] == 2  # a re-buys milk
    assert rep[2].tolist() == popular[2].tolist()  # unknown customer: popularity backfill


def test_scoreboard_is_fair_and_per_channel() -> None:
    snap = _snapshot()
    test, items = _truth()
    truth = window_truth(test, items)
    groups = truth.groups.select("customer_key", "channel")
    ranked = {
        "popular": ranked_matrix(baselines.popular(groups, snap, 10), truth, 10),
        "repurchase": ranked_matrix(baselines.repurchase(groups, snap, 10), truth, 10),
    }
    board = score_rankings(ranked, truth)
    assert board.groups == 3
    assert set(board.per_channel) == {"store", "web"}
    # repurchase puts a's milk first: ndcg 1 on the store group; popular has it 3rd.
    assert board.per_channel["store"]["repurchase"]["ndcg@10"] == 1.0
    assert board.per_channel["store"]["popular"]["ndcg@10"] == 1.0 / np.log2(4)
    assert board.best_baseline("ndcg@10")[0] == "repurchase"


def test_sample_groups_keeps_whole_groups() -> None:
    rows = pl.DataFrame(
        {
            "customer_key": ["a", "a", "b", "c", "c", "c"],
            "channel": ["web", "web", "web", "store", "store", "web"],
            "item_id": ["x", "y", "x", "x", "y", "z"],
        }
    )
    assert sample_groups(rows, 4, seed=1).equals(rows)  # 4 groups: all kept
    sampled = sample_groups(rows, 2, seed=1)
    kept = sampled.select("customer_key", "channel").unique()
    assert kept.height == 2
    assert sampled.equals(rows.join(kept, on=["customer_key", "channel"], maintain_order="left"))
    assert sampled.equals(sample_groups(rows, 2, seed=1))  # deterministic per seed


def test_candidates_are_one_row_per_item_with_their_sources() -> None:
    snap = _snapshot()
    groups = pl.DataFrame({"customer_key": ["a", "c", "new"], "channel": ["store", "web", "web"]})
    config = CandidateConfig(n_als=2, n_popular=1)
    cands = generate_candidates(groups, snap, config=config)
    assert cands.columns[:3] == ["customer_key", "channel", "item_id"]
    assert cands.select("customer_key", "channel", "item_id").is_duplicated().sum() == 0
    assert cands.equals(cands.sort("customer_key", "channel", "item_id"))
    flags = {(r["customer_key"], r["item_id"]): r for r in cands.iter_rows(named=True)}
    assert flags[("a", "milk")]["src_history"] and not flags[("a", "milk")]["src_popular"]
    assert flags[("a", "bread")]["src_popular"] and flags[("a", "bread")]["src_popular_channel"]
    new = cands.filter(pl.col("customer_key") == "new")
    assert new.get_column("src_als").sum() == 0 and new.get_column("als_rank").is_null().all()
    # global top-1 bread; web's top-1 cable (tied with tv at 2, ties by id)
    assert new.get_column("item_id").to_list() == ["bread", "cable"]
    assert new.get_column("src_popular").to_list() == [True, False]
