"""The offer features' shortcuts: values set only for touched offers, per-model tables.

offer_features computes per-offer values only for the offers a customer's events touch,
scatters them into the requested columns, and keeps tables derived from the model in a
cache; these tests pin what the shortcuts must not change (offers in any order or
listed twice, duplicate offer ids, both ways of taking ir_max, one model's tables never
serving another).
"""

from __future__ import annotations

import gc
import weakref

import numpy as np
import numpy.typing as npt
from decide_world import NOW, ev, history, make_model, offer

from omnioffer.features.offer_tables import prepared
from omnioffer.features.offers import offer_features
from omnioffer.features.spec import NEVER, NO_ITEM_SCORE

F64 = npt.NDArray[np.float64]


def _column(cols: dict[str, F64], j: int) -> dict[str, float]:
    return {name: float(values[j]) for name, values in cols.items()}


def test_fatigue_and_covered_purchases_by_hand() -> None:
    model = make_model()  # 0 o_all (i1), 1 o_web (i3), 3 o_email (none), 5 o_once (i2, i4)
    h = history(
        model,
        ev(20, "offer_impression", offer="o_all"),  # outside the 14-day window
        ev(10, "offer_impression", offer="o_all"),
        ev(3, "offer_impression", "email", offer="o_all"),
        ev(2, "offer_dismiss", offer="o_all"),
        ev(5, "offer_impression", offer="o_web"),
        ev(4, "offer_click", offer="o_web"),  # answered: no fatigue
        ev(6, "purchase", item="i1", qty=2),
        ev(1, "purchase", "store", item="i2"),
    )
    cols = offer_features(h, model, None, [0, 1, 3, 5], "web", None)
    assert cols["fa_impr_offer_14d"].tolist() == [2.0, 0.0, 0.0, 0.0]
    assert cols["fa_dismissed"].tolist() == [1.0, 0.0, 0.0, 0.0]
    assert cols["fa_impr_offer_total"].tolist() == [3.0, 1.0, 0.0, 0.0]
    assert cols["fa_days_since_offer"].tolist() == [3.0, 5.0, NEVER, NEVER]
    assert cols["co_qty"].tolist() == [2.0, 0.0, 0.0, 1.0]
    assert cols["co_days_since"].tolist() == [6.0, NEVER, NEVER, 1.0]
    assert cols["fa_impr_all_7d"].tolist() == [2.0] * 4  # o_all 3 days ago, o_web 5 days ago


def test_any_order_and_repeated_offers_match_one_offer_calls() -> None:
    model = make_model()
    h = history(
        model,
        ev(3, "offer_impression", offer="o_once"),
        ev(2, "purchase", item="i1"),
        ev(1, "view", item="i3"),
    )
    offers = [5, 0, 5, 2, 0, 1]
    cols = offer_features(h, model, None, offers, "app", {"i1": 0.5, "i3": 1.5})
    assert all(v.dtype == np.float64 and v.shape == (len(offers),) for v in cols.values())
    for j, k in enumerate(offers):
        alone = offer_features(h, model, None, [k], "app", {"i1": 0.5, "i3": 1.5})
        assert _column(cols, j) == _column(alone, 0), (j, k)


def test_an_item_an_offer_lists_twice_counts_twice_in_covered_purchases() -> None:
    """As training's join of purchases with (offer, item) pairs: one row per listing."""
    twice = offer("o_twice", covered_items=["i1", "i2", "i1"])
    model = make_model([twice, offer("o_once", covered_items=["i1"])])
    h = history(
        model,
        ev(9, "purchase", item="i1", qty=2),
        ev(4, "purchase", "store", item="i1"),
        ev(2, "purchase", item="i2"),
    )
    cols = offer_features(h, model, None, [1, 0, 1], "web", None)
    assert cols["co_qty"].tolist() == [3.0, 2 * 3.0 + 1.0, 3.0]
    assert cols["co_days_since"].tolist() == [4.0, 2.0, 4.0]


def test_an_offer_id_listed_twice_in_the_catalog_gets_its_events_at_both_places() -> None:
    model = make_model([offer("a", covered_items=["i1"]), offer("a", covered_items=["i2"])])
    h = history(model, ev(2, "offer_impression", offer="a"), ev(1, "purchase", item="i2"))
    cols = offer_features(h, model, None, [0, 1], "web", None)
    assert cols["fa_impr_offer_total"].tolist() == [1.0, 1.0]
    assert cols["fa_days_since_offer"].tolist() == [2.0, 2.0]
    assert cols["co_qty"].tolist() == [0.0, 1.0]


def test_ir_max_is_the_same_padded_or_over_every_offer() -> None:
    model = make_model([offer("wide", covered_items=["i1", "i2", "i3", "i4", "i5", "i6"]),
                        offer("nan", covered_items=["i2"]), offer("none")])  # fmt: skip
    scores = {"i1": 0.5, "i2": float("nan"), "i3": 2.0, "zz": 9.0}  # zz: not in the version
    h = history(model)
    one = offer_features(h, model, None, [0], "web", scores)["ir_max"]  # padded table
    many = offer_features(h, model, None, [0, 1, 2, 0, 1, 2], "web", scores)["ir_max"]
    assert one.tolist() == [2.0]
    assert many.tolist() == [2.0, NO_ITEM_SCORE, NO_ITEM_SCORE] * 2
    assert offer_features(h, model, None, [0], "web", {})["ir_max"].tolist() == [NO_ITEM_SCORE]


def test_an_offer_with_two_categories_takes_the_larger_share() -> None:
    model = make_model([offer("two", covered_categories=["shoes", "hats"]),
                        offer("hats", covered_categories=["hats"]), offer("none")])  # fmt: skip
    h = history(model, ev(3, "purchase", item="i1", qty=3), ev(2, "purchase", item="i5"))
    cols = offer_features(h, model, None, [0, 1, 2], "web", None)
    assert cols["co_cat_share"].tolist() == [0.75, 0.25, 0.0]


def test_each_model_gets_its_own_tables_and_frees_them() -> None:
    first = make_model([offer("a", value=1.0)])
    second = make_model([offer("a", value=2.0)])
    h = history(first, now=NOW)
    assert offer_features(h, first, None, [0], "web", None)["of_value"].tolist() == [1.0]
    assert offer_features(h, second, None, [0], "web", None)["of_value"].tolist() == [2.0]
    assert offer_features(h, first, None, [0], "web", None)["of_value"].tolist() == [1.0]
    tables = weakref.ref(prepared(second))
    assert tables() is not None
    del second
    gc.collect()
    assert tables() is None
