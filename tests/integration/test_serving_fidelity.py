"""Serving fidelity (issue 16, point 4): the test window's groups replayed through the real
decision path as of the test start rank as well as the offline ranker ranked them, on
every generator profile; a costly policy shows, stage by stage, where it costs."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from omnioffer.contracts import evaluation as ev
from omnioffer.registry import load_version
from profiles import Profiled
from training.evaluate.serving_fidelity import TARGET, evaluate_serving
from training.simulate.world import PROFILES


def _policy(tmp_path: Path, **keys: object) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text("[policy]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in keys.items()))
    return path


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_served_ranking_keeps_the_offline_quality_with_the_default_policy(
    profile: str, trained_profile: Callable[[str], Profiled]
) -> None:
    data, models, outcome = trained_profile(profile)
    fidelity = evaluate_serving(data, models)
    assert fidelity.served["ndcg@5"] >= TARGET * fidelity.offline["ndcg@5"], fidelity.describe()
    assert fidelity.passed
    # the replayed groups are the ones training scored, and so is their offline figure
    board = outcome.boards["offers"]
    assert fidelity.groups_all == board.groups
    assert fidelity.offline_all["ndcg@5"] == pytest.approx(board.overall["ranker"]["ndcg@5"])
    assert 0.9 * fidelity.groups_all < fidelity.groups <= fidelity.groups_all
    assert fidelity.events > 0  # the channels' events before each decision were ingested
    assert sum(fidelity.removed.values()) <= ev.TOP_K * fidelity.groups
    assert fidelity.not_live <= sum(min(ev.TOP_K, n) for n in _top_sizes(models, fidelity.as_of))


def _top_sizes(models: Path, as_of: str) -> list[int]:
    """Per offline group, how many offers its stored ranking holds (at most DEPTH)."""
    loaded = load_version(models)
    assert loaded.manifest.training_window.test_start == as_of
    rows = pl.read_parquet(loaded.file(ev.OFFERS)).filter(pl.col("rank").is_not_null())
    return rows.group_by("customer_key", "channel").len().get_column("len").to_list()


def test_a_costly_policy_shows_in_the_served_metric_and_names_its_stage(
    trained_profile: Callable[[str], Profiled], tmp_path: Path
) -> None:
    """Ranking by expected margin (the old default) costs more than the target, and so does
    suppressing every offer on an item bought in the last 60 days, staples included; the
    report says which stage did it: arbitration moved offers, the contact policy removed
    them."""
    data, models, _ = trained_profile("retail")
    default = evaluate_serving(data, models)
    margin = evaluate_serving(data, models, config=_policy(tmp_path, value_weight=1.0))
    assert margin.ratio() < TARGET <= default.ratio()
    assert margin.moved["arbitration"] > 10 * max(1, default.moved.get("arbitration", 0))
    assert margin.offline == default.offline  # the same groups and offline lists
    costly = _policy(tmp_path, suppress_bought_days=60, suppress_bought_staples=True)
    bought = evaluate_serving(data, models, config=costly)
    assert bought.ratio() < default.ratio()
    assert bought.removed["contact/bought"] > default.removed.get("contact/bought", 0)


def test_the_command_prints_the_report_and_writes_it_as_json(
    trained_profile: Callable[[str], Profiled], tmp_path: Path
) -> None:
    data, models, _ = trained_profile("retail")
    report = tmp_path / "fidelity.json"
    done = subprocess.run(
        [sys.executable, "-m", "omnioffer", "--quiet", "evaluate-serving", "--data", str(data),
         "--models", str(models), "--json", str(report)],
        capture_output=True, text=True, check=False, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "meets the target: served ndcg@5 >= 0.95 x offline" in done.stdout
    saved = json.loads(report.read_text())
    assert saved["groups"] > 0 and saved["ratio"]["ndcg@5"] >= TARGET
    assert set(saved["served"]) == {"ndcg@5", "ndcg@10"}
    refused = subprocess.run(
        [sys.executable, "-m", "omnioffer", "--quiet", "evaluate-serving", "--data",
         str(tmp_path), "--models", str(models)],
        capture_output=True, text=True, check=False, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "events" in refused.stderr  # an empty folder is not the data it was trained on
