"""Statistics of a generated data set, as documented in docs/synthetic-data.md.

.venv/bin/omnioffer generate --out /tmp/retail --customers 20000 --seed 7
.venv/bin/python benchmarks/synthetic_stats.py /tmp/retail
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl

from omnioffer.contracts.validate import load_valid
from omnioffer.identity import build_identity_map, resolve_events


def main(root: Path) -> None:
    ds = load_valid(root / "data")
    idmap = build_identity_map(ds.identities, ds.events)
    ev = resolve_events(ds.events, idmap).collect()
    known = ev.filter(~pl.col("anonymous"))
    buys = known.filter(pl.col("event_type") == "purchase")
    per = buys.group_by("customer_key").len().get_column("len")
    items = pl.read_parquet(root / "data" / "items.parquet")
    repeat = (
        buys.join(items, on="item_id")
        .group_by("customer_key", "item_id", "category")
        .len()
        .group_by(pl.col("category").str.starts_with("grocery").alias("grocery"))
        .agg((pl.col("len") >= 2).mean().alias("r"))
    )
    rates = dict(zip(repeat["grocery"], repeat["r"], strict=True))
    no_cid = ev.filter(pl.col("customer_id").is_null())
    shown = ev.filter(pl.col("event_type") == "offer_impression").height

    def share(kind: str) -> float:
        return ev.filter(pl.col("event_type") == kind).height / max(shown, 1)

    rows = {
        "events": f"{ev.height:,}",
        "customers with a purchase (resolved)": f"{per.len():,}",
        "purchases per buying customer: median / mean / p90 / p99": (
            f"{per.median():.0f} / {per.mean():.1f} / "
            f"{per.quantile(0.9):.0f} / {per.quantile(0.99):.0f}"
        ),
        "items re-bought by the same customer: consumable / one-off": (
            f"{rates[True]:.1%} / {rates[False]:.1%}"
        ),
        "events without a customer_id": f"{no_cid.height / ev.height:.1%}",
        "... of which resolved through identity links": f"{(~no_cid['anonymous']).mean():.1%}",
        "events left anonymous": f"{ev['anonymous'].mean():.1%}",
        "customer ids merged (duplicate accounts)": f"{idmap.merged_count:,}",
        "offer click / redeem / dismiss per impression": (
            f"{share('offer_click'):.1%} / {share('offer_redeem'):.1%} / "
            f"{share('offer_dismiss'):.1%}"
        ),
    }
    mix = ev.group_by("channel").len().sort("len", descending=True)
    rows["channel mix (events)"] = ", ".join(f"{c} {n / ev.height:.0%}" for c, n in mix.iter_rows())
    pmix = buys.group_by("channel").len().sort("len", descending=True)
    rows["purchase channel mix"] = ", ".join(
        f"{c} {n / buys.height:.0%}" for c, n in pmix.iter_rows()
    )
    print("| statistic | value |\n|---|---|")
    for name, value in rows.items():
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
