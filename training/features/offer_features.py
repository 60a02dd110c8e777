"""Offer-propensity features for training's (customer, channel, offer) rows at a cutoff.

One computation for both wings: each customer-channel group is replayed through the
serving code (omnioffer/features/offers.py, metarank's design), on the customer's
history as serving keeps it (serving_export.history: every purchase and offer event,
views and carts of the last `recent_days`, read into Events as `materialize` reads
them) and the snapshot's own serving model (offer_catalog.offer_model). So a new
offer feature is the spec's name and fill plus its code in features/offers.py; the
parity tests (tests/integration/test_offer_feature_parity.py) check that what a
version publishes (materialized records, its catalog) gives the same values online.

Affinity comes from the offer's items: an offer vector (mean of its items' ALS
factors) dotted with the customer's factors, and the customer's purchases of the
covered items. Taste for the offer's categories (the customer's response rate to
offers of those categories and share of items in them) matters most: responses
follow category taste. Rates are smoothed towards the global rate; fatigue counts
recent unanswered impressions of the same offer.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

from omnioffer.contracts import serving as sf
from omnioffer.contracts.payloads import Event
from omnioffer.features.history import History
from omnioffer.features.offers import offer_matrix
from omnioffer.features.spec import OFFER_FEATURES
from omnioffer.version.model import VersionModel
from training.features.serving_history import history
from training.prep.snapshot import Snapshot

F32 = npt.NDArray[np.float32]
KEYS = ("customer_key", "channel")


def build_offer_features(
    rows: pl.DataFrame,
    snap: Snapshot,
    model: VersionModel,
    item_scores: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """rows (customer_key, channel, offer_id, ...) with every offer feature (float64),
    in the rows' order. `model`: offer_model(snap, ...), naming every offer of the rows.
    item_scores: optional item-ranker scores (customer_key, channel, item_id, score)."""
    if rows.is_empty():
        return rows.with_columns(pl.lit(0.0).alias(n) for n in OFFER_FEATURES).clear()
    keyed = rows.select(*KEYS, "offer_id").with_row_index("_row").sort(*KEYS, maintain_order=True)
    people = keyed.get_column("customer_key")
    events = _events(snap, people, model.catalog.candidates["recent_days"])
    users = _users(snap, people.unique(maintain_order=True))
    scores = _scores(item_scores)
    position = model.offer_table.position
    offers = [position[o] for o in keyed.get_column("offer_id").to_list()]
    out = np.empty((keyed.height, len(OFFER_FEATURES)), dtype=np.float64)
    now = model.catalog.cutoff
    runs = keyed.group_by(*KEYS, maintain_order=True).len().rows()
    lo, last, h = 0, None, None
    for cid, channel, n in runs:
        if cid != last:
            h, last = History.build(events.get(cid, []), model, now), cid
        assert h is not None
        out[lo : lo + n] = offer_matrix(h, model, users.get(cid), offers[lo : lo + n], channel,
                                        scores.get((cid, channel)), dtype=np.float64)  # fmt: skip
        lo += n
    order = keyed.get_column("_row").to_numpy()
    values = np.empty_like(out)
    values[order] = out
    return rows.with_columns(
        pl.Series(name, values[:, j], dtype=pl.Float64) for j, name in enumerate(OFFER_FEATURES)
    )


def _events(snap: Snapshot, people: pl.Series, recent_days: int) -> dict[str, list[Event]]:
    """Each customer's serving history at the snapshot's cutoff, as Events."""
    kept = history(snap.history_of(people), snap.cutoff, recent_days).collect()
    kept = kept.sort("customer_key", maintain_order=True)
    cols = [kept.get_column(c).to_list() for c in sf.COLUMNS[sf.HISTORY][1:]]
    out: dict[str, list[Event]] = {}
    lo = 0
    for cid, n in kept.group_by("customer_key", maintain_order=True).len().rows():
        out[cid] = sf.history_events(cols, lo, lo + n)
        lo += n
    return out


def _users(snap: Snapshot, people: pl.Series) -> dict[str, F32]:
    """The customers' CF factors as serving holds them (float32); absent when unknown."""
    at = snap.inter.customer_indices(people)
    factors = snap.cf.user_factors
    return {
        cid: np.asarray(factors[k], dtype=np.float32)
        for cid, k in zip(people.to_list(), at.tolist(), strict=True)
        if k >= 0
    }


def _scores(item_scores: pl.DataFrame | None) -> dict[tuple[str, str], dict[str, float]]:
    """Item-ranker scores by (customer, channel), then item id."""
    out: dict[tuple[str, str], dict[str, float]] = {}
    if item_scores is None:
        return out
    for cid, channel, item, score in item_scores.select(*KEYS, "item_id", "score").iter_rows():
        out.setdefault((cid, channel), {})[item] = score
    return out
