"""A version's offers as arrays, built once per version, for per-request array work.

`rules.eligible` states the rule one offer at a time; checking all offers that way
costs a Python call per offer per request (500 offers in the benchmark). Here the
static parts (channel lists, segments, a per-customer cap of zero) are resolved once
per version, the validity windows become two arrays, and `covering` maps an item
(and `in_category` a category) to the offers on it, so the contact policy and the
offer features only visit the offers the customer's own history touches. The
offers' batch statistics are columns with training's fills already applied.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from omnioffer.contracts.payloads import OfferRow
from omnioffer.features.spec import DEEP_DISCOUNT

F64 = npt.NDArray[np.float64]
BOOL = npt.NDArray[np.bool_]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class OfferTable:
    position: dict[str, int]  # offer id -> position in the catalog's offers
    start: F64  # -inf when open
    end: F64  # +inf when open
    usable: BOOL  # False when max_per_customer is 0: never shown to anyone
    anywhere: BOOL  # no channel list: every channel
    on_channel: dict[str, BOOL]  # channel -> listed for it
    open_to_all: BOOL  # no segment list
    in_segment: dict[str, BOOL]  # segment -> listed for it
    covering: dict[str, tuple[int, ...]]  # item id -> offers covering it
    item_start: I64  # offer k's covered items (those the version knows) are
    items_flat: I64  # items_flat[item_start[k] : item_start[k + 1]], as item indices
    in_category: dict[str, tuple[int, ...]]  # category -> offers covering it
    known_items: tuple[tuple[int, ...], ...]  # offer k -> its covered items, as item indices
    depth: F64  # discount depth: 1 deep, 0 shallow, NaN without a discount
    stats: dict[str, F64]  # of_* batch statistics, nulls filled as training does
    rate_channel: dict[str, F64]  # channel -> of_rate_channel, nulls filled

    @classmethod
    def of(
        cls, offers: Sequence[OfferRow], prior: float, item_index: Mapping[str, int]
    ) -> OfferTable:
        n = len(offers)
        on_channel: dict[str, BOOL] = {}
        in_segment: dict[str, BOOL] = {}
        covering: dict[str, list[int]] = {}
        in_category: dict[str, list[int]] = {}
        for k, o in enumerate(offers):
            for c in o.channels:
                on_channel.setdefault(c, np.zeros(n, dtype=np.bool_))[k] = True
            for s in o.segments:
                in_segment.setdefault(s, np.zeros(n, dtype=np.bool_))[k] = True
            for item in o.covered_items:
                covering.setdefault(item, []).append(k)
            for cat in o.covered_categories:
                in_category.setdefault(cat, []).append(k)
        channels = {c for o in offers for c in o.rate_channel}
        known = [[item_index[i] for i in o.covered_items if i in item_index] for o in offers]
        return cls(
            position={o.offer_id: k for k, o in enumerate(offers)},
            start=np.array([-np.inf if o.start is None else o.start for o in offers]),
            end=np.array([np.inf if o.end is None else o.end for o in offers]),
            usable=np.array([o.max_per_customer != 0 for o in offers], dtype=np.bool_),
            anywhere=np.array([not o.channels for o in offers], dtype=np.bool_),
            on_channel=on_channel,
            open_to_all=np.array([not o.segments for o in offers], dtype=np.bool_),
            in_segment=in_segment,
            covering={item: tuple(ks) for item, ks in covering.items()},
            item_start=np.cumsum([0, *map(len, known)], dtype=np.int64),
            items_flat=np.array([i for ks in known for i in ks], dtype=np.int64),
            in_category={cat: tuple(ks) for cat, ks in in_category.items()},
            known_items=tuple(tuple(ks) for ks in known),
            depth=np.array([discount_depth(o.discount) for o in offers], dtype=np.float64),
            stats=_stats(offers, prior),
            rate_channel={
                c: _column([o.rate_channel.get(c) for o in offers], prior) for c in channels
            },
        )

    def rate_on(self, channel: str, prior: float) -> F64:
        """of_rate_channel of every offer on `channel` (the prior where nobody answered)."""
        found = self.rate_channel.get(channel)
        return found if found is not None else np.full(self.start.size, prior)

    def eligible(self, channel: str, now: float, segment: str | None) -> BOOL:
        """Channel, validity window and segment of every offer at once (consent is
        the customer's, per channel: the caller checks it once)."""
        n = self.start.size
        none = np.zeros(n, dtype=np.bool_)
        ok = self.usable & (self.anywhere | self.on_channel.get(channel, none))
        ok &= (self.start <= now) & (now <= self.end)
        seg = none if segment is None else self.in_segment.get(segment, none)
        return ok & (self.open_to_all | seg)

    def items_of(self, offers: Sequence[int]) -> set[int]:
        """Indices of the items (those the version knows) the given offers cover."""
        out: set[int] = set()
        for k in offers:
            out.update(self.known_items[k])
        return out

    def touched(self, offer_ids: set[str], items: set[str]) -> set[int]:
        """Positions of these offers and of every offer covering one of these items."""
        out = {self.position[o] for o in offer_ids if o in self.position}
        for item in items:
            out.update(self.covering.get(item, ()))
        return out


def discount_depth(discount: float | None) -> float:
    """1 deep, 0 shallow, NaN neither. Training's polars filters drop a null discount (and
    an offer missing from the offers table) from both groups, and polars orders NaN
    above every number, so a NaN discount counts as deep."""
    if discount is None:
        return np.nan
    return 1.0 if math.isnan(discount) or discount >= DEEP_DISCOUNT else 0.0


def _column(values: Sequence[float | None], fill: float) -> F64:
    """Training fills nulls and NaNs alike (fill_nan(None).fill_null(fill))."""
    out = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    return np.where(np.isnan(out), fill, out)


def _stats(offers: Sequence[OfferRow], prior: float) -> dict[str, F64]:
    return {
        "of_discount": _column([o.discount for o in offers], 0.0),
        "of_value": _column([o.value for o in offers], 0.0),
        "of_log_items": _column([o.of_log_items for o in offers], 0.0),
        "of_log_impressions": _column([o.of_log_impressions for o in offers], 0.0),
        "of_rate": _column([o.of_rate for o in offers], prior),
    }
