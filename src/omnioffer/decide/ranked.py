"""An offer on its way through the stages: arbitration makes it, later stages reorder,
trim and annotate it, explanation puts its reasons first."""

from __future__ import annotations

from dataclasses import dataclass

from omnioffer.contracts.payloads import OfferRow


@dataclass(slots=True)
class Ranked:
    offer: OfferRow
    propensity: float
    value: float
    priority: float
    reasons: list[str]  # notes of later stages until `explain` puts the reasons first
