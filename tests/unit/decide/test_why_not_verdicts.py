"""verdicts and empty_reasons on a hand-made catalog: each stage's answer, one rule each."""

from __future__ import annotations

from collections.abc import Collection

from decide_world import NOW, ev, history, make_model, offer

from omnioffer.contracts.http import OfferVerdict
from omnioffer.contracts.payloads import Event
from omnioffer.decide.contact import Contacts
from omnioffer.decide.eligibility import Customer
from omnioffer.decide.policy import Policy
from omnioffer.decide.ranked import Ranked
from omnioffer.decide.why_not import Asked, empty_reasons, verdicts

OFFERS = [
    offer("a", covered_categories=["shoes"]),
    offer("b", covered_categories=["shoes"]),
    offer("c", covered_categories=["hats"]),
    offer("d", covered_categories=["bags"]),
    offer("e", channels=["email"]),
    offer("f", segments=["gold"]),
]


def asked(*events: Event, policy: Policy | None = None, spent: Collection[str] = ()) -> Asked:
    model = make_model(OFFERS)
    h = history(model, *events)
    return Asked(model=model, channel="web", now=NOW, who=Customer(None, {}),
                 contacts=Contacts.of(h), policy=policy or Policy(), spent=spent)  # fmt: skip


def ranked(*pairs: tuple[str, float]) -> list[Ranked]:
    by_id = {o.offer_id: o for o in OFFERS}
    return [Ranked(by_id[o], 0.1, 1.0, p, []) for o, p in pairs]


def codes(found: list[OfferVerdict]) -> dict[str, tuple[str | None, str | None]]:
    return {v.offer_id: (v.stage, v.code) for v in found}


def test_diversity_arbitration_eligibility_and_budget() -> None:
    every = ranked(("a", 0.9), ("b", 0.8), ("c", 0.7), ("d", 0.6))
    served = [every[0], every[2]]  # max_per_category 1: b was skipped, d fell below k=2
    got = verdicts(asked(policy=Policy(max_per_category=1, offer_budgets={"d": 0}), spent={"d"}),
                   ["a", "b", "c", "d", "e", "f", "zz"], every, served)  # fmt: skip
    assert codes(got) == {
        "a": (None, None), "c": (None, None),
        "b": ("diversity", "max_per_category"),
        "d": ("budget", "budget"),
        "e": ("eligibility", "channel"), "f": ("eligibility", "segment"),
        "zz": ("catalog", "unknown"),
    }  # fmt: skip
    assert [v.rank for v in got[:3]] == [1, None, 2]


def test_outranked_says_where_it_ranked() -> None:
    every = ranked(("a", 0.9), ("c", 0.7), ("d", 0.6))
    (got,) = verdicts(asked(), ["d"], every, every[:2])
    assert (got.stage, got.code) == ("arbitration", "outranked")
    assert got.reason == "ranked 3 of 3 with priority 0.600000; the last shown had 0.700000"


def test_empty_reasons_count_each_offer_once_by_its_first_rule() -> None:
    redeemed = ev(0.5, "offer_redeem", offer="a")
    got = empty_reasons(asked(redeemed))
    assert got == {"channel": 1, "outranked": 3, "redeemed": 1, "segment": 1}
    capped = asked(*[ev(0.01 * n, "offer_impression", offer="c") for n in range(1, 7)])
    assert empty_reasons(capped) == {"daily_cap": len(OFFERS)}
