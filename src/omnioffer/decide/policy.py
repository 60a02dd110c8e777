"""The marketer's controls: arbitration weights and the contact policy.

Read from the `[policy]` table of the service settings; every key is optional and
unknown keys are an error, so a typo in a cap never silently disables it. An
experiment's variant may override any of them (`check_override`, `overridden`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import msgspec

from omnioffer.errors import InputError, UsageError

Weight = Annotated[float, msgspec.Meta(ge=0)]
Days = Annotated[float, msgspec.Meta(ge=0)]


class Policy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    # arbitration: priority = propensity x value^value_weight x lever x channel weight
    # (x cart lift)
    channel_weights: dict[str, Weight] = {}  # default 1.0
    levers: dict[str, Weight] = {}  # per offer id, default 1.0
    # 0: rank by the customer's predicted response (the default: ranking by expected
    # margin, 1, cost x0.78 of the served NDCG@5 on the retail profile, docs/benchmarks.md,
    # "Serving fidelity"); 1: by expected margin (propensity x value); between: a blend
    value_weight: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.0
    default_value: Weight = 1.0  # for offers without a value
    cart_lift: Weight = 1.5  # offers covering a category in the recent cart
    cart_days: Days = 3.0
    # contact policy
    max_impressions_per_offer: Annotated[int, msgspec.Meta(ge=0)] = 3
    impression_window_days: Days = 7.0
    daily_cap: Annotated[int, msgspec.Meta(ge=0)] = 6  # impressions, all channels, 24 h
    suppress_after_redeem: bool = True
    dismiss_cooldown_days: Days = 14.0
    suppress_bought_days: Days = 3.0  # offers on an item bought this recently ...
    suppress_bought_staples: bool = False  # ... also when the customer re-buys it (contact.py)
    consent_channels: tuple[str, ...] = ("email", "sms")
    # one conversation: keep the previous top offer across channels if nothing happened
    sticky_minutes: Days = 30.0
    # ... unless its priority here is below this share of the best offer's: one
    # conversation, but never against a clearly better offer
    sticky_min_share: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.5
    # volume: offer id -> the most decisions (every worker, channel and rank) that may
    # serve it; counted in the store and read every budget_refresh_s (decide/budget.py)
    offer_budgets: dict[str, Annotated[int, msgspec.Meta(ge=0)]] = {}
    budget_refresh_s: Annotated[float, msgspec.Meta(ge=0, le=3_600)] = 1.0
    # diversity
    max_per_category: Annotated[int, msgspec.Meta(ge=1)] = 2


def load_policy(raw: Mapping[str, Any]) -> Policy:
    """The policy, or a UsageError naming the key, the rule and the value given."""
    try:
        return msgspec.convert(dict(raw), Policy)
    except msgspec.ValidationError as exc:
        rule, _, at = str(exc).partition(" - at `$.")
        key = at.rstrip("`")
        if not key:  # an unknown key: say which ones exist
            known = ", ".join(f.name for f in msgspec.structs.fields(Policy))
            raise UsageError(f"[policy]: {rule} (known keys: {known})") from exc
        top = key.split(".")[0].split("[")[0]
        raise UsageError(f"[policy] {key}: {rule} (got {raw.get(top)!r})") from exc


def check_override(raw: Mapping[str, Any], at: str) -> None:
    """An experiment variant's `policy` table: InputError at `at`.<key> for an unknown key
    or a value the [policy] table would refuse."""
    try:
        msgspec.convert(dict(raw), Policy)
    except msgspec.ValidationError as exc:
        rule, _, key = str(exc).partition(" - at `$")
        if not key:  # an unknown key: say which ones exist
            unknown = rule.rpartition("`")[0].rpartition("`")[2]
            known = ", ".join(f.name for f in msgspec.structs.fields(Policy))
            raise InputError(f"{at}.{unknown}", f"not a [policy] key (known: {known})") from exc
        raise InputError(at + key.rstrip("`"), rule) from exc


def overridden(policy: Policy, changes: Mapping[str, Any]) -> Policy:
    """`policy` with the keys of `changes` replaced (a whole key: a `levers` table in
    `changes` replaces the levers table); `changes` passed check_override."""
    if not changes:
        return policy
    return msgspec.convert({**msgspec.structs.asdict(policy), **changes}, Policy)
