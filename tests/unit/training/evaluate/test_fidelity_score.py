"""Serving fidelity's scoring: NDCG of served vs offline lists on the same relevant offers,
and which stage each removal and move is put on (training/evaluate/serving_fidelity)."""

from __future__ import annotations

import pytest

from omnioffer.contracts.http import DecisionResponse, OfferOut, OfferVerdict
from training.evaluate.serving_fidelity import Fidelity, _Group, _moves, _score


def _answer(*offers: tuple[str, float, float], explained: list[OfferVerdict] | None = None,
            fallback: str | None = None) -> DecisionResponse:  # fmt: skip
    """offers: (id, propensity, priority), in served order."""
    out = [OfferOut(offer_id=o, title=o, rank=n, propensity=p, value=1.0, priority=q,
                    reasons=[]) for n, (o, p, q) in enumerate(offers, start=1)]  # fmt: skip
    return DecisionResponse(decision_id="d", customer_id="c", channel="app", model_version="v",
                            offers=out, fallback=fallback, explained=explained or [],
                            experiments=[])  # fmt: skip


def test_each_move_is_put_on_the_stage_that_made_it() -> None:
    top = ("a", "b", "c", "d")
    # served order c, a, b: the ranker scored c above a and b (score), priority agrees
    assert _moves(top, _answer(("c", 0.9, 0.9), ("a", 0.5, 0.5), ("b", 0.4, 0.4))) == {"score": 3}
    # the ranker agrees with offline; priority lifts b (arbitration); served by priority
    assert _moves(top, _answer(("b", 0.4, 0.8), ("a", 0.5, 0.5))) == {"arbitration": 2}
    # priority order a, b, c, but diversity served c before b
    assert _moves(top, _answer(("a", 0.5, 0.5), ("c", 0.3, 0.3), ("b", 0.4, 0.4))) == {
        "diversity": 2}  # fmt: skip
    # a removed above b is no move; an offer from beyond the top is not compared
    assert _moves(top, _answer(("b", 0.4, 0.4), ("x", 0.35, 0.35), ("c", 0.3, 0.3))) == {}
    # rounded ties keep the order of the stage before
    assert _moves(top, _answer(("a", 0.5, 0.5), ("b", 0.5, 0.5))) == {}


def test_served_and_offline_are_scored_on_the_same_relevant_offers() -> None:
    groups = [_Group("c1", "app", 1.0, ("a", "b", "c"), frozenset({"b"})),
              _Group("c2", "web", 2.0, ("a", "b"), frozenset({"a"}))]  # fmt: skip
    gone = OfferVerdict(offer_id="a", served=False, stage="contact", code="redeemed")
    answers = [_answer(("b", 0.9, 0.9), ("c", 0.1, 0.1), explained=[gone]),
               _answer(("x", 0.9, 0.9), ("a", 0.5, 0.5), fallback="unknown_customer")]  # fmt: skip
    f = _score("v", "2026-01-01", groups, answers)
    # offline: b at 2 (1/log2 3), a at 1 (1); served: b at 1 (1), a at 2
    assert f.offline["ndcg@5"] == pytest.approx((0.63093 + 1.0) / 2, abs=1e-5)
    assert f.served["ndcg@5"] == pytest.approx(f.offline["ndcg@5"])
    assert f.removed == {"contact/redeemed": 1}
    assert f.added == 1 and f.fallbacks == {"unknown_customer": 1}
    assert f.decided == ("1970-01-01T00:00:01+00:00", "1970-01-01T00:00:02+00:00")


def test_nothing_compared_never_meets_the_target() -> None:
    empty = Fidelity(version="v", as_of="t", decided=("t", "t"), groups=0,
                     offline={"ndcg@5": 0.0, "ndcg@10": 0.0},
                     served={"ndcg@5": 0.0, "ndcg@10": 0.0}, offline_all={"ndcg@5": 0.3,
                     "ndcg@10": 0.4})  # fmt: skip
    assert not empty.passed
    assert "no group had a relevant offer valid at its decision" in empty.describe()
    kept = Fidelity(version="v", as_of="t", decided=("t", "t"), groups=3,
                    offline={"ndcg@5": 0.5, "ndcg@10": 0.6}, served={"ndcg@5": 0.48,
                    "ndcg@10": 0.5}, offline_all={"ndcg@5": 0.4, "ndcg@10": 0.5})  # fmt: skip
    assert kept.passed and kept.ratio() == pytest.approx(0.96)
    assert "meets the target" in kept.describe()
    assert not Fidelity(**{**kept.__dict__, "served": {"ndcg@5": 0.47, "ndcg@10": 0.5}}).passed
