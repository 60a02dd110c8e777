"""Session fixtures shared by the integration and service tests: one data set, one version."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # training (LightGBM...) is imported only by tests that train
    from training.train import TrainOutcome

SIZE = {"customers": 4_000, "days": 150, "seed": 5, "progress": False}


@pytest.fixture(scope="session")
def retail(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from training.simulate.generate import generate

    out = tmp_path_factory.mktemp("train") / "retail"
    generate(out, **SIZE)  # type: ignore[arg-type]
    return out


@pytest.fixture(scope="session")
def trained(retail: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TrainOutcome]:
    from training.train import train

    models = tmp_path_factory.mktemp("models")
    return models, train(retail / "data", models, progress=False)
