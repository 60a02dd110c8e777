"""Contract v1 tables from the simulated world (ids, names, timestamps)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
import polars as pl

from omnioffer.contracts.schema import EVENT_TYPES
from training.simulate.events import CHANNELS, Events
from training.simulate.offers import Offers
from training.simulate.world import OFFER_CHANNELS, Catalog, Customers

START = datetime(2026, 1, 1, tzinfo=UTC)
SEGMENTS = ("regular", "family", "premium")
REGIONS = ("north", "south", "east", "west", "central")
BIG_OFFER = 15  # offers covering more items list them in offer_items


def ids(prefix: str, index: pl.Expr, width: int) -> pl.Expr:
    return pl.lit(prefix) + index.cast(pl.String).str.zfill(width)


def category_names(cat: Catalog) -> list[str]:
    return [f"{'grocery' if c else 'general'}-{i:02d}" for i, c in enumerate(cat.consumable)]


def events_table(ev: Events, identity: pl.DataFrame, *, prefix: str = "e") -> pl.DataFrame:
    """One block's events, sorted by time; event ids are `prefix` + a sequence number."""
    micros = (ev.day * 86_400e6).astype(np.int64) + int(START.timestamp() * 1e6)
    frame = pl.DataFrame(
        {
            "t": micros,
            "et": ev.etype,
            "ch": ev.channel,
            "item": ev.item,
            "offer": ev.offer,
            "qty": ev.qty,
            "session": ev.session,
        }
    ).hstack(identity)
    frame = frame.with_row_index("_seq").sort("t", "_seq")
    return frame.select(
        event_id=ids(prefix, pl.int_range(pl.len()), 9),
        timestamp=pl.from_epoch("t", time_unit="us").dt.replace_time_zone("UTC"),
        event_type=pl.col("et").replace_strict(list(range(len(EVENT_TYPES))), list(EVENT_TYPES)),
        channel=pl.col("ch").replace_strict(list(range(len(CHANNELS))), list(CHANNELS)),
        customer_id="customer_id",
        id_type="id_type",
        id_value="id_value",
        item_id=pl.when(pl.col("item") >= 0).then(ids("i", pl.col("item"), 6)),
        offer_id=pl.when(pl.col("offer") >= 0).then(ids("o", pl.col("offer"), 4)),
        quantity="qty",
        session_id=pl.when(pl.col("session") >= 0).then(ids("s", pl.col("session"), 9)),
    )


def add_revenue(events: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame:
    price = items.select("item_id", "price")
    return (
        events.join(price, on="item_id", how="left", maintain_order="left")
        .with_columns(
            revenue=pl.when(pl.col("event_type").is_in(["purchase", "return"])).then(
                (pl.col("price") * pl.col("quantity")).round(2)
            )
        )
        .drop("price")
    )


def items_table(cat: Catalog) -> pl.DataFrame:
    names = category_names(cat)
    return pl.DataFrame(
        {
            "i": np.arange(cat.item_cat.size),
            "c": cat.item_cat,
            "b": cat.brand,
            "price": cat.price.astype(np.float64),
        }
    ).select(
        item_id=ids("i", pl.col("i"), 6),
        category=pl.col("c").replace_strict(list(range(len(names))), names),
        brand=pl.lit("brand-") + pl.col("b").cast(pl.String),
        price=pl.col("price").round(2),
    )


def customers_table(cust: Customers) -> pl.DataFrame:
    n = cust.archetype.size
    return pl.DataFrame(
        {
            "i": np.arange(n),
            "s": cust.segment,
            "r": cust.region,
            "consent_email": cust.consent_email,
            "consent_sms": cust.consent_sms,
        }
    ).select(
        customer_id=ids("c", pl.col("i"), 7),
        segment=pl.col("s").replace_strict(list(range(3)), list(SEGMENTS)),
        region=pl.col("r").replace_strict(list(range(5)), list(REGIONS)),
        consent_email="consent_email",
        consent_sms="consent_sms",
    )


def offers_tables(offers: Offers, cat: Catalog, days: float) -> tuple[pl.DataFrame, pl.DataFrame]:
    names = category_names(cat)
    n = offers.cat.size
    item_lists = [
        []
        if offers.by_category[o] or offers.items[o].size > BIG_OFFER
        else [f"i{i:06d}" for i in offers.items[o]]
        for o in range(n)
    ]
    long = [
        (o, i)
        for o in range(n)
        if not offers.by_category[o] and offers.items[o].size > BIG_OFFER
        for i in offers.items[o]
    ]

    def day(d: np.ndarray) -> pl.Series:
        return pl.Series((d * 86_400e6).astype(np.int64) + int(START.timestamp() * 1e6))

    table = pl.DataFrame(
        {
            "offer_id": [f"o{o:04d}" for o in range(n)],
            "title": [
                f"{round(offers.discount[o] * 100)}% off {names[offers.cat[o]]}" for o in range(n)
            ],
            "items": item_lists,
            "categories": [
                [names[offers.cat[o]]] if offers.by_category[o] else [] for o in range(n)
            ],
            "channels": [
                [OFFER_CHANNELS[k] for k in np.flatnonzero(offers.channels[o])] for o in range(n)
            ],
            "start": pl.from_epoch(day(offers.start), time_unit="us").dt.replace_time_zone("UTC"),
            "end": pl.from_epoch(
                day(_running_on(offers.end, days)), time_unit="us"
            ).dt.replace_time_zone("UTC"),
            "value": offers.value.astype(np.float64),
            "discount": offers.discount.astype(np.float64),
            "segments": [
                [SEGMENTS[offers.segment[o]]] if offers.segment[o] >= 0 else [] for o in range(n)
            ],
            "max_per_customer": pl.Series(
                [int(m) if m > 0 else None for m in offers.max_per_customer], dtype=pl.Int64
            ),
        },
        schema_overrides={
            "items": pl.List(pl.String),
            "categories": pl.List(pl.String),
            "channels": pl.List(pl.String),
            "segments": pl.List(pl.String),
        },
    )
    pairs = pl.DataFrame(
        {"offer_id": [f"o{o:04d}" for o, _ in long], "item_id": [f"i{i:06d}" for _, i in long]},
        schema={"offer_id": pl.String, "item_id": pl.String},
    )
    return table, pairs


RUNNING_DAYS = 30.0


def _running_on(end: npt.NDArray[np.float64], days: float) -> npt.NDArray[np.float64]:
    """Offers still running when the history ends stay valid a while longer, as a live
    retailer's would: the service can then be demoed on the history's last day.
    The simulation itself never looks past `days`, so no event changes."""
    return np.where(end >= days, days + RUNNING_DAYS, end)
