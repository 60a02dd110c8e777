"""A customer's events as aligned numpy columns, the input of every online feature.

Built per request from the batch record plus real-time events; only events before
`now` count, exactly as training features only see events before their cutoff.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import msgspec
import numpy as np
import numpy.typing as npt

from omnioffer.contracts.payloads import Event
from omnioffer.features.spec import DAY_S
from omnioffer.version.model import VersionModel


class Bought(NamedTuple):
    """The purchase events as plain lists, in time order (for the per-customer loops:
    a customer has tens of purchases, where numpy's per-call overhead would dominate)."""

    item: list[int]  # index in the version, -1 unknown or none
    ts: list[float]
    qty: list[float]
    channel: list[str]
    item_id: list[str | None]


@dataclass(frozen=True)
class History:
    now: float
    ts: npt.NDArray[np.float64]
    type: npt.NDArray[np.str_]
    channel: npt.NDArray[np.str_]
    item: npt.NDArray[np.int64]  # item index in the version, -1 unknown or none
    item_id: list[str | None]
    offer: list[str | None]
    qty: npt.NDArray[np.float64]
    revenue: npt.NDArray[np.float64]  # NaN when unknown

    @classmethod
    def build(
        cls, events: Sequence[Event], model: VersionModel, now: float, *, clamp: bool = False
    ) -> History:
        """`clamp`: events stamped at or after `now` (client clock skew, a replay clock)
        count as just happened instead of being ignored."""
        if clamp:
            late = now - 1e-3
            events = [e if e.ts < now else msgspec.structs.replace(e, ts=late) for e in events]
        kept = sorted((e for e in events if e.ts < now), key=lambda e: e.ts)
        index = model.item_index
        return cls(
            now=now,
            ts=np.array([e.ts for e in kept], dtype=np.float64),
            type=np.array([e.type for e in kept], dtype=np.str_),
            channel=np.array([e.channel for e in kept], dtype=np.str_),
            item=np.array(
                [-1 if e.item is None else index.get(e.item, -1) for e in kept], dtype=np.int64
            ),
            item_id=[e.item for e in kept],
            offer=[e.offer for e in kept],
            qty=np.array([e.qty for e in kept], dtype=np.float64),
            revenue=np.array(
                [np.nan if e.revenue is None else e.revenue for e in kept], dtype=np.float64
            ),
        )

    def age_days(self) -> npt.NDArray[np.float64]:
        return (self.now - self.ts) / DAY_S

    def mask(self, *types: str) -> npt.NDArray[np.bool_]:
        out = np.zeros(self.ts.size, dtype=np.bool_)
        for t in types:  # a few comparisons beat np.isin's sort on arrays this small
            out |= self.type == t
        return out

    @cached_property
    def purchases(self) -> npt.NDArray[np.bool_]:
        """Purchase events (read-only: computed once, shared by every feature stage)."""
        out = np.asarray(self.type == "purchase", dtype=np.bool_)
        out.setflags(write=False)
        return out

    @cached_property
    def bought(self) -> Bought:
        """The purchase events as lists (computed once, shared; not to be modified)."""
        p = self.purchases
        at = np.flatnonzero(p).tolist()
        ids = self.item_id
        return Bought(self.item[p].tolist(), self.ts[p].tolist(), self.qty[p].tolist(),
                      self.channel[p].tolist(), [ids[i] for i in at])  # fmt: skip
