"""Eligibility and the contact policy, on hand-written histories."""

from __future__ import annotations

import random

import pytest
from decide_world import ITEMS, NOW, at, ev, history, make_model, offer

from omnioffer.contracts.payloads import Event, OfferRow
from omnioffer.decide.contact import Contacts, allowed
from omnioffer.decide.eligibility import Customer, candidate_offers, eligible
from omnioffer.decide.policy import Policy
from omnioffer.features.history import History
from omnioffer.features.spec import DAY_S, OFFER_TYPES
from omnioffer.version.model import VersionModel

ANYONE = Customer(None, {})


def contacts(
    *,
    impressions: dict[str, list[float]] | None = None,
    redeemed: set[str] | None = None,
    last_dismiss: dict[str, float] | None = None,
    bought_at: dict[str, float] | None = None,
) -> Contacts:
    return Contacts(impressions or {}, redeemed or set(), last_dismiss or {}, 0, bought_at or {})


# --- eligible ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("channels", "channel", "expected"), [
    ([], "kiosk", True),  # empty list: every channel
    (["web"], "web", True),
    (["web"], "app", False),
    (["app", "store"], "store", True),
])  # fmt: skip
def test_eligible_channels(channels: list[str], channel: str, expected: bool) -> None:
    o = offer("o", channels=channels)
    assert eligible(o, channel, NOW, ANYONE, Policy()) is expected


@pytest.mark.parametrize(("now", "expected"), [
    (NOW - 101, False),  # before start
    (NOW - 100, True),  # start is inclusive
    (NOW, True),
    (NOW + 100, True),  # end is inclusive
    (NOW + 101, False),  # after end
])  # fmt: skip
def test_eligible_validity_window(now: float, expected: bool) -> None:
    o = offer("o", start=NOW - 100, end=NOW + 100)
    assert eligible(o, "web", now, ANYONE, Policy()) is expected


def test_eligible_open_ended_window() -> None:
    assert eligible(offer("o", start=NOW - 1), "web", NOW + 1e9, ANYONE, Policy())
    assert eligible(offer("o", end=NOW + 1), "web", 0.0, ANYONE, Policy())
    assert not eligible(offer("o", start=NOW + 1), "web", NOW, ANYONE, Policy())


@pytest.mark.parametrize(("segments", "segment", "expected"), [
    ([], None, True),
    ([], "silver", True),
    (["gold"], "gold", True),
    (["gold"], "silver", False),
    (["gold"], None, False),  # unknown segment never matches a targeted offer
    (["gold", "silver"], "silver", True),
])  # fmt: skip
def test_eligible_segment(segments: list[str], segment: str | None, expected: bool) -> None:
    o = offer("o", segments=segments)
    assert eligible(o, "web", NOW, Customer(segment, {}), Policy()) is expected


@pytest.mark.parametrize(("channel", "consent", "expected"), [
    ("email", {}, False),  # consent channel, nothing recorded: no
    ("email", {"email": False}, False),
    ("email", {"email": True}, True),
    ("sms", {"email": True}, False),  # consent is per channel
    ("web", {}, True),  # not a consent channel
])  # fmt: skip
def test_eligible_consent(channel: str, consent: dict[str, bool], expected: bool) -> None:
    assert eligible(offer("o"), channel, NOW, Customer(None, consent), Policy()) is expected


def test_consent_channels_come_from_the_policy() -> None:
    web_only = Policy(consent_channels=("web",))
    assert not eligible(offer("o"), "web", NOW, ANYONE, web_only)
    assert eligible(offer("o"), "web", NOW, Customer(None, {"web": True}), web_only)
    assert eligible(offer("o"), "email", NOW, ANYONE, web_only)


# --- Contacts.of ------------------------------------------------------------------------------


def test_contacts_summarise_the_history(model: VersionModel) -> None:
    h = history(
        model,
        ev(10, "offer_impression", offer="o_all"),
        ev(1.0, "offer_impression", "app", offer="o_all"),  # exactly 24 h ago: counts
        ev(0.5, "offer_impression", "store", offer="o_web"),
        ev(1.5, "offer_impression", offer="o_web"),
        ev(3, "offer_redeem", offer="o_gold"),
        ev(5, "offer_dismiss", offer="o_email"),
        ev(2, "offer_dismiss", offer="o_email"),
        ev(4, "purchase", "store", item="i1"),
        ev(0.2, "purchase", item="i1"),
        ev(0.1, "view", item="i2"),
    )
    c = Contacts.of(h)
    assert c.impressions == {"o_all": [at(10), at(1.0)], "o_web": [at(1.5), at(0.5)]}
    assert c.redeemed == {"o_gold"}
    assert c.last_dismiss == {"o_email": at(2)}
    assert c.impressions_24h == 2
    assert c.bought_at == {"i1": at(0.2)}


# --- allowed ----------------------------------------------------------------------------------


def test_redeemed_offer_suppressed_only_when_the_policy_says_so() -> None:
    c = contacts(redeemed={"o"})
    assert not allowed(offer("o"), c, NOW, Policy())
    assert allowed(offer("o"), c, NOW, Policy(suppress_after_redeem=False))
    assert allowed(offer("other"), c, NOW, Policy())


@pytest.mark.parametrize(("dismissed", "expected"), [
    (NOW - 2 * DAY_S, True),  # exactly the cool-down ago: shown again
    (NOW - 2 * DAY_S + 1, False),  # one second short
    (NOW - 30 * DAY_S, True),
])  # fmt: skip
def test_dismiss_cooldown_boundary(dismissed: float, expected: bool) -> None:
    c = contacts(last_dismiss={"o": dismissed})
    assert allowed(offer("o"), c, NOW, Policy(dismiss_cooldown_days=2)) is expected


def test_dismiss_uses_the_latest_dismiss(model: VersionModel) -> None:
    h = history(model, ev(20, "offer_dismiss", offer="o"), ev(1, "offer_dismiss", offer="o"))
    assert not allowed(offer("o"), Contacts.of(h), NOW, Policy(dismiss_cooldown_days=14))


def test_max_per_customer_counts_impressions_ever() -> None:
    old = contacts(impressions={"o": [at(60), at(40)]})  # outside the 7-day window
    assert not allowed(offer("o", max_per_customer=2), old, NOW, Policy())
    assert allowed(offer("o", max_per_customer=3), old, NOW, Policy())
    assert allowed(offer("o", max_per_customer=None), old, NOW, Policy())


@pytest.mark.parametrize(("shown", "expected"), [
    ([at(1), at(2), at(3)], False),  # 3 in the window: capped
    ([at(1), at(2), at(7)], False),  # the window start is inclusive
    ([at(1), at(2), at(7.01)], True),  # third one just outside
    ([at(1), at(2)], True),
])  # fmt: skip
def test_impressions_per_window_cap(shown: list[float], expected: bool) -> None:
    policy = Policy(max_impressions_per_offer=3, impression_window_days=7)
    assert allowed(offer("o"), contacts(impressions={"o": shown}), NOW, policy) is expected


def test_impressions_of_other_offers_do_not_count() -> None:
    c = contacts(impressions={"other": [at(1), at(1), at(1)]})
    assert allowed(offer("o"), c, NOW, Policy(max_impressions_per_offer=1))


@pytest.mark.parametrize(("bought", "days", "expected"), [
    ({"i1": at(2)}, 3.0, False),  # covered item bought 2 days ago
    ({"i1": at(3)}, 3.0, False),  # boundary: still recent
    ({"i1": at(4)}, 3.0, True),
    ({"i9": at(0.1)}, 3.0, True),  # not covered by the offer
    ({"i1": at(0.1)}, 0.0, True),  # suppression switched off
])  # fmt: skip
def test_suppress_bought_covered_item(
    bought: dict[str, float], days: float, expected: bool
) -> None:
    o = offer("o", covered_items=["i1", "i2"])
    c = contacts(bought_at=bought)
    assert allowed(o, c, NOW, Policy(suppress_bought_days=days)) is expected


def test_a_recent_purchase_of_a_staple_does_not_suppress_its_offers(model: VersionModel) -> None:
    """i1 bought twice (a staple: they will buy it again), i2 once (one-off)."""
    h = history(model, ev(30, "purchase", item="i1"), ev(1, "purchase", "store", item="i1"),
                ev(1, "purchase", item="i2"))  # fmt: skip
    c = Contacts.of(h)
    assert c.bought_count == {"i1": 2, "i2": 1} and c.staple("i1") and not c.staple("i2")
    staple, one_off = offer("o1", covered_items=["i1"]), offer("o2", covered_items=["i2"])
    assert allowed(staple, c, NOW, Policy())
    assert not allowed(one_off, c, NOW, Policy())
    assert not allowed(staple, c, NOW, Policy(suppress_bought_staples=True))


# --- candidate_offers -------------------------------------------------------------------------


def test_candidate_offers_on_web(model: VersionModel, policy: Policy) -> None:
    # o_gold needs the segment, o_expired ended a day ago
    offers, _ = candidate_offers(model, history(model), "web", ANYONE, policy)
    assert offers == [0, 1, 3, 5]
    gold, _ = candidate_offers(model, history(model), "web", Customer("gold", {}), policy)
    assert gold == [0, 1, 2, 3, 5]


def test_candidate_offers_on_a_consent_channel(model: VersionModel, policy: Policy) -> None:
    h = history(model)
    assert candidate_offers(model, h, "email", ANYONE, policy)[0] == []
    agreed = Customer(None, {"email": True})
    assert candidate_offers(model, h, "email", agreed, policy)[0] == [0, 3, 5]


def test_candidate_offers_apply_the_contact_policy(model: VersionModel, policy: Policy) -> None:
    h = history(
        model,
        ev(5, "offer_impression", offer="o_once"),  # max_per_customer 1
        ev(2, "offer_redeem", offer="o_web"),
        ev(1, "purchase", "store", item="i1"),  # covered by o_all: a store sale counts on web
    )
    assert candidate_offers(model, h, "web", ANYONE, policy)[0] == [3]


def test_daily_cap_reached_means_no_offers(model: VersionModel) -> None:
    h = history(
        model,
        ev(0.2, "offer_impression", "app", offer="o_web"),
        ev(0.9, "offer_impression", "email", offer="o_all"),
        ev(3, "offer_impression", offer="o_all"),  # older than 24 h: not in the cap
    )
    offers, c = candidate_offers(model, h, "web", ANYONE, Policy(daily_cap=2))
    assert offers == []
    assert c.impressions_24h == 2
    assert candidate_offers(model, h, "web", ANYONE, Policy(daily_cap=3))[0] == [0, 1, 3, 5]


# --- the indexed path decides exactly like eligible + allowed per offer -----------------------


def _one_by_one(
    model: VersionModel, h: History, channel: str, who: Customer, p: Policy
) -> list[int]:
    contacts = Contacts.of(h)
    if contacts.impressions_24h >= p.daily_cap:
        return []
    return [
        k
        for k, o in enumerate(model.catalog.offers)
        if eligible(o, channel, h.now, who, p) and allowed(o, contacts, h.now, p)
    ]


def _random_offer(rng: random.Random, k: int) -> OfferRow:
    start = at(rng.uniform(-5, 40)) if rng.random() < 0.3 else None
    return offer(
        f"o{k}",
        start=start,
        end=at(rng.uniform(-10, 5)) if rng.random() < 0.3 else None,
        channels=rng.sample(["web", "app", "store", "email"], rng.randint(0, 2)),
        segments=rng.sample(["gold", "silver"], rng.randint(0, 1)),
        max_per_customer=rng.choice([None, None, 0, 1, 2]),
        covered_items=rng.sample(ITEMS, rng.randint(0, 3)),
    )


def _random_event(rng: random.Random, offers: int) -> Event:
    kind = rng.choice(["purchase", "view", *OFFER_TYPES])
    is_offer = kind.startswith("offer_")
    return ev(
        rng.uniform(0, 20),
        kind,
        rng.choice(["web", "app", "store", "email"]),
        item=rng.choice(ITEMS) if not is_offer else None,
        offer=f"o{rng.randrange(offers)}" if is_offer else None,
    )


@pytest.mark.parametrize("seed", range(40))
def test_indexed_candidate_offers_match_the_rules_offer_by_offer(seed: int) -> None:
    rng = random.Random(seed)
    model = make_model([_random_offer(rng, k) for k in range(30)])
    h = history(model, *(_random_event(rng, 30) for _ in range(rng.randint(0, 40))))
    policy = Policy(
        max_impressions_per_offer=rng.choice([0, 1, 3]),
        daily_cap=rng.choice([2, 6, 100]),
        suppress_after_redeem=rng.random() < 0.7,
        dismiss_cooldown_days=rng.choice([0.0, 5.0]),
        suppress_bought_days=rng.choice([0.0, 3.0, 30.0]),
        suppress_bought_staples=rng.random() < 0.5,
    )
    for channel in ("web", "email", "kiosk"):
        for who in (ANYONE, Customer("gold", {"email": True}), Customer("silver", {})):
            got, _ = candidate_offers(model, h, channel, who, policy)
            assert got == _one_by_one(model, h, channel, who, policy), (channel, who)
