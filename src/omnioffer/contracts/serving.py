"""The `serving/` half of a model version: the doorway from training to the service.

Training writes these files (training/publish/serving_export.py); `materialize` reads
them into the store (jobs/serving_files.py). Both take the format number, the file
names and their columns from here, so the two sides cannot drift apart silently: a
reader meets a version of another format with an ArtifactError that says so.

Files (parquet unless named otherwise), each written at the serving cutoff:
- `serving.json` (META): format, cutoff, prior (global offer response rate), channels,
  candidate settings;
- `history`: each customer's compact history (HISTORY_TYPES, plus views and carts of
  the last `recent_days`), in time order;
- `customers`, `identities`: profile and consent; (id_type, id_value) -> customer;
- `items`, `channel_items`, `popular`, `popular_channel`: batch item statistics;
- `offers`, `offer_channels`: the offer catalog with its batch rates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from omnioffer.contracts.artifact import ArtifactError
from omnioffer.contracts.payloads import Event
from omnioffer.features.spec import ITEM_STATS

SERVING_FORMAT = 1
DIR = "serving"
META = "serving.json"

HISTORY_TYPES = ("purchase", "offer_impression", "offer_click", "offer_redeem", "offer_dismiss")
"""Event types a customer's serving history keeps whatever their age."""

HISTORY = "history"
CUSTOMERS = "customers"
IDENTITIES = "identities"
ITEMS = "items"
CHANNEL_ITEMS = "channel_items"
POPULAR = "popular"
POPULAR_CHANNEL = "popular_channel"
OFFERS = "offers"
OFFER_CHANNELS = "offer_channels"

COLUMNS: Mapping[str, tuple[str, ...]] = {
    HISTORY: ("customer_key", "ts", "event_type", "channel", "item_id", "offer_id",
              "quantity", "revenue"),
    CUSTOMERS: ("customer_key", "segment"),  # and consent_<channel> columns
    IDENTITIES: ("id_type", "id_value", "customer_key"),
    ITEMS: ("item_id", "category", *ITEM_STATS),
    CHANNEL_ITEMS: ("channel", "item_id", "ch_pop", "ch_share"),
    POPULAR: ("item_id", "pop_rank"),
    POPULAR_CHANNEL: ("channel", "item_id", "pop_rank"),
    OFFERS: ("offer_id", "title", "discount", "value", "start", "end", "channels", "segments",
             "max_per_customer", "covered_items", "covered_categories", "of_log_items",
             "of_rate", "of_log_impressions"),
    OFFER_CHANNELS: ("offer_id", "channel", "of_rate_channel"),
}  # fmt: skip
"""The columns each file holds at least (a reader may rely on them; order is free)."""

CANDIDATE_SETTINGS = ("n_als", "n_history", "n_recent", "recent_days", "n_related",
                      "related_seeds")  # fmt: skip
"""The candidate settings serving.json carries, so online candidates match training's."""


def history_events(columns: Sequence[Sequence[Any]], lo: int, hi: int) -> list[Event]:
    """Rows lo..hi of the `history` file as Events: `columns` are its COLUMNS after
    customer_key, as lists. The one reading of a history row, for `materialize` and for
    training, which replays each group's history through the serving features."""
    return [
        Event(ts, typ, ch, item, offer, int(qty or 1), rev)
        for ts, typ, ch, item, offer, qty, rev in zip(*(c[lo:hi] for c in columns), strict=True)
    ]


def file_name(name: str) -> str:
    """A file's name inside `serving/` (the names above are parquet files)."""
    if name not in COLUMNS:
        raise KeyError(f"no serving file {name!r} (known: {', '.join(COLUMNS)})")
    return f"{name}.parquet"


def rel(name: str) -> str:
    """A file's path inside a version directory, as the manifest lists it."""
    return f"{DIR}/{META}" if name == META else f"{DIR}/{file_name(name)}"


def check_meta(meta: Mapping[str, Any], version: str) -> None:
    """Refuse a serving.json of another format, or one missing what a reader needs."""
    found = meta.get("format")
    if found != SERVING_FORMAT:
        raise ArtifactError(
            f"{version}: {DIR}/{META} has format {found!r}; this omnioffer reads format "
            f"{SERVING_FORMAT} (re-train the version, or serve it with a matching release)"
        )
    missing = [k for k in ("cutoff", "prior", "channels", "candidates") if k not in meta]
    if missing:
        raise ArtifactError(f"{version}: {DIR}/{META} lacks {', '.join(missing)}")
