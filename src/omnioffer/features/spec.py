"""The one definition of every ranker input: names and order, fills, windows, smoothing.

Training and serving both read these, so a name, a fill, a window or a smoothing weight
exists once. The artifact records the order each ranker was trained with, and the
service matches it by name.

Offer features are computed once: by this package's offers.py, per request online and,
replayed over each training group's history, in training (training/features/
offer_features.py); a new offer feature is its name and fill here plus its code there.

Item features still have two computations, polars over the sampled training groups
(training/features/item_features.py) and numpy per request (items.py, candidates.py),
kept equal by tests/integration/test_feature_parity.py. A row's item features depend
on its candidate sources, so replaying them means replaying candidate generation too.
Estimated, not yet built: online, candidates and item features cost 0.3-0.55 ms per
customer-channel group (bench_decide.py --profile: 0.30 ms in candidates.generate
and 0.24 ms in item_matrix for ~81 covered candidates, under the profiler), and
training scores tens of thousands of groups at 100k customers (2.3M candidate rows
to train on, the test window's groups, every offer group's item scores): about
+12 to +30% of the 146 s of training CPU, less the polars time it would replace,
so on the edge of the issue's 15%. Both computations stay until that is measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import polars as pl

# --- time ---------------------------------------------------------------------------
DAY_S = 86_400.0
US = 1_000_000.0  # online event ages are kept in microseconds, as training's timestamps
NEVER = 9_999.0  # "days since" for something that never happened

# --- event types --------------------------------------------------------------------
BROWSE = ("view", "add_to_cart")
RESPONSES = ("offer_click", "offer_redeem")
OFFER_TYPES = ("offer_impression", "offer_click", "offer_redeem", "offer_dismiss")
SHOP_CHANNELS = ("web", "app", "store")  # cu_share_<channel> of the offer ranker

# --- windows ------------------------------------------------------------------------
RECENT_DAYS = 14  # views and carts that count, and that the online history keeps
FATIGUE_DAYS = 14.0  # fa_impr_offer_14d: unanswered impressions of the offer this recent
RECENT_IMPRESSION_DAYS = 7  # fa_impr_all_7d
POP7_DAYS, POP28_DAYS = 7, 28  # it_pop7, it_pop28 (and the per-channel popularity window)
REPURCHASE_HALF_LIFE_DAYS = 30.0  # time decay of the customer's own purchases as candidates

# --- candidates ---------------------------------------------------------------------
SOURCES: tuple[str, ...] = ("als", "history", "recent", "related", "popular", "popular_channel")

# --- smoothing ----------------------------------------------------------------------
PRIOR_WEIGHT = 20.0  # impressions' worth of the global rate in smoothed rates
CATEGORY_PRIOR_WEIGHT = 3.0  # the same for one customer's rate in one category
SHARE_SMOOTHING = (0.5, 2.0)  # (added items in the category, added items in total)
DEEP_DISCOUNT = 0.2  # cu_disc_lift: deep (>= 20%) against shallow discounts
NO_ITEM_SCORE = -10.0  # ir_max of an offer none of whose items the item ranker scored

N = TypeVar("N", float, "pl.Expr")


def smoothed_rate(resp: N, impr: N, prior: float, weight: float = PRIOR_WEIGHT) -> N:
    """A response rate smoothed towards the prior by `weight` impressions' worth of it
    (one expression for both wings: floats online, polars expressions in training)."""
    return (resp + weight * prior) / (impr + weight)


# --- the item ranker ----------------------------------------------------------------
ITEM_STATS = ("it_price", "it_pop28", "it_pop7", "it_pop_all", "it_trend", "it_repeat_rate")
ITEM_FILL = {name: 0.0 for name in ITEM_STATS}  # a version's item statistics, when null
CUSTOMER_ITEM = ("ci_qty", "ci_n", "ci_days_since", "ci_interval", "ci_due")
CUSTOMER_CATEGORY = ("cc_qty", "cc_n", "cc_days_since", "cc_interval", "cc_due")
PURCHASE_STAT_FILLS = (0.0, 0.0, NEVER, NEVER, -1.0)  # the ci_*/cc_* stats: no purchase
CUSTOMER_RFM = ("cu_recency", "cu_frequency", "cu_monetary", "cu_distinct_items")

ITEM_FILLS: dict[str, float] = {
    "cf_score": 0.0,
    "als_rank": 1_000.0,
    **{f"src_{s}": 0.0 for s in SOURCES},
    **dict(zip(CUSTOMER_ITEM, PURCHASE_STAT_FILLS, strict=True)),
    "ci_views_recent": 0.0,
    "ci_carts_recent": 0.0,
    "ci_days_since_seen": NEVER,
    "ci_same_channel": 0.0,
    **dict(zip(CUSTOMER_CATEGORY, PURCHASE_STAT_FILLS, strict=True)),
    "cc_share": 0.0,
    **ITEM_FILL,
    "ch_pop": 0.0,
    "ch_share": 0.0,
    "cu_recency": NEVER,
    "cu_frequency": 0.0,
    "cu_monetary": 0.0,
    "cu_distinct_items": 0.0,
    "price_ratio": 1.0,
    "channel_code": -1.0,
}
"""Every item-ranker feature but the per-channel shares, in the ranker's order, with its
fill for "no history" (so the ONNX model never has to agree with LightGBM about
missing-value routing)."""


def item_feature_names(channels: Sequence[str]) -> list[str]:
    """The item ranker's ordered features (saved in the manifest; the ONNX input follows it)."""
    return [*ITEM_FILLS, *(f"cu_share_{ch}" for ch in channels)]


# --- the offer ranker ---------------------------------------------------------------
OFFER_FEATURES: tuple[str, ...] = (
    "of_discount", "of_value", "of_log_items", "of_log_impressions", "of_rate", "of_rate_channel",
    "cf_affinity", "co_qty", "co_days_since", "co_cat_share",
    "cu_log_impressions", "cu_rate", "cu_rate_channel",
    "fa_impr_offer_14d", "fa_impr_all_7d", "fa_dismissed", "fa_days_since_offer",
    "fa_impr_offer_total",
    "channel_code", "ir_max", *(f"cu_share_{ch}" for ch in SHOP_CHANNELS), "cu_disc_lift",
    "ca_rate", "ca_log_share",
)  # fmt: skip
"""The offer ranker's ordered features."""

OFFER_FILLS: dict[str, float] = {
    "of_log_items": 0.0, "of_log_impressions": 0.0, "co_qty": 0.0, "co_days_since": NEVER,
    "co_cat_share": 0.0, "cu_log_impressions": 0.0, "fa_impr_offer_14d": 0.0,
    "fa_impr_all_7d": 0.0, "fa_dismissed": 0.0, "fa_days_since_offer": NEVER,
    "fa_impr_offer_total": 0.0,
    "cf_affinity": 0.0, "ir_max": NO_ITEM_SCORE, "of_discount": 0.0, "of_value": 0.0,
}  # fmt: skip
"""Fills for "no history"; a feature not listed fills with 0, except PRIOR_FILLED."""

PRIOR_FILLED = ("of_rate", "of_rate_channel", "cu_rate", "cu_rate_channel", "ca_rate")
"""Rates that fill with the version's global response rate (its prior)."""

SPARSE_OFFER = ("fa_impr_offer_14d", "fa_dismissed", "fa_impr_offer_total",
                "fa_days_since_offer", "co_qty", "co_days_since")  # fmt: skip
"""Per-offer features that keep their fill unless the customer's events touch the offer."""


def offer_fills(prior: float) -> dict[str, float]:
    """The fill of every offer feature for a version whose global response rate is `prior`."""
    return {n: prior if n in PRIOR_FILLED else OFFER_FILLS.get(n, 0.0) for n in OFFER_FEATURES}
