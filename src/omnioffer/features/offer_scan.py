"""One customer's events as the offer features read them, summarised in one pass.

The offer features run on a few dozen events per decision, where numpy's per-call
overhead on tiny arrays would dominate: one plain-Python pass over the events (`Scan`)
collects each offer's contacts (`Tally`), the purchases and the recent browsing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from omnioffer.features.history import History
from omnioffer.features.spec import (
    BROWSE,
    DAY_S,
    FATIGUE_DAYS,
    RECENT_IMPRESSION_DAYS,
    RESPONSES,
    US,
)

F64 = npt.NDArray[np.float64]
_RECENT_US = RECENT_IMPRESSION_DAYS * DAY_S * US  # timestamp >= now - 7 d


class Tally:
    """One offer's events for this customer (a purchase that carries the offer id
    counts here too, though as neither impression nor response).
    The class attributes are the starting counts (cheaper than an __init__ per offer)."""

    impr: float = 0.0
    resp: float = 0.0
    dismiss: float = 0.0
    impr_here: float = 0.0  # on the request's channel
    resp_here: float = 0.0
    impr_7d: float = 0.0
    impr_14d: float = 0.0  # the fatigue window
    resp_14d: float = 0.0
    last_shown: float = np.inf  # age in days of the latest impression

    def add(self, kind: str, here: bool, age_us: float, age_days: float) -> None:
        """Count one event of the offer (`here`: on the request's channel)."""
        if kind == "offer_impression":
            self.impr += 1.0
            if here:
                self.impr_here += 1.0
            if age_us <= _RECENT_US:
                self.impr_7d += 1.0
            if age_days <= FATIGUE_DAYS:
                self.impr_14d += 1.0
            self.last_shown = min(self.last_shown, age_days)
        elif kind in RESPONSES:
            self.resp += 1.0
            if here:
                self.resp_here += 1.0
            if age_days <= FATIGUE_DAYS:
                self.resp_14d += 1.0
        elif kind == "offer_dismiss":
            self.dismiss += 1.0


class Purchase(NamedTuple):
    """One purchase event, as the features read it."""

    item_id: str | None
    item: int  # index in the version, -1 unknown
    channel: str
    qty: float
    age_days: float


@dataclass(frozen=True)
class Scan:
    """The customer's history, summarised in one pass over the events."""

    offers: dict[str, Tally]  # offer id -> its events, in order of first event
    purchases: list[Purchase]
    browsed: set[int]  # known items viewed or carted in the last recent_days

    @classmethod
    def of(cls, h: History, channel: str, browse_us: float) -> Scan:
        age_us, age_days = event_ages(h)
        offers: dict[str, Tally] = {}
        purchases: list[Purchase] = []
        browsed: set[int] = set()
        for kind, ch, offer, item_id, item, qty, us, days in zip(
            h.type.tolist(), h.channel.tolist(), h.offer, h.item_id, h.item.tolist(),
            h.qty.tolist(), age_us.tolist(), age_days.tolist(), strict=True,
        ):  # fmt: skip
            if kind == "purchase":
                purchases.append(Purchase(item_id, item, ch, qty, days))
            elif kind in BROWSE and us <= browse_us and item >= 0:
                browsed.add(item)
            if offer is not None:
                tally = offers.get(offer)
                if tally is None:
                    tally = offers[offer] = Tally()
                tally.add(kind, ch == channel, us, days)
        return cls(offers, purchases, browsed)


def event_ages(h: History) -> tuple[F64, F64]:
    """Event ages in exact microseconds, and in days of whole seconds: polars'
    total_seconds() truncates, so an event right at a day boundary (the 14-day
    fatigue window) falls on the same side as in training."""
    age_us = np.rint((h.now - h.ts) * US)
    return age_us, np.floor(age_us / US) / DAY_S
