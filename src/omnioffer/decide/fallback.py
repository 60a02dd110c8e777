"""Answers without a customer's features: channel popularity and context.

Used for unknown customers, and when the store cannot be read in time (the
response says which, in `fallback`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from omnioffer.contracts.http import ItemOut
from omnioffer.version.model import VersionModel


def popular_items(model: VersionModel, channel: str, k: int, exclude: set[str]) -> list[ItemOut]:
    ranked = model.catalog.popular_channel.get(channel) or model.catalog.popular
    if channel not in model.catalog.popular_channel:
        reason = "popular overall"
    else:
        reason = f"popular on {channel}"
    picked = [i for i in ranked if i not in exclude][:k]
    return [
        ItemOut(item_id=i, score=round(1.0 / (r + 1), 6), reasons=[reason])
        for r, i in enumerate(picked)
    ]


def popular_propensity(
    model: VersionModel, offers: Sequence[int], channel: str
) -> npt.NDArray[np.float32]:
    """Each offer's smoothed response rate on this channel (or overall, or the prior)."""
    prior = model.catalog.prior
    out = []
    for k in offers:
        offer = model.catalog.offers[k]
        rate = offer.rate_channel.get(channel, offer.of_rate)
        out.append(prior if rate is None else rate)
    return np.array(out, dtype=np.float32)
