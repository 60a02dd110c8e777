"""What a version publishes gives the offer features training computed.

Training computes offer features with the serving code itself, replayed per group
(training/features/offer_features.py); what it cannot share is the doorway: the
serving history and catalog it builds from a snapshot (polars) against what a version
writes and `materialize` loads (the shared `both` fixture in conftest.py). So online
features from the materialised records, with the version's own factors, must equal
training's at the same cutoff, with the same synthetic item-ranker scores on both
sides so `ir_max` is compared too; the edge cases compare a hand-built catalog.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
import polars as pl
import scipy.sparse as sp

from omnioffer.contracts.payloads import Catalog, Event, OfferRow, decode_batch
from omnioffer.features.history import History
from omnioffer.features.offers import offer_features
from omnioffer.features.spec import ITEM_STATS, NEVER, NO_ITEM_SCORE, OFFER_FEATURES, RECENT_DAYS
from omnioffer.version.model import VersionModel
from omnioffer.vocab import Vocabulary
from training.features.offer_catalog import offer_model, offer_vectors
from training.features.offer_features import build_offer_features
from training.features.offer_stats import response_stats
from training.items.cf import CFModel
from training.prep.interactions import Interactions
from training.prep.resolve import TrainingData
from training.prep.snapshot import Snapshot

WITH_OFFERS, WITHOUT_OFFERS = 40, 20
CHANNELS = ("web", "email", "app")
N_OFFERS = 40
N_SCORED = 6
# Features that must take more than one value over the sample: parity on fills alone
# would prove little. (co_qty and co_days_since are constant in training on this data:
# see _per_offer in omnioffer/features/offers.py; the edge-case test covers them.)
VARYING = ("of_rate", "cf_affinity", "co_cat_share", "cu_rate", "fa_days_since_offer",
           "ir_max", "cu_share_web", "cu_disc_lift", "channel_code", "ca_rate",
           "ca_log_share")  # fmt: skip

Scores = dict[tuple[str, str], dict[str, float]]


def _customers(records: dict[str, bytes], rng: np.random.Generator) -> list[str]:
    """Some customers with offer events, some without, and one the CF model does not know."""
    batches = {cid: decode_batch(blob) for cid, blob in records.items()}
    shown = sorted(c for c, b in batches.items() if any(e.offer for e in b.events))
    silent = sorted(c for c, b in batches.items() if not any(e.offer for e in b.events))
    unknown = sorted(c for c, b in batches.items() if not b.factors)
    assert shown and silent, "the sample needs customers with and without offer events"
    chosen = {*rng.choice(shown, min(WITH_OFFERS, len(shown)), replace=False).tolist()}
    chosen |= {*rng.choice(silent, min(WITHOUT_OFFERS, len(silent)), replace=False).tolist()}
    chosen |= set(unknown[:1])
    return sorted(chosen)


def _offers(model: VersionModel, rng: np.random.Generator) -> list[int]:
    n = len(model.catalog.offers)
    return (
        sorted(rng.choice(n, N_OFFERS, replace=False).tolist()) if n > N_OFFERS else list(range(n))
    )


def _item_scores(
    model: VersionModel, offers: list[int], people: list[str], rng: np.random.Generator
) -> Scores:
    """A few deterministic random scores per (customer, channel): mostly items the offers
    cover, some any item (scores of items no offer covers must not matter)."""
    covered = sorted({i for o in offers for i in model.catalog.offers[o].covered_items})
    pool = model.catalog.item_ids
    out: Scores = {}
    for cid in people:
        for ch in CHANNELS:
            items = {*rng.choice(covered, N_SCORED - 2).tolist(), *rng.choice(pool, 2).tolist()}
            out[cid, ch] = {str(i): float(rng.normal()) for i in sorted(items)}
    return out


def _offline_rows(
    snap: Snapshot,
    offers: pl.DataFrame,
    pairs: pl.DataFrame,
    people: Sequence[str],
    *,
    channels: Sequence[str],
    scores: Scores,
) -> pl.DataFrame:
    """Training's features for every (customer, channel, offer), same item scores."""
    rows = pl.DataFrame(
        [(c, ch, o) for c in people for ch in channels for o in offers.get_column("offer_id")],
        schema=["customer_key", "channel", "offer_id"],
        orient="row",
    )
    item_scores = pl.DataFrame(
        [(c, ch, i, s) for (c, ch), by in scores.items() for i, s in by.items()],
        schema={"customer_key": pl.String, "channel": pl.String, "item_id": pl.String,
                "score": pl.Float64},
        orient="row",
    )  # fmt: skip
    model = offer_model(snap, offers, pairs, recent_days=RECENT_DAYS)
    return build_offer_features(rows, snap, model, item_scores)


def _assert_same(
    cols: dict[str, npt.NDArray[np.float64]],
    offline: pl.DataFrame,
    cid: str,
    ch: str,
    offer_ids: Sequence[str],
) -> None:
    assert set(cols) == set(OFFER_FEATURES)
    want = offline.filter((pl.col("customer_key") == cid) & (pl.col("channel") == ch))
    want = want.sort("offer_id")
    assert want.get_column("offer_id").to_list() == sorted(offer_ids)
    order = np.argsort(np.array(offer_ids))
    for name in OFFER_FEATURES:
        np.testing.assert_allclose(
            cols[name][order],
            want.get_column(name).to_numpy(),
            rtol=1e-5,
            atol=1e-4,
            err_msg=f"{name} for {cid} on {ch}",
        )


def test_offer_features_match_training(
    both: tuple[VersionModel, dict[str, bytes], Snapshot], training_data: TrainingData
) -> None:
    model, records, snap = both
    rng = np.random.default_rng(7)
    people = _customers(records, rng)
    offers = _offers(model, rng)
    offer_ids = [model.catalog.offers[o].offer_id for o in offers]
    scores = _item_scores(model, offers, people, rng)
    table = training_data.offers.select("offer_id", "discount", "value")
    table = table.filter(pl.col("offer_id").is_in(offer_ids))
    offline = _offline_rows(
        snap, table, training_data.offer_items, people, channels=CHANNELS, scores=scores
    )
    for cid in people:
        batch = decode_batch(records[cid])
        user = np.frombuffer(batch.factors, dtype=np.float32) if batch.factors else None
        h = History.build(batch.events, model, model.catalog.cutoff)
        for ch in CHANNELS:
            cols = offer_features(h, model, user, offers, ch, scores[cid, ch])
            _assert_same(cols, offline, cid, ch, offer_ids)
    for name in VARYING:
        assert offline.get_column(name).n_unique() > 1, f"{name} is constant over the sample"


# Hand-made history for the edge cases the simulated data never produces.
CUTOFF = datetime(2026, 5, 1, tzinfo=UTC)
EDGE_CHANNELS = ("web", "email", "app")  # "app" is not a version channel: code -1
EDGE_SCORES: Scores = {("x", "web"): {"a": 0.3, "b": float("nan"), "d": 1.0, "zz": 5.0},
                       ("y", "web"): {"c": -1.0}}  # fmt: skip


def _ago(days: float, seconds: float = 0.0) -> datetime:
    return CUTOFF - timedelta(days=days, seconds=seconds)


def _edge_events() -> pl.DataFrame:
    """x: purchases with and without an offer id, uncategorised and CF-unknown items,
    impressions either side of the 14-day and 7-day boundaries (sub-second apart), an
    offer missing from the offers table. y: no events. z: purchases only."""
    rows = [
        ("x", _ago(3, 0.5), "purchase", "web", "a", "o1", 2),
        ("x", _ago(10), "purchase", "store", "c", None, 1),
        ("x", _ago(20), "purchase", "app", "d", "o2", 1),
        ("x", _ago(14), "offer_impression", "web", None, "o1", 1),
        ("x", _ago(14, 0.4), "offer_impression", "email", None, "o1", 1),
        ("x", _ago(14, 1.2), "offer_impression", "web", None, "o1", 1),
        ("x", _ago(6), "offer_impression", "email", None, "o2", 1),
        ("x", _ago(5), "offer_click", "email", None, "o2", 1),
        ("x", _ago(7), "offer_impression", "web", None, "o4", 1),
        ("x", _ago(2), "offer_dismiss", "web", None, "o4", 1),
        ("x", _ago(7, 1e-6), "offer_impression", "web", None, "o4", 1),
        ("x", _ago(1), "offer_impression", "web", None, "o9", 1),
        ("x", _ago(3), "offer_impression", "app", None, "o5", 1),
        ("x", _ago(1), "offer_redeem", "web", None, "o9", 1),
        ("z", _ago(4), "purchase", "store", "b", None, 3),
        ("z", _ago(30), "purchase", "web", "d", None, 1),
    ]
    cols = ["customer_key", "timestamp", "event_type", "channel", "item_id", "offer_id"]
    frame = pl.DataFrame(rows, schema=[*cols, "quantity"], orient="row")
    return frame.with_columns(
        pl.col("timestamp").dt.cast_time_unit("us"), anonymous=pl.lit(False), revenue=pl.lit(1.0)
    )


def _edge_world() -> tuple[Snapshot, pl.DataFrame, pl.DataFrame, VersionModel, History]:
    """Offline snapshot, offers, pairs; the matching online model and x's history.
    o3 has no items and no events; o4 has a NaN discount; o5 a null one and no items."""
    events = _edge_events()
    items = pl.DataFrame({"item_id": ["a", "b", "c", "d"], "category": ["food", "food", None,
                          "toys"], "price": [1.0, 2.0, 3.0, 4.0]})  # fmt: skip
    offers = pl.DataFrame({"offer_id": ["o1", "o2", "o3", "o4", "o5"],
                           "value": [5.0, None, 1.0, 2.0, None],
                           "discount": [0.3, 0.1, 0.1, float("nan"), None]})  # fmt: skip
    pairs = pl.DataFrame({"offer_id": ["o1", "o1", "o2", "o2", "o4"],
                          "item_id": ["a", "c", "b", "d", "a"]})  # fmt: skip
    users, cf_items = Vocabulary(["x", "z"]), Vocabulary(["a", "b", "d"])
    cf = CFModel(np.array([[1.0, 0.5], [0.2, -1.0]], dtype=np.float32),
                 np.array([[0.3, 0.1], [-0.4, 0.8], [1.5, 0.2]], dtype=np.float32))  # fmt: skip
    inter = Interactions(sp.csr_matrix((2, 3), dtype=np.float32), users, cf_items, CUTOFF)
    snap = Snapshot(CUTOFF, events.lazy(), items.lazy(), inter, cf, ("web", "email", "store"))
    model = VersionModel.from_catalog(_edge_catalog(snap, offers, pairs, items))
    return snap, offers, pairs, model, _history(events, "x", model)


def _edge_catalog(
    snap: Snapshot, offers: pl.DataFrame, pairs: pl.DataFrame, items: pl.DataFrame
) -> Catalog:
    """The Catalog serving_export would write, from training's own statistics."""
    prior, of, of_ch = response_stats(snap.hist)
    stats = {o: r for o, *r in of.collect().select("offer_id", "of_rate", "of_log_impressions")
             .iter_rows()}  # fmt: skip
    category = dict(items.select("item_id", "category").iter_rows())
    rows = []
    for offer_id, discount, value in offers.select("offer_id", "discount", "value").iter_rows():
        covered = sorted(pairs.filter(pl.col("offer_id") == offer_id).get_column("item_id"))
        rate, log_impr = stats.get(offer_id, (None, None))
        rows.append(OfferRow(
            offer_id=offer_id, title=offer_id, discount=discount, value=value, start=None,
            end=None, channels=[], segments=[], max_per_customer=None, covered_items=covered,
            covered_categories=sorted({c for i in covered if (c := category[i]) is not None}),
            of_log_items=float(np.log1p(len(covered))) if covered else None, of_rate=rate,
            of_log_impressions=log_impr,
            rate_channel={ch: r for o, ch, r in of_ch.collect().iter_rows() if o == offer_id},
        ))  # fmt: skip
    vocab = pairs.get_column("offer_id").unique().sort().to_list()
    ids = items.get_column("item_id").to_list()
    return Catalog(
        version="edge", cutoff=CUTOFF.timestamp(), prior=prior, channels=list(snap.channels),
        candidates={}, item_ids=ids, category=[category[i] for i in ids],
        item_stats={n: [None] * len(ids) for n in ITEM_STATS}, channel_pop={}, popular=[],
        popular_channel={}, cf_items=snap.inter.items.ids, n_factors=2,
        item_factors=snap.cf.item_factors.tobytes(), offers=rows, offer_vocab=vocab,
        offer_vectors=offer_vectors(pairs, snap, vocab).tobytes(),
    )  # fmt: skip


def _history(events: pl.DataFrame, cid: str, model: VersionModel) -> History:
    mine = events.filter(pl.col("customer_key") == cid)
    ts = (mine.get_column("timestamp").dt.epoch("us").cast(pl.Float64) / 1e6).to_list()
    cols = mine.select("event_type", "channel", "item_id", "offer_id", "quantity").iter_rows()
    return History.build([Event(t, *row) for t, row in zip(ts, cols, strict=True)], model,
                         model.catalog.cutoff)  # fmt: skip


def test_offer_without_response_history_gets_features() -> None:
    """o3 was never shown and covers no item: batch rates are the prior, the rest fills."""
    _, _, _, model, h = _edge_world()
    user = np.array([1.0, 0.5], dtype=np.float32)
    cols = offer_features(h, model, user, [2], "web", {"a": 1.0})
    fresh = {name: float(v[0]) for name, v in cols.items()}
    assert set(fresh) == set(OFFER_FEATURES)
    prior = model.catalog.prior
    assert 0 < prior < 1 and fresh["of_rate"] == fresh["of_rate_channel"] == prior
    assert fresh["of_discount"] == 0.1 and fresh["of_value"] == 1.0
    assert fresh["of_log_impressions"] == fresh["of_log_items"] == fresh["cf_affinity"] == 0.0
    assert fresh["fa_days_since_offer"] == fresh["co_days_since"] == NEVER
    assert fresh["fa_impr_offer_14d"] == fresh["co_qty"] == fresh["co_cat_share"] == 0.0
    assert fresh["ir_max"] == NO_ITEM_SCORE and fresh["cu_share_web"] > 0


def test_edge_cases_match_training() -> None:
    snap, offers, pairs, model, _ = _edge_world()
    events = snap.hist.collect()
    people = ["x", "y", "z"]
    offline = _offline_rows(snap, offers, pairs, people, channels=EDGE_CHANNELS, scores=EDGE_SCORES)
    users = dict(zip(snap.inter.customers.ids, snap.cf.user_factors, strict=True))
    ids = [o.offer_id for o in model.catalog.offers]
    for cid in people:
        h = _history(events, cid, model)
        for ch in EDGE_CHANNELS:
            scores = EDGE_SCORES.get((cid, ch))
            cols = offer_features(h, model, users.get(cid), range(len(ids)), ch, scores)
            _assert_same(cols, offline, cid, ch, ids)
