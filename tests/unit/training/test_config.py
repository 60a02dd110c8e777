from __future__ import annotations

from pathlib import Path

import pytest

from omnioffer.errors import UsageError
from training.config import load_config


def test_defaults_without_a_file() -> None:
    config = load_config(None)
    assert config.items.cf.model == "als"
    assert config.offer_ranker.objective == "binary"


def test_sections_override_defaults(tmp_path: Path) -> None:
    path = tmp_path / "train.toml"
    path.write_text(
        """
[cf]
model = "bpr"
factors = 16
[interactions]
half_life_days = 30.0
[interactions.event_weights]
purchase = 5.0
[item_ranker]
num_leaves = 15
[search]
cf_grid = [{factors = 8}]
[train]
max_train_groups = 100
max_eval_groups = 200
"""
    )
    config = load_config(path)
    assert (config.items.cf.model, config.items.cf.factors) == ("bpr", 16)
    assert config.items.interactions.event_weights == {"purchase": 5.0}
    assert config.items.ranker.num_leaves == 15
    assert config.items.cf_grid == ({"factors": 8},)
    assert config.items.max_train_groups == 100
    assert config.items.max_eval_groups == 200


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[cf]\nfactor = 3\n", r"\[cf\]: unknown key\(s\) factor"),
        ("[ranker]\nx = 1\n", r"unknown section\(s\) ranker"),
        ("[cf\n", "train.toml"),
    ],
)
def test_mistakes_name_the_file_section_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "train.toml"
    path.write_text(text)
    with pytest.raises(UsageError, match=message):
        load_config(path)


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        load_config(tmp_path / "nope.toml")
