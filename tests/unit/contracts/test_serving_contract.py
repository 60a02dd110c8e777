"""The serving/ files contract: names, columns and format, checked on a real version."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from omnioffer.contracts import serving as sf
from omnioffer.contracts.artifact import ArtifactError

GOLDEN_MODELS = Path(__file__).parents[2] / "golden" / "models"


def _version() -> Path:
    (version,) = [p for p in GOLDEN_MODELS.iterdir() if p.is_dir()]
    return version


def test_a_trained_version_has_every_file_with_its_columns() -> None:
    root = _version()
    for name, columns in sf.COLUMNS.items():
        path = root / sf.rel(name)
        assert path.is_file(), path
        missing = set(columns) - set(pl.read_parquet_schema(path))
        assert not missing, f"{sf.rel(name)} lacks {missing}"
    meta = json.loads((root / sf.rel(sf.META)).read_text())
    sf.check_meta(meta, root.name)
    assert tuple(meta["candidates"]) == sf.CANDIDATE_SETTINGS


def test_another_format_is_refused_by_name() -> None:
    meta = json.loads((_version() / sf.rel(sf.META)).read_text())
    with pytest.raises(ArtifactError, match=r"v1: serving/serving.json has format 2; .* format 1"):
        sf.check_meta({**meta, "format": 2}, "v1")
    with pytest.raises(ArtifactError, match="lacks prior"):
        sf.check_meta({k: v for k, v in meta.items() if k != "prior"}, "v1")


def test_unknown_file_names_are_refused() -> None:
    with pytest.raises(KeyError, match="no serving file 'item'"):
        sf.file_name("item")
