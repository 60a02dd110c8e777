"""Messy data end to end (issue 16, point 5): a large good data set with 5 bad rows trains,
dropping exactly those rows and recording them in the manifest and the model card;
`train --strict` refuses the same data, naming file:row:column of each."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from omnioffer.registry import load_version
from training.train import TrainOutcome, train


@pytest.fixture(scope="module")
def messy(retail: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The session's retail data with 5 bad rows appended; and where each one is."""
    data = Path(shutil.copytree(retail / "data", tmp_path_factory.mktemp("messy") / "data"))
    events = pl.read_parquet(data / "events.parquet")
    purchase = events.filter(pl.col("event_type") == "purchase").head(1)
    repeat = events.slice(10, 1)  # the same event again, same event_id
    unknown = purchase.with_columns(event_id=pl.lit("messy-1"), item_id=pl.lit("i-gone"))
    pl.concat([events, repeat, unknown]).write_parquet(data / "events.parquet")
    pairs = pl.read_parquet(data / "offer_items.parquet")
    bad_pairs = pl.DataFrame({"offer_id": [pairs["offer_id"][0], "o-gone"],
                              "item_id": ["i-gone", pairs["item_id"][0]]})  # fmt: skip
    pl.concat([pairs, bad_pairs]).write_parquet(data / "offer_items.parquet")
    offers = pl.read_parquet(data / "offers.parquet")
    backwards = offers.head(1).with_columns(
        offer_id=pl.lit("o-bad"), end=pl.col("start") - timedelta(days=1)
    )
    pl.concat([offers, backwards]).write_parquet(data / "offers.parquet")
    n, m, k = events.height, pairs.height, offers.height
    where = [f"events.parquet:{n + 1}:event_id", f"events.parquet:{n + 2}:item_id",
             f"offer_items.parquet:{m + 1}:item_id", f"offer_items.parquet:{m + 2}:offer_id",
             f"offers.parquet:{k + 1}:end"]  # fmt: skip
    return data, where


def test_five_bad_rows_are_dropped_recorded_and_the_rest_trains(
    messy: tuple[Path, list[str]], trained: tuple[Path, TrainOutcome], tmp_path: Path
) -> None:
    data, where = messy
    outcome = train(data, tmp_path / "models", progress=False)
    assert outcome.version is not None, [g.describe() for g in outcome.gates]
    manifest = load_version(tmp_path / "models").manifest
    assert sorted((d.kind, d.file, d.rows) for d in manifest.dropped) == [
        ("duplicate_event_id", "events.parquet", 1),
        ("end_before_start", "offers.parquet", 1),
        ("unknown_item", "events.parquet", 1),
        ("unknown_item", "offer_items.parquet", 1),
        ("unknown_offer", "offer_items.parquet", 1),
    ]
    firsts = sorted(p.split(": ")[0] for d in manifest.dropped for p in d.first)
    assert firsts == sorted(where)
    # exactly the bad events went: the rest is the clean data, event for event
    clean = load_version(trained[0]).manifest
    assert manifest.data_fingerprint == clean.data_fingerprint
    card = (tmp_path / "models" / outcome.version / "card.md").read_text()
    assert "## Dropped rows" in card
    for kind in ("duplicate_event_id", "unknown_item", "unknown_offer", "end_before_start"):
        assert f"| {kind} |" in card
    assert any(note.startswith("dropped 1 row of offers.parquet (end)") for note in outcome.notes)


def test_strict_training_refuses_them_naming_each_row(
    messy: tuple[Path, list[str]], tmp_path: Path
) -> None:
    data, where = messy
    done = subprocess.run(
        [sys.executable, "-m", "omnioffer", "--quiet", "train", "--strict", "--data", str(data),
         "--out", str(tmp_path / "models")],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    for place in where:
        assert f"\n{place}: " in done.stderr, place
    assert "(5 of them refused by --strict" in done.stderr
    assert not (tmp_path / "models").exists()  # nothing ran on the refused data
