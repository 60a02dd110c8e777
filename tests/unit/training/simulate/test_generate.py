"""The synthetic retailer: determinism, contract, shape of behaviour, ground truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from omnioffer.contracts.validate import load_valid, validate_dir
from omnioffer.errors import UsageError
from omnioffer.identity import build_identity_map, resolve_events
from training.simulate import generate as gen
from training.simulate.truth import load_truth


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes_other_seed_other_data(
    small_world: Path, small_params: dict[str, object], tmp_path: Path
) -> None:
    again = tmp_path / "again"
    gen.generate(again, **small_params)  # type: ignore[arg-type]
    assert _files(again) == _files(small_world)
    other = tmp_path / "other"
    gen.generate(other, **{**small_params, "seed": 12})  # type: ignore[arg-type]
    assert _files(other)["data/events.parquet"] != _files(small_world)["data/events.parquet"]


def test_writes_every_contract_file_and_validates_clean(small_world: Path) -> None:
    names = sorted(p.name for p in (small_world / "data").iterdir())
    assert names == [
        "customers.parquet",
        "events.parquet",
        "identities.parquet",
        "items.parquet",
        "offer_items.parquet",
        "offers.parquet",
    ]
    result = validate_dir(small_world / "data")
    assert result.problems == []
    assert result.summary is not None


def test_csv_output_validates_clean(tmp_path: Path) -> None:
    out = tmp_path / "csv"
    gen.generate(out, customers=400, days=60, seed=3, fmt="csv", progress=False)
    assert validate_dir(out / "data").problems == []


@pytest.fixture(scope="module")
def resolved(small_world: Path) -> pl.DataFrame:
    ds = load_valid(small_world / "data")
    return resolve_events(ds.events, build_identity_map(ds.identities, ds.events)).collect()


def test_activity_has_a_long_tail_and_a_small_median(resolved: pl.DataFrame) -> None:
    per_customer = (
        resolved.filter(~pl.col("anonymous") & (pl.col("event_type") == "purchase"))
        .group_by("customer_key")
        .len()
        .get_column("len")
    )
    median, p99 = per_customer.median(), per_customer.quantile(0.99)
    assert median is not None and p99 is not None
    assert median <= 10
    assert p99 >= 4 * median


def _repeat_rates(root: Path) -> dict[bool, float]:
    """Share of (customer, item) pairs bought twice or more: consumable vs one-off items."""
    ds = load_valid(root / "data")
    events = resolve_events(ds.events, build_identity_map(ds.identities, ds.events)).collect()
    items = pl.read_parquet(root / "data" / "items.parquet")
    repeat = (
        events.filter(~pl.col("anonymous") & (pl.col("event_type") == "purchase"))
        .join(items, on="item_id")
        .group_by("customer_key", "item_id", "category")
        .len()
        .with_columns(grocery=pl.col("category").str.starts_with("grocery"))
        .group_by("grocery")
        .agg((pl.col("len") >= 2).mean().alias("repeat"))
    )
    return dict(zip(repeat["grocery"], repeat["repeat"], strict=True))


def test_consumables_are_rebought_far_more_than_one_off_goods(
    small_world: Path, small_params: dict[str, object], tmp_path: Path
) -> None:
    retail = _repeat_rates(small_world)
    assert retail[True] > 2 * retail[False]
    grocery_out = tmp_path / "grocery"
    gen.generate(grocery_out, **{**small_params, "profile": "grocery"})  # type: ignore[arg-type]
    grocery = _repeat_rates(grocery_out)
    # The grocery profile is the more repeat-driven one, by construction.
    assert grocery[True] / grocery[False] > retail[True] / retail[False]


def test_identities_are_fragmented_then_joined(resolved: pl.DataFrame, small_world: Path) -> None:
    ds = load_valid(small_world / "data")
    idmap = build_identity_map(ds.identities, ds.events)
    assert idmap.merged_count > 0  # duplicate accounts share an email hash
    no_customer_id = resolved.filter(pl.col("customer_id").is_null())
    share_linked = (~no_customer_id.get_column("anonymous")).mean()
    assert share_linked is not None and 0.5 < share_linked < 1.0  # most, not all, linked
    assert set(resolved.get_column("channel").unique()) >= {"web", "app", "store", "email"}


def test_offer_responses_follow_the_true_propensity(
    small_world: Path, resolved: pl.DataFrame
) -> None:
    truth = load_truth(small_world / "truth")
    shown = resolved.filter((pl.col("event_type") == "offer_impression") & ~pl.col("anonymous"))
    answered = (
        resolved.filter(pl.col("event_type") == "offer_click")
        .select("customer_key", "offer_id")
        .unique()
    )
    shown = (
        shown.select("customer_key", "offer_id", "channel")
        .unique()
        .join(answered.with_columns(hit=pl.lit(1.0)), on=["customer_key", "offer_id"], how="left")
        .with_columns(pl.col("hit").fill_null(0.0))
    )
    scores, outcomes = [], []
    for (channel,), part in shown.group_by(["channel"]):
        first = part.head(400)
        keys, offers = first["customer_key"].to_list(), first["offer_id"].to_list()
        scores.append(np.diag(truth.offer_scores(keys, offers, str(channel))))
        outcomes.append(first["hit"].to_numpy())
    p, hits = np.concatenate(scores), np.concatenate(outcomes)
    lo, hi = np.quantile(p, [0.2, 0.8])
    assert hits[p >= hi].mean() > 2 * hits[p <= lo].mean()


def test_the_oracle_ranks_last_window_purchases_far_above_random(
    small_world: Path, resolved: pl.DataFrame
) -> None:
    truth = load_truth(small_world / "truth")
    start = resolved.get_column("timestamp").max() - pl.duration(days=28)  # type: ignore[operator]
    bought = (
        resolved.filter(
            (pl.col("timestamp") >= start)
            & (pl.col("event_type") == "purchase")
            & ~pl.col("anonymous")
        )
        .group_by("customer_key")
        .agg(pl.col("item_id").unique())
        .sort("customer_key")
        .head(300)
    )
    items = sorted(pl.read_parquet(small_world / "data" / "items.parquet")["item_id"].to_list())
    scores = truth.item_scores(bought["customer_key"].to_list(), items)
    top = np.argsort(-scores, axis=1)[:, :20]
    rng = np.random.default_rng(0)
    random_top = np.argsort(rng.random(scores.shape), axis=1)[:, :20]
    index = {item: i for i, item in enumerate(items)}

    def recall(ranked: np.ndarray) -> float:
        sets = [{index[i] for i in row} for row in bought["item_id"].to_list()]
        return float(
            np.mean([len(s & set(r.tolist())) / len(s) for s, r in zip(sets, ranked, strict=True)])
        )

    assert recall(top) > 5 * recall(random_top)


def test_refuses_to_overwrite_a_folder_it_did_not_write(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(UsageError, match="not written by"):
        gen.generate(precious, customers=50, days=60, progress=False)
    assert (precious / "notes.txt").read_text() == "keep me"


def test_a_failed_run_leaves_no_partial_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "retail"
    gen.generate(out, customers=200, days=60, seed=1, progress=False)
    before = _files(out)

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(gen, "save_truth", broken)
    with pytest.raises(OSError, match="disk full"):
        gen.generate(out, customers=300, days=60, seed=2, progress=False)
    assert _files(out) == before  # the previous output is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["retail"]  # no temp folder left
