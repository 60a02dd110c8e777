"""The marketer's [policy] table: defaults, overrides and refusals."""

from __future__ import annotations

from typing import Any

import pytest

from omnioffer.decide.policy import Policy, load_policy
from omnioffer.errors import UsageError


def test_defaults() -> None:
    p = load_policy({})
    assert p == Policy()
    assert p.channel_weights == {}
    assert p.levers == {}
    assert p.default_value == 1.0
    assert p.cart_lift == 1.5
    assert p.cart_days == 3.0
    assert p.max_impressions_per_offer == 3
    assert p.impression_window_days == 7.0
    assert p.daily_cap == 6
    assert p.suppress_after_redeem is True
    assert p.dismiss_cooldown_days == 14.0
    assert p.suppress_bought_days == 3.0
    assert p.consent_channels == ("email", "sms")
    assert p.sticky_minutes == 30.0
    assert p.max_per_category == 2


def test_overrides() -> None:
    raw = {"channel_weights": {"web": 0.5, "app": 0}, "levers": {"o1": 2}, "daily_cap": 0,
           "consent_channels": ["sms"], "suppress_after_redeem": False}  # fmt: skip
    p = load_policy(raw)
    assert p.channel_weights == {"web": 0.5, "app": 0.0}
    assert p.levers == {"o1": 2.0}
    assert p.daily_cap == 0
    assert p.consent_channels == ("sms",)
    assert p.suppress_after_redeem is False
    assert p.cart_lift == 1.5  # untouched keys keep their default


def test_unknown_key_is_refused() -> None:
    with pytest.raises(UsageError, match=r"\[policy\].*daily_cpa"):
        load_policy({"daily_cpa": 2})


@pytest.mark.parametrize("raw", [
    {"channel_weights": {"web": -0.1}},
    {"levers": {"o1": -1}},
    {"default_value": -1.0},
    {"cart_lift": -0.5},
    {"cart_days": -1},
    {"daily_cap": -1},
    {"max_per_category": 0},
    {"daily_cap": "six"},
])  # fmt: skip
def test_bad_values_are_refused_naming_the_key_and_value(raw: dict[str, Any]) -> None:
    key = next(iter(raw))
    with pytest.raises(UsageError, match=rf"^\[policy\] {key}\b.*\(got "):
        load_policy(raw)
