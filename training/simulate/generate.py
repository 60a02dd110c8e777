"""`omnioffer generate`: simulate a retailer and write contract files plus ground truth.

The world (catalogue, customers, offers, identifiers) is drawn once; behaviour is
simulated in blocks of customers, each written as a Parquet part and streamed into
one events file, so memory stays bounded at a million customers. Output goes to a
hidden folder beside `out` and is renamed into place at the end: a failure never
leaves half a data set. An existing `out` is replaced only when it holds our
marker file (a previous generate run).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl
from tqdm import tqdm

from omnioffer.errors import UsageError
from training.simulate.events import ET, Events, concat
from training.simulate.identities import (
    IdentityPlan,
    event_identity,
    identities_table,
    plan_identities,
)
from training.simulate.offers import Offers, make_offers, offer_events
from training.simulate.shopping import (
    Staples,
    browsing,
    discovery_purchases,
    funnels,
    make_staples,
    purchase_channels,
    returns,
    staple_purchases,
)
from training.simulate.tables import (
    add_revenue,
    customers_table,
    events_table,
    items_table,
    offers_tables,
)
from training.simulate.truth import save_truth
from training.simulate.world import (
    PROFILES,
    Catalog,
    Customers,
    Profile,
    make_catalog,
    make_customers,
)

log = logging.getLogger("omnioffer.generate")
MARKER = "GENERATED.json"
BLOCK = 100_000  # customers simulated together (fixed: the output depends on it)


@dataclass
class GenerateResult:
    out: Path
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def describe(self) -> str:
        rows = ", ".join(f"{k} {v:,}" for k, v in self.counts.items())
        return (
            f"wrote {self.out / 'data'} ({rows}) and {self.out / 'truth'} in {self.seconds:.1f} s"
        )


@dataclass(frozen=True)
class World:
    cat: Catalog
    cust: Customers
    offers: Offers
    ids: IdentityPlan
    days: int
    truth_days: int
    profile: Profile


def default_items(customers: int) -> int:
    return int(min(50_000, max(500, customers // 20)))


def default_offers(customers: int) -> int:
    return int(min(500, max(40, customers // 200)))


def make_world(
    seq: np.random.SeedSequence,
    customers: int,
    *,
    items: int,
    offers: int,
    days: int,
    truth_days: int,
    profile: Profile,
) -> World:
    rng = [np.random.default_rng(s) for s in seq.spawn(4)]
    cat = make_catalog(rng[0], items, n_cats=40, consumable_share=profile.consumable_share)
    cust = make_customers(rng[1], customers, days, cat)
    return World(
        cat,
        cust,
        make_offers(rng[2], cat, offers, days),
        plan_identities(rng[3], cust),
        days,
        truth_days,
        profile,
    )


def _block(cust: Customers, lo: int, hi: int) -> Customers:
    return Customers(**{f.name: getattr(cust, f.name)[lo:hi] for f in dataclasses.fields(cust)})


def simulate_block(
    seq: np.random.SeedSequence, world: World, lo: int, hi: int
) -> tuple[pl.DataFrame, Staples]:
    """Every event of customers [lo, hi) as a contract table; and their staples (global ids)."""
    rng = [np.random.default_rng(s) for s in seq.spawn(4)]
    cat, days, cust = world.cat, world.days, _block(world.cust, lo, hi)
    staples = make_staples(rng[0], cat, cust, world.profile.staples_per_activity)
    c1, i1, d1, due = staple_purchases(rng[0], staples, cust, days, days - world.truth_days)
    c2, i2, d2 = discovery_purchases(rng[0], cat, cust, days, world.profile.discovery_per_activity)
    owner = np.r_[c1, c2]
    buys = Events.make(
        owner,
        np.r_[d1, d2],
        ET["purchase"],
        purchase_channels(rng[0], cust, owner),
        item=np.r_[i1, i2],
        qty=1 + rng[0].poisson(0.25, owner.size),
    )
    offer_ev, redeemed = offer_events(rng[1], cat, cust, world.offers, days)
    buys = concat([buys, redeemed])
    session0 = lo * 1_000  # session ids unique across blocks
    sessions = funnels(rng[2], cat, cust, buys, session0)
    browse = browsing(rng[2], cat, cust, days, session0 + len(buys))
    ev = concat([buys, sessions, browse, returns(rng[2], cat, buys, days), offer_ev])
    ev = ev.select((ev.day >= 0) & (ev.day < days))
    ev.cust += lo
    frame = events_table(ev, event_identity(rng[3], world.ids, ev), prefix=f"e{lo // BLOCK:04d}-")
    staples = dataclasses.replace(staples, cust=staples.cust + lo, due=due)
    return frame, staples


def generate(
    out: Path,
    *,
    customers: int = 20_000,
    days: int = 180,
    seed: int = 7,
    items: int | None = None,
    offers: int | None = None,
    fmt: Literal["csv", "parquet"] = "parquet",
    progress: bool = True,
    truth_days: int = 28,
    profile: str = "retail",
) -> GenerateResult:
    """Simulate and write `out/data/` (contract v1) and `out/truth/`; see module docstring."""
    if out.exists() and not (out / MARKER).exists() and any(out.iterdir()):
        raise UsageError(
            f"{out} exists and was not written by `omnioffer generate`; choose another --out"
        )
    if profile not in PROFILES:
        raise UsageError(f"--profile must be one of {', '.join(PROFILES)}, got {profile!r}")
    if days <= truth_days + 14:
        raise UsageError(f"--days must be more than {truth_days + 14}, got {days}")
    started = time.perf_counter()
    params: dict[str, Any] = {
        "profile": profile,
        "customers": customers,
        "days": days,
        "seed": seed,
        "items": items or default_items(customers),
        "offers": offers or default_offers(customers),
        "truth_days": truth_days,
    }
    temp = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        counts = _write_all(temp, params, fmt, progress)
        (temp / MARKER).write_text(json.dumps({**params, "format": fmt}, indent=2) + "\n")
        if out.exists():
            shutil.rmtree(out)
        temp.rename(out)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    result = GenerateResult(out, counts, time.perf_counter() - started)
    log.info(result.describe())
    return result


def _write_all(folder: Path, params: dict[str, Any], fmt: str, progress: bool) -> dict[str, int]:
    world_seq, block_seq, link_seq = np.random.SeedSequence(params["seed"]).spawn(3)
    n = params["customers"]
    world = make_world(
        world_seq,
        n,
        items=params["items"],
        offers=params["offers"],
        days=params["days"],
        profile=PROFILES[params["profile"]],
        truth_days=params["truth_days"],
    )
    data, parts = folder / "data", folder / "parts"
    data.mkdir(parents=True)
    parts.mkdir()
    items = items_table(world.cat)
    starts = range(0, n, BLOCK)
    all_staples = []
    for lo, seq in tqdm(
        zip(starts, block_seq.spawn(len(starts)), strict=True),
        total=len(starts),
        desc="generate",
        unit="block",
        disable=not progress,
        leave=False,
    ):
        frame, staples = simulate_block(seq, world, lo, min(lo + BLOCK, n))
        add_revenue(frame, items).write_parquet(parts / f"{lo:09d}.parquet", statistics=False)
        all_staples.append(staples)
    staples = Staples(
        *(
            np.concatenate([getattr(s, f.name) for s in all_staples])
            for f in dataclasses.fields(Staples)
        )
    )
    offers, offer_items = offers_tables(world.offers, world.cat, world.days)
    tables = {
        "items": items,
        "offers": offers,
        "offer_items": offer_items,
        "customers": customers_table(world.cust),
        "identities": identities_table(np.random.default_rng(link_seq), world.ids),
    }
    counts = {"events": _write_events(parts, data, fmt)}
    for name, frame in tables.items():
        _write_table(frame, data / f"{name}.{fmt}")
        counts[name] = frame.height
    shutil.rmtree(parts)
    save_truth(
        folder / "truth",
        cat=world.cat,
        cust=world.cust,
        staples=staples,
        offers=world.offers,
        params=params,
        secondary_of=world.ids.duplicate_of,
    )
    return counts


def _write_events(parts: Path, data: Path, fmt: str) -> int:
    """Stream the block parts into one events file."""
    scan = pl.scan_parquet(sorted(parts.glob("*.parquet")))
    path = data / f"events.{fmt}"
    if fmt == "parquet":
        scan.sink_parquet(path, statistics=False)
    else:
        _csv_ready(scan).sink_csv(path)
    rows = int(pl.scan_parquet(sorted(parts.glob("*.parquet"))).select(pl.len()).collect().item())
    log.info("wrote %s (%d rows)", path, rows)
    return rows


def _write_table(frame: pl.DataFrame, path: Path) -> None:
    if path.suffix == ".parquet":
        frame.write_parquet(path, statistics=False)
    else:
        _csv_ready(frame.lazy()).collect().write_csv(path)
    log.info("wrote %s (%d rows)", path, frame.height)


def _csv_ready(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Lists as `|`-joined text; timestamps as ISO 8601 with Z."""
    schema = frame.collect_schema()
    return frame.with_columns(
        [pl.col(n).list.join("|") for n, t in schema.items() if isinstance(t, pl.List)]
        + [
            pl.col(n).dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
            for n, t in schema.items()
            if isinstance(t, pl.Datetime)
        ]
    )
