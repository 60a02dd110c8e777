"""Arbitration: priority, ordering, diversity, signals and the reasons shown to marketers."""

from __future__ import annotations

import numpy as np
import pytest
from decide_world import ev, history, make_model, offer

from omnioffer.contracts.payloads import OfferRow
from omnioffer.decide.arbitrate import arbitrate
from omnioffer.decide.diversity import diverse
from omnioffer.decide.explain import explain, reasons
from omnioffer.decide.policy import Policy
from omnioffer.decide.ranked import Ranked
from omnioffer.decide.signals import Signals
from omnioffer.version.model import VersionModel

NO_SIGNALS = Signals({}, {}, {}, {}, {})


def ids(ranked: list[Ranked]) -> list[str]:
    return [r.offer.offer_id for r in ranked]


def rank(model: VersionModel, p: list[float], channel: str, policy: Policy, *,
         signals: Signals = NO_SIGNALS, basis: str = "model") -> list[Ranked]:  # fmt: skip
    offers = list(range(len(p)))
    propensity = np.asarray(p, dtype=np.float32)
    ranked = arbitrate(offers, propensity, model, channel=channel, policy=policy,
                       signals=signals)  # fmt: skip
    return explain(ranked, signals, basis)


# --- priority and order -----------------------------------------------------------------------

PRIORITY_OFFERS = [
    offer("a", value=10.0, covered_categories=["shoes"]),
    offer("b", value=None, covered_categories=["bags"]),
    offer("c", value=2.0),
    offer("d", value=4.0),
]
PRIORITY_POLICY = Policy(channel_weights={"web": 0.5}, levers={"a": 2.0}, default_value=4.0,
                         cart_lift=1.5, value_weight=1.0)  # fmt: skip
MARGIN = Policy(value_weight=1.0)  # rank by expected margin
SHOES_IN_CART = Signals({"shoes": "web"}, {"i1": "web"}, {}, {}, {})


def test_priority_is_the_product_of_all_factors() -> None:
    ranked = rank(make_model(PRIORITY_OFFERS), [0.25, 0.5, 0.5, 0.25], "web", PRIORITY_POLICY,
                  signals=SHOES_IN_CART)  # fmt: skip
    # a: .25 x 10 x lever 2 x web .5 x cart 1.5; b: .5 x default 4 x .5; c: .5 x 2 x .5; d = c
    assert ids(ranked) == ["a", "b", "c", "d"]
    assert [r.priority for r in ranked] == [3.75, 1.0, 0.5, 0.5]
    assert [r.value for r in ranked] == [10.0, 4.0, 2.0, 4.0]
    assert [r.propensity for r in ranked] == [0.25, 0.5, 0.5, 0.25]


def test_channel_without_weight_and_no_cart() -> None:
    ranked = rank(make_model(PRIORITY_OFFERS), [0.25, 0.5, 0.5, 0.25], "app", PRIORITY_POLICY)
    assert [(r.offer.offer_id, r.priority) for r in ranked] == [
        ("a", 5.0), ("b", 2.0), ("c", 1.0), ("d", 1.0)]  # fmt: skip


def test_only_the_given_offers_are_ranked() -> None:
    model = make_model(PRIORITY_OFFERS)
    ranked = arbitrate([3, 1], np.asarray([0.5, 0.25], dtype=np.float32), model, channel="app",
                       policy=MARGIN, signals=NO_SIGNALS)  # fmt: skip
    assert [(r.offer.offer_id, r.priority) for r in ranked] == [("d", 2.0), ("b", 0.25)]


def test_ties_break_by_offer_id() -> None:
    model = make_model([offer("z"), offer("m"), offer("q", value=2.0)])
    ranked = rank(model, [0.5, 0.5, 0.25], "web", MARGIN)
    assert ids(ranked) == ["m", "q", "z"]
    assert ids(rank(model, [0.5, 0.5, 0.25], "web", Policy())) == ["m", "z", "q"]


def test_by_default_offers_rank_by_predicted_response_not_value() -> None:
    """value_weight 0 (the default): the served ranking is the ranker's, and the offer's
    value is still reported; 0.5 blends response and margin, 1 is expected margin."""
    model = make_model(PRIORITY_OFFERS)  # values a 10, b none (default 1), c 2, d 4
    p = [0.25, 0.5, 0.375, 0.3125]
    ranked = rank(model, p, "app", Policy())
    assert ids(ranked) == ["b", "c", "d", "a"]
    assert [r.priority for r in ranked] == [0.5, 0.375, 0.3125, 0.25]
    assert [r.value for r in ranked] == [1.0, 2.0, 4.0, 10.0]
    blended = rank(model, p, "app", Policy(value_weight=0.5))
    assert ids(blended) == ["a", "d", "c", "b"]  # .79, .63, .53, .5
    assert blended[0].priority == pytest.approx(0.25 * 10**0.5)
    assert ids(rank(model, p, "app", MARGIN)) == ["a", "d", "c", "b"]  # 2.5, 1.25, .75, .5


def test_basis_reason() -> None:
    model = make_model([offer("a")])
    assert rank(model, [0.25], "web", Policy())[0].reasons == ["predicted response 25%"]
    fallback = rank(model, [0.25], "web", Policy(), basis="popular on web")
    assert fallback[0].reasons == ["popular on web"]


# --- diverse ----------------------------------------------------------------------------------


def ranked_in(*cats: list[str]) -> list[Ranked]:
    return [Ranked(offer(f"r{n}", covered_categories=c), 0.1, 1.0, 10.0 - n, [])
            for n, c in enumerate(cats, start=1)]  # fmt: skip


# r5 has no category: its own id is its category
MIXED = ranked_in(["shoes"], ["shoes"], ["shoes", "bags"], ["bags"], [], ["hats"])


@pytest.mark.parametrize(("per_category", "k", "expected"), [
    (2, 4, ["r1", "r2", "r4", "r5"]),
    (1, 3, ["r1", "r4", "r5"]),
    (1, 5, ["r1", "r4", "r5", "r6", "r2"]),  # short: backfilled with the best skipped
    (1, 10, ["r1", "r4", "r5", "r6", "r2", "r3"]),
    (3, 2, ["r1", "r2"]),
])  # fmt: skip
def test_diverse(per_category: int, k: int, expected: list[str]) -> None:
    assert ids(diverse(MIXED, per_category, k)) == expected


def test_diverse_single_category_backfills() -> None:
    assert ids(diverse(ranked_in(["shoes"], ["shoes"], ["shoes"]), 1, 2)) == ["r1", "r2"]


# --- Signals ----------------------------------------------------------------------------------


def test_signals_of_history_and_context_cart(model: VersionModel, policy: Policy) -> None:
    h = history(
        model,
        ev(10, "purchase", "store", item="i1", qty=3),
        ev(2, "add_to_cart", "app", item="i5"),
        ev(1.5, "purchase", "store", item="i5"),  # bought since: out of the cart
        ev(1, "add_to_cart", item="i1"),  # after the old purchase: in the cart
        ev(5, "add_to_cart", "app", item="i3"),  # older than cart_days
        ev(0.3, "add_to_cart", item="zz"),  # unknown item: no category
        ev(0.5, "view", item="i6"),
        ev(10, "view", "app", item="i2"),  # older than cart_days
        ev(0.1, "purchase", item="yy", qty=5),  # unknown item: no category share
        ev(0.2, "offer_click", offer="o_all"),  # no item: ignored
    )
    s = Signals.of(h, model, policy, ["i4", "i1", "i2"])
    # the context cart only adds what no channel cart has: shoes stay in the web cart
    assert s.cart_items == {"i1": "web", "zz": "web", "i4": "current", "i2": "current"}
    assert s.cart == {"shoes": "web", "bags": "current"}
    assert s.bought == {"i1": ("store", 10.0), "i5": ("store", 1.5), "yy": ("web", 0.1)}
    assert s.viewed == {"i6": ("web", 0.5)}
    assert s.category_share == {"shoes": 0.75, "hats": 0.25}


def test_cart_days_comes_from_the_policy(model: VersionModel) -> None:
    h = history(model, ev(5, "add_to_cart", "app", item="i3"))
    assert Signals.of(h, model, Policy(cart_days=3), []).cart == {}
    assert Signals.of(h, model, Policy(cart_days=6), []).cart == {"bags": "app"}


def test_no_purchases_no_shares(model: VersionModel, policy: Policy) -> None:
    s = Signals.of(history(model), model, policy, ["i2"])
    assert s == Signals({"shoes": "current"}, {"i2": "current"}, {}, {}, {})


# --- reasons ----------------------------------------------------------------------------------

FACTS = Signals(
    cart={"shoes": "web", "bags": "current"},
    cart_items={},
    bought={"i1": ("store", 0.2), "i2": ("app", 1.5), "i3": ("web", 5.0)},
    viewed={"i4": ("app", 0.5), "i5": ("web", 2.0)},
    category_share={"shoes": 0.6, "bags": 0.15, "hats": 0.1},
)


@pytest.mark.parametrize(("o", "basis", "expected"), [
    (offer("o", covered_items=["i2", "i1"], covered_categories=["shoes"]), "model",
     ["shoes in your web cart", "bought i1 in store today",
      "60% of their purchases are in this category", "predicted response 25%"]),
    (offer("o", covered_items=["i3", "i4"], covered_categories=["bags"]), "popular on web",
     ["bags is in your cart", "bought i3 on web 5 days ago",  # bought wins over viewed
      "15% of their purchases are in this category", "popular on web"]),
    (offer("o", covered_items=["i5"], covered_categories=["hats"]), "model",
     ["viewed i5 on web 2 days ago", "predicted response 25%"]),  # 10% share: not shown
    (offer("o", covered_items=["i2"]), "model",
     ["bought i2 on app yesterday", "predicted response 25%"]),
    (offer("o", covered_categories=["hats", "bags", "shoes"]), "model",
     ["bags is in your cart", "60% of their purchases are in this category",
      "predicted response 25%"]),  # first cart category only; the best share
    (offer("o"), "model", ["predicted response 25%"]),
])  # fmt: skip
def test_reasons(o: OfferRow, basis: str, expected: list[str]) -> None:
    assert reasons(o, FACTS, 0.25, basis) == expected


@pytest.mark.parametrize(("days", "text"), [
    (0.0, "today"), (0.99, "today"), (1.0, "yesterday"), (1.99, "yesterday"),
    (2.0, "2 days ago"), (7.9, "7 days ago"),
])  # fmt: skip
def test_reason_day_wording(days: float, text: str) -> None:
    s = Signals({}, {}, {"i1": ("store", days)}, {}, {})
    assert reasons(offer("o", covered_items=["i1"]), s, 0.5, "x")[0] == f"bought i1 in store {text}"


def test_explain_puts_the_reasons_before_notes_of_later_stages() -> None:
    held = Ranked(offer("a"), 0.25, 1.0, 1.0, ["also your top offer on app"])
    assert explain([held], NO_SIGNALS)[0].reasons == [
        "predicted response 25%",
        "also your top offer on app",
    ]
