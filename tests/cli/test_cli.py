"""The `omnioffer` command end to end, in a subprocess, as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest


def omnioffer(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "omnioffer", "--quiet", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen") / "retail"
    done = omnioffer("generate", "--out", out, "--customers", "1500", "--days", "60", "--seed", "3")
    assert done.returncode == 0, done.stderr
    return out


def test_every_command_has_help() -> None:
    for command in ("generate", "validate", "identities", "demo"):
        done = omnioffer(command, "--help")
        assert done.returncode == 0, done.stderr
        assert "usage: omnioffer" in done.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("no-such-command",),
        ("generate",),  # --out is required
        ("generate", "--out", "x", "--customers", "0"),
        ("generate", "--out", "x", "--customers", "many"),
        ("validate",),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    done = omnioffer(*args)
    assert done.returncode == 2
    assert "usage:" in done.stderr


def test_validate_of_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    done = omnioffer("validate", tmp_path / "nowhere")
    assert done.returncode == 2
    assert "nowhere" in done.stderr


def test_generated_data_validates_and_resolves(generated: Path, tmp_path: Path) -> None:
    done = omnioffer("validate", generated / "data")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "repeat" in done.stdout.lower()
    audit = tmp_path / "merges.csv"
    done = omnioffer("identities", generated / "data", "--out", audit)
    assert done.returncode == 0, done.stderr
    merges = pl.read_csv(audit)
    assert merges.columns == ["customer_id", "canonical_id", "group_size", "via"]
    assert merges.height > 0  # the generator makes duplicate accounts
    assert (merges["customer_id"] > merges["canonical_id"]).all()


def test_corrupt_data_exits_1_naming_file_row_and_column(generated: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for path in (generated / "data").iterdir():
        (data / path.name).write_bytes(path.read_bytes())
    events = pl.read_parquet(data / "events.parquet")
    bad = events.with_columns(
        pl.when(pl.int_range(pl.len()) == 41)
        .then(pl.lit("teleport"))
        .otherwise(pl.col("channel"))
        .alias("channel")
    )
    bad.write_parquet(data / "events.parquet")
    done = omnioffer("validate", data)
    assert done.returncode == 1
    assert "events.parquet:42:channel:" in done.stdout
    done = omnioffer("identities", data, "--out", tmp_path / "m.csv")
    assert done.returncode == 1
    assert not (tmp_path / "m.csv").exists()
