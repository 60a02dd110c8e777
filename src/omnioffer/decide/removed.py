"""Why an offer was not served: the stage that removed it and the rule, as explain reads it."""

from __future__ import annotations

from typing import NamedTuple


class Removed(NamedTuple):
    stage: str  # eligibility, contact, budget, arbitration, diversity, catalog
    code: str  # a short, stable rule name (channel, expired, daily_cap, ...)
    reason: str  # for a person
