"""Training on a handful of customers: it trains, warns, and says what it did instead of
dying on "too few groups to hold some out"; with nothing to learn from, one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from omnioffer.registry import get_current


def omnioffer(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "omnioffer", "--quiet", *map(str, args)],
        capture_output=True, text=True, check=False, timeout=300, cwd=cwd,
    )  # fmt: skip
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    return done


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """10 customers over 120 days: 4 item groups and 13 offer groups to learn from."""
    out = tmp_path_factory.mktemp("tiny")
    done = omnioffer("generate", "--out", "retail", "--customers", "10", "--days", "120",
                     "--seed", "1", cwd=out)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out / "retail"


def test_tiny_data_trains_without_early_stopping_and_says_so(tiny: Path, tmp_path: Path) -> None:
    done = omnioffer("train", "--data", tiny / "data", "--out", "models", "--force", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    notes = [line for line in done.stdout.splitlines() if line.startswith("note: small data")]
    assert len(notes) == 2, done.stdout
    assert "the item ranker learned from 4 customer-channel groups" in notes[0]
    assert "the offer ranker learned from 13 customer-channel groups" in notes[1]
    assert all("trained on all of them for 50 rounds" in note for note in notes)
    assert "WARNING omnioffer.train: small data" in done.stderr  # -q still shows warnings
    version = get_current(tmp_path / "models")
    assert version is not None
    card = (tmp_path / "models" / version / "card.md").read_text()
    assert "small data: the item ranker" in card  # the model card keeps the note


def test_tiny_data_without_force_explains_why_it_is_not_activated(
    tiny: Path, tmp_path: Path
) -> None:
    done = omnioffer("train", "--data", tiny / "data", "--out", "models", cwd=tmp_path)
    assert done.returncode == 1
    assert "note: small data" in done.stdout
    assert "not activated: the ranker must beat the best baseline" in done.stdout


def test_data_with_nothing_to_learn_from_is_one_line(tmp_path: Path) -> None:
    """2 customers of seed 2: no purchase in the validation window at all."""
    done = omnioffer("generate", "--out", "r", "--customers", "2", "--days", "120",
                     "--seed", "2", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    done = omnioffer("train", "--data", "r/data", "--out", "models", cwd=tmp_path)
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if "error" in line]
    assert lines == [
        "omnioffer train: error: the item ranker has nothing to learn from: no customer-channel"
        " group of its training window holds a positive (a purchase or a response);"
        " train on more history"
    ]
