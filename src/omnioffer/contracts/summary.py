"""A one-screen profile of a valid data directory, so a user sees what they fed in.

All numbers come from lazy queries run together (`pl.collect_all`, streaming
engine): only aggregates, never whole tables, reach Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl

from omnioffer.contracts.load import Dataset
from omnioffer.identity import build_identity_map, resolve_events

_CUSTOMER_KEY = pl.col("customer_key")


@dataclass(frozen=True)
class Summary:
    """Counts and mixes of a data set; percentages are 0-100, rates are shares 0-1.

    Customers are counted after identity resolution (one person, one key);
    purchase statistics cover resolved customers with at least one purchase
    event, leaving out identifiers that no link ties to a customer.
    """

    rows: dict[str, int]
    customers_in_file: int | None
    event_customers: int
    items_in_file: int | None
    event_items: int
    offers_in_file: int | None
    event_offers: int
    channels: tuple[str, ...]
    first_event: datetime | None
    last_event: datetime | None
    event_type_pct: dict[str, float]
    channel_pct: dict[str, float]
    purchasing_customers: int
    purchases_median: float
    purchases_mean: float
    purchases_p90: float
    repeat_customer_rate: float
    repeat_item_rate: float
    merged_ids: int = 0
    anonymous_pct: float = 0.0


def summarize(ds: Dataset) -> Summary:
    """Profile `ds` with a handful of aggregate queries executed in one batch."""
    tables = _tables(ds)
    identity = build_identity_map(ds.identities, ds.events)
    resolved = resolve_events(ds.events, identity)
    known = resolved.filter(~pl.col("anonymous"))
    queries = [frame.select(pl.len()) for frame in tables.values()]
    queries += [_event_totals(resolved), _mix(ds.events, "event_type"), _mix(ds.events, "channel")]
    queries.append(_purchases(known))
    results = pl.collect_all(queries, engine="streaming")
    counts, (totals, types, channels, buys) = results[: len(tables)], results[len(tables) :]
    rows = {ds.paths[name].name: int(df.item()) for name, df in zip(tables, counts, strict=True)}
    return _build(
        ds,
        rows=rows,
        totals=totals.row(0, named=True),
        types=types,
        channels=channels,
        buys=buys.row(0, named=True),
        merged_ids=identity.merged_count,
    )


def _tables(ds: Dataset) -> dict[str, pl.LazyFrame]:
    """The tables present, in the order of the data directory's file map."""
    frames = {
        "events": ds.events,
        "items": ds.items,
        "offers": ds.offers,
        "offer_items": ds.offer_items,
        "customers": ds.customers,
        "identities": ds.identities,
    }
    return {name: frame for name in ds.paths if (frame := frames.get(name)) is not None}


def _build(
    ds: Dataset,
    *,
    rows: dict[str, int],
    totals: dict[str, Any],
    types: pl.DataFrame,
    channels: pl.DataFrame,
    buys: dict[str, Any],
    merged_ids: int,
) -> Summary:
    def file_rows(name: str) -> int | None:
        path = ds.paths.get(name)
        return None if path is None else rows[path.name]

    return Summary(
        rows=rows,
        customers_in_file=file_rows("customers"),
        event_customers=_int(totals["customers"]),
        items_in_file=file_rows("items"),
        event_items=_int(totals["items"]),
        offers_in_file=file_rows("offers"),
        event_offers=_int(totals["offers"]),
        channels=tuple(channels.get_column("channel").to_list()),
        first_event=_datetime(totals["first"]),
        last_event=_datetime(totals["last"]),
        event_type_pct=_pct(types, "event_type"),
        channel_pct=_pct(channels, "channel"),
        purchasing_customers=_int(buys["buyers"]),
        purchases_median=_float(buys["median"]),
        purchases_mean=_float(buys["mean"]),
        purchases_p90=_float(buys["p90"]),
        repeat_customer_rate=_float(buys["repeat_customers"]),
        repeat_item_rate=_float(buys["repeat_items"]),
        merged_ids=merged_ids,
        anonymous_pct=_float(totals["anonymous_pct"]),
    )


def _event_totals(events: pl.LazyFrame) -> pl.LazyFrame:
    return events.select(
        _CUSTOMER_KEY.filter(~pl.col("anonymous")).n_unique().alias("customers"),
        (100 * pl.col("anonymous").mean()).alias("anonymous_pct"),
        pl.col("item_id").drop_nulls().n_unique().alias("items"),
        pl.col("offer_id").drop_nulls().n_unique().alias("offers"),
        pl.col("timestamp").min().alias("first"),
        pl.col("timestamp").max().alias("last"),
    )


def _mix(events: pl.LazyFrame, column: str) -> pl.LazyFrame:
    """Events per value, most frequent first (ties by name, so output is stable)."""
    counts = events.group_by(column).agg(pl.len().alias("n"))
    return counts.sort(["n", column], descending=[True, False])


def _purchases(events: pl.LazyFrame) -> pl.LazyFrame:
    """Purchases per buyer, and how often buyers and their items come back."""
    bought = events.filter(pl.col("event_type") == "purchase").select(
        _CUSTOMER_KEY.alias("key"), "item_id"
    )
    per_buyer = bought.group_by("key").agg(pl.len().alias("n"))
    stats = per_buyer.select(
        pl.len().alias("buyers"),
        pl.col("n").median().alias("median"),
        pl.col("n").mean().alias("mean"),
        pl.col("n").quantile(0.9, "linear").alias("p90"),
        (pl.col("n") >= 2).mean().alias("repeat_customers"),
    )
    pairs = bought.select(
        pl.len().alias("purchases"), pl.struct("key", "item_id").n_unique().alias("pairs")
    )
    repeat = pairs.select(
        pl.when(pl.col("purchases") > 0)
        .then(1 - pl.col("pairs") / pl.col("purchases"))
        .otherwise(0.0)
        .alias("repeat_items")
    )
    return pl.concat([stats, repeat], how="horizontal")


def _pct(counts: pl.DataFrame, column: str) -> dict[str, float]:
    total = int(counts.get_column("n").sum())
    return {
        str(value): 100.0 * int(n) / total for value, n in counts.select(column, "n").iter_rows()
    }


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float) else 0


def _float(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _datetime(value: object) -> datetime | None:
    return value if isinstance(value, datetime) else None


def format_summary(s: Summary) -> str:
    """The summary as aligned lines that fit one terminal screen."""
    lines = ["data is valid (contract v1)", ""]
    lines += [f"  {name:<22}{n:>14,} rows" for name, n in s.rows.items()]
    lines.append("")
    lines.append(
        _counted("customers", s.customers_in_file, s.event_customers, " (identities resolved)")
    )
    lines.append(
        f"{'identities':<12}{s.merged_ids:,} customer ids merged; "
        f"{s.anonymous_pct:.1f}% of events from identifiers linked to no customer"
    )
    lines.append(_counted("items", s.items_in_file, s.event_items))
    lines.append(_counted("offers", s.offers_in_file, s.event_offers))
    lines.append(f"{'channels':<12}{', '.join(s.channels) or '-'}")
    if s.first_event is not None and s.last_event is not None:
        span = (s.last_event - s.first_event).days
        first, last = (
            s.first_event.strftime("%Y-%m-%d %H:%M"),
            s.last_event.strftime("%Y-%m-%d %H:%M"),
        )
        lines.append(f"{'date range':<12}{first} .. {last} UTC ({span} days)")
    lines.append(f"{'event types':<12}{_mix_line(s.event_type_pct)}")
    lines.append(f"{'channel mix':<12}{_mix_line(s.channel_pct)}")
    lines.append(
        f"{'purchases':<12}{s.purchasing_customers:,} buying customers; per buyer median "
        f"{s.purchases_median:g}, mean {s.purchases_mean:.2f}, p90 {s.purchases_p90:g}"
    )
    lines.append(
        f"{'repeat':<12}{100 * s.repeat_customer_rate:.1f}% of buyers bought twice or more; "
        f"{100 * s.repeat_item_rate:.1f}% of purchases repeat an item"
    )
    return "\n".join(lines)


def _counted(label: str, in_file: int | None, in_events: int, note: str = "") -> str:
    listed = "no file" if in_file is None else f"{in_file:,} in file"
    return f"{label:<12}{listed}; {in_events:,} distinct in events{note}"


def _mix_line(pct: dict[str, float], limit: int = 8) -> str:
    shown = [f"{name} {value:.1f}%" for name, value in list(pct.items())[:limit]]
    rest = len(pct) - limit
    return " · ".join(shown) + (f" · +{rest} more" if rest > 0 else "")
