"""A tiny hand-made version for the decision-path unit tests (no training, no store).

Six items in three categories with 2-d CF factors chosen so cosines are easy to
compute by hand (relative to i1 = (1, 0)):

    item  category  factor        cos(i1)
    i1    shoes     (1, 0)         1
    i2    shoes     (2, 0.2)       0.995
    i3    bags      (0.6, 0.8)     0.6
    i4    bags      (0, 1)         0
    i5    hats      (-1, 0)       -1
    i6    hats      (0.8, 0.6)     0.8
"""

from __future__ import annotations

from typing import Any

import numpy as np

from omnioffer.contracts.payloads import Catalog, Event, OfferRow
from omnioffer.features.history import History
from omnioffer.features.spec import DAY_S, ITEM_STATS
from omnioffer.version.model import VersionModel

NOW = 1_700_000_000.0
ITEMS = ["i1", "i2", "i3", "i4", "i5", "i6"]
CATEGORY: list[str | None] = ["shoes", "shoes", "bags", "bags", "hats", "hats"]
FACTORS = [[1.0, 0.0], [2.0, 0.2], [0.6, 0.8], [0.0, 1.0], [-1.0, 0.0], [0.8, 0.6]]
CANDIDATES = {"n_als": 3, "n_history": 10, "n_recent": 10, "recent_days": 7,
              "related_seeds": 1, "n_related": 10}  # fmt: skip


def at(days_ago: float) -> float:
    """Epoch seconds `days_ago` days before NOW."""
    return NOW - days_ago * DAY_S


def offer(offer_id: str, **fields: Any) -> OfferRow:
    """An offer valid everywhere, for everyone, forever, unless `fields` say otherwise."""
    base: dict[str, Any] = {
        "offer_id": offer_id,
        "title": f"Offer {offer_id}",
        "discount": None,
        "value": 1.0,
        "start": None,
        "end": None,
        "channels": [],
        "segments": [],
        "max_per_customer": None,
        "covered_items": [],
        "covered_categories": [],
        "of_log_items": None,
        "of_rate": None,
        "of_log_impressions": None,
        "rate_channel": {},
    }
    return OfferRow(**(base | fields))


# index: 0 o_all, 1 o_web, 2 o_gold, 3 o_email, 4 o_expired, 5 o_once
OFFERS = [
    offer("o_all", value=10.0, covered_items=["i1"], covered_categories=["shoes"]),
    offer("o_web", value=None, channels=["web"], covered_items=["i3"],
          covered_categories=["bags"]),
    offer("o_gold", segments=["gold"], covered_items=["i5"], covered_categories=["hats"]),
    offer("o_email", channels=["email", "web"]),
    offer("o_expired", start=at(30), end=at(1)),
    offer("o_once", max_per_customer=1, covered_items=["i2", "i4"]),
]  # fmt: skip


def make_catalog(offers: list[OfferRow] | None = None) -> Catalog:
    stats: dict[str, list[float | None]] = {name: [None] * len(ITEMS) for name in ITEM_STATS}
    return Catalog(
        version="v-test",
        cutoff=NOW - DAY_S,
        prior=0.1,
        channels=["web", "app", "store", "email"],
        candidates=dict(CANDIDATES),
        item_ids=list(ITEMS),
        category=list(CATEGORY),
        item_stats=stats,
        channel_pop={},
        popular=["i3", "zz", "i1"],  # "zz" is not in the version: dropped
        popular_channel={"web": ["i5"]},
        cf_items=list(ITEMS),
        n_factors=2,
        item_factors=np.asarray(FACTORS, dtype=np.float32).tobytes(),
        offers=list(OFFERS if offers is None else offers),
        offer_vocab=[],
        offer_vectors=b"",
    )


def make_model(offers: list[OfferRow] | None = None) -> VersionModel:
    return VersionModel.from_catalog(make_catalog(offers))


def ev(
    days_ago: float,
    kind: str,
    channel: str = "web",
    *,
    item: str | None = None,
    offer: str | None = None,
    qty: int = 1,
    revenue: float | None = None,
) -> Event:
    return Event(at(days_ago), kind, channel, item, offer, qty, revenue)


def history(model: VersionModel, *events: Event, now: float = NOW) -> History:
    return History.build(list(events), model, now)
