"""History building and the candidate sources, on the tiny hand-made version."""

from __future__ import annotations

import math

import numpy as np
import pytest
from decide_world import NOW, at, ev, history

from omnioffer.contracts.payloads import Event
from omnioffer.features.candidates import generate, history_top, recent_top, related_top
from omnioffer.features.history import History
from omnioffer.version.model import VersionModel

I1, I2, I3, I4, I5, I6 = range(6)  # item indices in the tiny version

# --- History.build ----------------------------------------------------------------------------

SKEWED = [
    Event(NOW + 100, "view", "app", "i2"),  # stamped in the future
    Event(at(1), "purchase", "store", "i1", qty=2, revenue=9.5),
    Event(NOW, "add_to_cart", "web", "zz"),  # at `now` exactly: not before it
    Event(at(2), "offer_click", "email", None, "o1"),
]


def test_build_clamped_keeps_future_events_as_just_happened(model: VersionModel) -> None:
    h = History.build(SKEWED, model, NOW, clamp=True)
    assert h.ts.tolist() == [at(2), at(1), NOW - 1e-3, NOW - 1e-3]
    assert h.type.tolist() == ["offer_click", "purchase", "view", "add_to_cart"]
    assert h.channel.tolist() == ["email", "store", "app", "web"]
    assert h.item.tolist() == [-1, I1, I2, -1]  # no item / unknown item: -1
    assert h.item_id == [None, "i1", "i2", "zz"]
    assert h.offer == ["o1", None, None, None]
    assert h.qty.tolist() == [1.0, 2.0, 1.0, 1.0]
    assert h.revenue[1] == 9.5
    assert np.isnan(h.revenue[[0, 2, 3]]).all()


def test_build_unclamped_drops_events_not_before_now(model: VersionModel) -> None:
    h = History.build(SKEWED, model, NOW)
    assert h.ts.tolist() == [at(2), at(1)]
    assert h.type.tolist() == ["offer_click", "purchase"]
    assert h.age_days().tolist() == [2.0, 1.0]
    assert h.purchases.tolist() == [False, True]
    assert h.mask("offer_click", "view").tolist() == [True, False]


def test_build_empty(model: VersionModel) -> None:
    h = History.build([], model, NOW)
    assert h.ts.size == 0
    assert h.purchases.size == 0


# --- sources ----------------------------------------------------------------------------------


def test_history_top_by_recency_weighted_quantity(model: VersionModel) -> None:
    h = history(
        model,
        ev(30, "purchase", item="i5"),  # 0.5
        ev(60, "purchase", item="i5"),  # + 0.25 = 0.75
        ev(30, "purchase", item="i2"),  # 0.5
        ev(60, "purchase", item="i3", qty=2),  # 2 x 0.25 = 0.5: ties with i2, i2 first by id
        ev(90, "purchase", item="i4", qty=3),  # 3 x 0.125 = 0.375: more, but older
        ev(1, "view", item="i6"),  # not a purchase
        ev(1, "purchase", item="zz", qty=9),  # not in the version
    )
    assert history_top(h, model, 10) == [I5, I2, I3, I4]
    assert history_top(h, model, 2) == [I5, I2]


def test_recent_top_by_last_view_or_cart(model: VersionModel) -> None:
    h = history(
        model,
        ev(5, "view", item="i1"),
        ev(1, "add_to_cart", item="i2"),
        ev(0.5, "view", "app", item="i1"),  # i1's latest
        ev(3, "view", item="i3"),
        ev(10, "view", item="i4"),  # older than `days`
        ev(0.1, "purchase", item="i6"),  # not a view or cart
        ev(0.2, "view", item="zz"),  # not in the version
    )
    assert recent_top(h, 10, 7) == [I1, I2, I3]
    assert recent_top(h, 2, 7) == [I1, I2]
    assert recent_top(h, 10, 2) == [I1, I2]


def test_related_top_excludes_the_seed_itself(model: VersionModel) -> None:
    h = history(model, ev(1, "purchase", item="i1"), ev(2, "purchase", item="i4"))
    # cosine to i1: i2 .995, i6 .8, i3 .6, i4 0, i5 -1; asking for more than there are
    assert related_top(h, model, 1, 10) == [I2, I6, I3, I4, I5]
    assert related_top(h, model, 1, 3) == [I2, I6, I3]


def test_related_top_seeds_are_the_last_distinct_purchases(model: VersionModel) -> None:
    h = history(model, ev(3, "purchase", item="i4"), ev(2, "purchase", item="i1"),
                ev(1, "purchase", item="i4"))  # fmt: skip
    # i4 (last bought) first: i3 .8, i6 .6, i2 .0995; then i1's neighbours
    assert related_top(h, model, 2, 3) == [I3, I6, I2, I2, I6, I3]
    assert related_top(history(model), model, 2, 3) == []


def test_generate_sources(model: VersionModel) -> None:
    h = history(model, ev(1, "purchase", item="i4"), ev(0.5, "view", item="i4"))
    user = np.asarray([1.0, 0.0], dtype=np.float32)  # scores: i2 2, i1 1, i6 .8, i3 .6, ...
    c = generate(h, model, user, "web")
    assert c.items.tolist() == [I1, I2, I3, I4, I5, I6]
    flags = {name: [int(i) for i in c.items[f]] for name, f in c.sources.items()}
    assert flags == {
        "als": [I1, I2, I6],
        "history": [I4],
        "recent": [I4],
        "related": [I1, I2, I3, I5, I6],  # everything but the seed i4
        "popular": [I1, I3],  # "zz" is not in the version
        "popular_channel": [I5],
    }
    assert [None if math.isnan(r) else r for r in c.als_rank.tolist()] == [
        2.0, 1.0, None, None, None, 3.0]  # fmt: skip


@pytest.mark.parametrize("channel", ["app", "web"])
def test_generate_without_cf_factors_or_history(model: VersionModel, channel: str) -> None:
    c = generate(history(model), model, None, channel)
    expected = [I1, I3] if channel == "app" else [I1, I3, I5]
    assert c.items.tolist() == expected
    assert not c.sources["als"].any()
    assert c.sources["popular_channel"].tolist() == [False, False, True][: len(expected)]
    assert np.isnan(c.als_rank).all()
