"""Arbitration: rank eligible offers by business priority.

priority = propensity x value^value_weight x lever x channel weight, times the cart lift
when the offer covers a category the customer has in a cart right now (on any channel).
With the default value_weight = 0 offers rank by predicted response (the offer's value
is still reported); 1 ranks them by expected margin.
Reasons are written later (decide/explain.py), only for the offers actually served.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from omnioffer.decide.policy import Policy
from omnioffer.decide.ranked import Ranked
from omnioffer.decide.signals import Signals
from omnioffer.version.model import VersionModel, VersionSlot

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class _Weights:
    """Per-offer factors of one (version, policy), arrays aligned with catalog.offers."""

    policy: Policy  # held, so the id keying this entry stays its own
    value: F64  # the offer's value, the policy's default where it has none
    worth: F64  # value ** value_weight, the factor priority takes
    lever: F64
    id_rank: npt.NDArray[np.int64]  # position of the offer id in sorted order (ties)

    @classmethod
    def of(cls, model: VersionModel, policy: Policy) -> _Weights:
        offers = model.catalog.offers
        ids = [o.offer_id for o in offers]
        rank = np.empty(len(ids), dtype=np.int64)
        rank[sorted(range(len(ids)), key=ids.__getitem__)] = np.arange(len(ids))
        values = [policy.default_value if o.value is None else o.value for o in offers]
        value = np.array(values, dtype=np.float64)
        return cls(
            policy=policy,
            value=value,
            worth=value**policy.value_weight,  # x ** 1.0 is x exactly, 0 ** 0 is 1
            lever=np.array([policy.levers.get(i, 1.0) for i in ids], dtype=np.float64),
            id_rank=rank,
        )


# by id(policy): a Policy holds dicts, so it has no hash; each entry holds its policy,
# so the id keying it cannot be reused by another one
_WEIGHTS: VersionSlot[int, _Weights] = VersionSlot("arbitration weights by policy")


def _weights(model: VersionModel, policy: Policy) -> _Weights:
    """Built once per (loaded version, policy) and kept with the version."""
    return _WEIGHTS.get(model, id(policy), lambda: _Weights.of(model, policy))


def arbitrate(
    offers: Sequence[int],
    propensity: npt.NDArray[np.float32],
    model: VersionModel,
    *,
    channel: str,
    policy: Policy,
    signals: Signals,
) -> list[Ranked]:
    """Every offer by priority, best first (ties by offer id), without reasons yet (see
    `explain`). The products are taken in the order of the formula, in float64."""
    at = np.asarray(offers, dtype=np.int64)
    w = _weights(model, policy)
    lift = np.ones(len(model.catalog.offers))
    in_category = model.offer_table.in_category
    for cat in signals.cart:
        lift[list(in_category.get(cat, ()))] = policy.cart_lift
    p = np.asarray(propensity, dtype=np.float64)
    weight = float(policy.channel_weights.get(channel, 1.0))
    value = w.value[at]
    priority = p * w.worth[at] * w.lever[at] * weight * lift[at]
    order = np.lexsort((w.id_rank[at], -priority)).tolist()
    rows, props, prios, values = model.catalog.offers, p.tolist(), priority.tolist(), value.tolist()
    return [Ranked(rows[offers[k]], props[k], values[k], prios[k], []) for k in order]
