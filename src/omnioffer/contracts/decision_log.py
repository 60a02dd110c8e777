"""The decision log: one record per served decision (public contract, FORMAT 1).

Written by the service for every decision it records (not for dry runs), kept in the
feature store's own decision-log stream/table beside the event log, and exported as
JSON Lines, one `LoggedDecision` per line (`omnioffer export-decisions`). Experiment
results join it with the event log (feedback by `decision_id`; purchases by customer
within an attribution window), and off-policy evaluation (`omnioffer
evaluate-policy`) reads it to value a candidate policy from what was shown.

Propensities are exact for the logging policy. With exploration rate epsilon and n
eligible offers, the policy shows its own ranking with probability 1 - epsilon, and
otherwise a uniformly random ordering of k of the n eligible offers, so

    P(offer o at rank r) = (1 - epsilon) * [the ranking put o at r] + epsilon / n

which is never 0 for an eligible offer when epsilon > 0. `propensity` is that
probability for each shown offer at the rank it was shown; `explored` says which of the
two draws produced this decision (for audits; estimators use the probabilities).
"""

from __future__ import annotations

import msgspec

from omnioffer.contracts.experiments import Exposure

FORMAT = 1


class LoggedOffer(msgspec.Struct, frozen=True, kw_only=True):
    offer_id: str
    rank: int  # 1-based position shown
    score: float  # the ranking's priority for this offer (0 where none was computed)
    propensity: float  # P(the logging policy shows this offer at this rank)


class LoggedDecision(msgspec.Struct, frozen=True, kw_only=True):
    format: int = FORMAT
    decision_id: str
    ts: float  # the service clock, epoch seconds
    customer_id: str | None  # the canonical id (None: not identified)
    channel: str
    model_version: str
    strategy: str  # ranker | als | popular | random_eligible | none (what ranked it)
    fallback: str | None = None  # as in the decision response
    holdout: bool = False  # the customer is in the universal holdout
    experiments: list[Exposure] = []
    exploration: float = 0.0  # epsilon in force for this decision
    explored: bool = False
    eligible: int = 0  # n: offers eligible after policy and budgets
    offers: list[LoggedOffer] = []


def encode_line(record: LoggedDecision) -> bytes:
    """One JSON Lines row (with its newline)."""
    return msgspec.json.encode(record) + b"\n"


def decode_line(line: bytes | str) -> LoggedDecision:
    return msgspec.json.decode(line, type=LoggedDecision)
