"""The demo starts with an example experiment running: holdout 5 %, ranker vs popular."""

from __future__ import annotations

from pathlib import Path

from omnioffer.cli.demo import write_demo_experiments
from omnioffer.cli.demo_settings import write_demo_settings
from omnioffer.decide.experiment_defs import load_experiments_file
from omnioffer.settings import load_settings


def test_the_demo_experiments_file_is_valid_and_runs_ranker_vs_popular(tmp_path: Path) -> None:
    defs = load_experiments_file(write_demo_experiments(tmp_path))
    assert defs.holdout.share == 0.05
    (e,) = defs.experiments
    assert e.status == "running"
    assert [(v.name, v.weight, v.strategy) for v in e.variants] == [
        ("ranker", 0.5, "ranker"), ("popular", 0.5, "popular")]  # fmt: skip


def test_the_experiments_file_is_a_setting_from_the_environment(tmp_path: Path) -> None:
    path = str(write_demo_experiments(tmp_path))
    settings = load_settings(None, env={"OMNIOFFER_EXPERIMENTS_FILE": path})
    assert settings.experiments_file == path


def test_the_settings_the_demo_leaves_behind_serve_its_experiments(tmp_path: Path) -> None:
    experiments = write_demo_experiments(tmp_path)
    path = tmp_path / "omnioffer.toml"
    as_of = "2026-06-30T00:00:00+00:00"
    store = "sqlite:///x.sqlite"
    assert write_demo_settings(
        path, store_url=store, models=tmp_path, as_of=as_of, experiments=experiments
    )
    settings = load_settings(path, env={})
    assert settings.experiments_file == str(experiments)
    assert load_experiments_file(Path(settings.experiments_file)).holdout.share == 0.05
