"""Off-policy evaluation of a candidate policy from the decision log
(`omnioffer evaluate-policy`): IPS, SNIPS and doubly robust estimates (stats/off_policy)
of its response rate at the top position, with CIs, before it gets any traffic.

Definitions (docs/experiments.md, "Off-policy evaluation"):

- unit: a logged decision with a customer and at least one shown offer; the logged
  action is its rank-1 offer, with the exact `propensity` the decision log holds;
- reward: 1 when that decision's rank-1 offer got a click or a redeem (feedback joined
  by decision id), else 0;
- candidate: deterministic; for a decision on channel c it shows the offer of the
  version (`models/<V>/serving/offers.parquet`) available on c with the highest
  score = the offer's response rate on c (`of_rate_channel`, else `of_rate`) x its
  lever in the policy file's `[policy] levers` (default 1); its probability of the
  logged action is 1 when that is its offer, else 0. It is the version's offer-level
  ranking, not its per-customer ranker: customer features and eligibility (segments,
  caps) are not replayed;
- DR's reward model: each offer's mean reward at rank 1 in the log.

Exploration makes this possible: with epsilon > 0 every eligible offer has a logged
propensity >= epsilon / n at rank 1, so the candidate's offer is in the log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import msgspec
import numpy as np

from omnioffer.contracts.decision_log import LoggedDecision
from omnioffer.contracts.statistics import PolicyEstimate
from omnioffer.errors import DataError
from omnioffer.jobs.experiment_results import RESPONSES, CustomerEvent, feedback_decision
from omnioffer.stats.off_policy import doubly_robust, ips, snips


class PolicyValue(msgspec.Struct, kw_only=True):
    """What evaluate-policy reports: the candidate's value by each estimator, the
    logging policy's observed value, and how much of the log backs the estimate."""

    version: str
    decisions: int  # logged decisions evaluated
    matched: int  # ... whose rank-1 offer is the candidate's
    logged_value: float  # the observed rank-1 response rate under the logging policy
    candidate_offers: dict[str, str]  # channel -> the candidate's offer
    estimates: list[PolicyEstimate]


def version_scores(
    models: Path, version: str, levers: Mapping[str, float]
) -> dict[str, dict[str, float]]:
    """channel -> offer -> the candidate's score, from the version's serving files."""
    import polars as pl

    serving = models / version / "serving"
    if not (serving / "offers.parquet").exists():
        raise DataError(
            f"{serving / 'offers.parquet'} is missing: is {version!r} a version in {models}?"
        )
    offers = pl.read_parquet(
        serving / "offers.parquet", columns=["offer_id", "channels", "of_rate"]
    )
    rates: dict[tuple[str, str], float] = {}
    if (serving / "offer_channels.parquet").exists():
        for o, c, r in pl.read_parquet(serving / "offer_channels.parquet").iter_rows():
            if r is not None:
                rates[(o, c)] = float(r)
    scores: dict[str, dict[str, float]] = {}
    channels = {c for _, c in rates}
    for offer_id, offer_channels, of_rate in offers.iter_rows():
        for c in offer_channels or channels:
            rate = rates.get((offer_id, c), of_rate)
            if rate is not None:
                scores.setdefault(c, {})[offer_id] = float(rate) * levers.get(offer_id, 1.0)
    return scores


def _rewards(events: Sequence[CustomerEvent]) -> set[tuple[str, str]]:
    """(decision id, offer) pairs that got a click or a redeem."""
    out = set()
    for _, e in events:
        did = feedback_decision(e)
        if did is not None and e.type in RESPONSES and e.offer is not None:
            out.add((did, e.offer))
    return out


def evaluate_policy(
    decisions: Sequence[LoggedDecision], events: Sequence[CustomerEvent],
    scores: Mapping[str, Mapping[str, float]], *, version: str = "", confidence: float = 0.95,
) -> PolicyValue:  # fmt: skip
    """The candidate (`scores`: channel -> offer -> score, the highest shown) valued on
    the log; DataError when no logged decision can be evaluated."""
    best = {c: max(s, key=lambda o: (s[o], o)) for c, s in scores.items() if s}
    responded = _rewards(events)
    units = [(d, d.offers[0]) for d in decisions
             if d.customer_id is not None and d.offers and d.offers[0].rank == 1
             and d.channel in best]  # fmt: skip
    if not units:
        raise DataError("no logged decision has a rank-1 offer on a channel the candidate serves")
    reward = np.array([(d.decision_id, o.offer_id) in responded for d, o in units], dtype=float)
    logging = np.array([o.propensity for _, o in units], dtype=float)
    chosen = [best[d.channel] for d, _ in units]
    target = np.array(
        [o.offer_id == c for (_, o), c in zip(units, chosen, strict=True)], dtype=float
    )
    totals: dict[str, list[float]] = {}
    for (_, o), r in zip(units, reward, strict=True):
        totals.setdefault(o.offer_id, []).append(float(r))
    mean = {k: float(np.mean(v)) for k, v in totals.items()}
    overall = float(reward.mean())
    q_logged = np.array([mean[o.offer_id] for _, o in units])
    q_target = np.array([mean.get(c, overall) for c in chosen])
    estimates = [
        ips(reward, logging, target, confidence=confidence),
        snips(reward, logging, target, confidence=confidence),
        doubly_robust(reward, logging, target, q_logged, q_target, confidence=confidence),
    ]
    return PolicyValue(
        version=version, decisions=len(units), matched=int(target.sum()),
        logged_value=overall, candidate_offers=best, estimates=estimates,
    )  # fmt: skip
