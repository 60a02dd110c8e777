"""The online category-affinity offer features on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
from decide_world import make_model

from omnioffer.contracts.payloads import OfferRow
from omnioffer.features.offer_affinity import category_affinity

PRIOR = 0.25


def _offer(offer_id: str, categories: list[str]) -> OfferRow:
    return OfferRow(
        offer_id=offer_id, title=offer_id, discount=0.1, value=1.0, start=None, end=None,
        channels=[], segments=[], max_per_customer=None, covered_items=[],
        covered_categories=categories, of_log_items=None, of_rate=None,
        of_log_impressions=None, rate_channel={},
    )  # fmt: skip


def test_best_category_wins_and_unknown_categories_get_the_prior() -> None:
    rows = [_offer("a", ["shoes"]), _offer("b", ["shoes", "hats"]), _offer("c", []),
            _offer("d", ["socks"])]  # fmt: skip
    rates = {"shoes": 0.1, "hats": 0.6}
    counts = {"shoes": 3.0, "hats": 1.0}
    out = category_affinity(make_model(rows), np.arange(4), {}, rates, counts, PRIOR)
    np.testing.assert_allclose(out["ca_rate"], [0.1, 0.6, PRIOR, PRIOR])
    total = 4.0 + 2.0  # four distinct items plus the smoothing
    expected = [math.log(3.5 / total), math.log(3.5 / total), math.log(0.5 / total),
                math.log(0.5 / total)]  # fmt: skip
    np.testing.assert_allclose(out["ca_log_share"], expected)


def test_a_customer_without_history_gets_the_fills() -> None:
    model = make_model([_offer("a", ["shoes"])])
    out = category_affinity(model, np.arange(1), {}, {}, {}, PRIOR)
    assert out["ca_rate"].tolist() == [PRIOR]
    assert out["ca_log_share"].tolist() == [math.log(0.5 / 2.0)]
