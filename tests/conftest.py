"""Session fixtures shared by the integration and service tests: one data set, one version."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from profiles import Profiled

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


@pytest.fixture(scope="session")
def trained_profile(
    retail: Path, trained: tuple[Path, TrainOutcome], tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], Profiled]:
    """Each generator profile generated at SIZE and trained once per session, on demand
    (retail is the `retail` / `trained` pair)."""
    from training.simulate.generate import generate
    from training.train import train

    done: dict[str, Profiled] = {"retail": (retail / "data", *trained)}

    def get(profile: str) -> Profiled:
        if profile not in done:
            root = tmp_path_factory.mktemp(profile)
            generate(root / profile, **SIZE, profile=profile)  # type: ignore[arg-type]
            models = root / "models"
            done[profile] = (root / profile / "data", models,
                             train(root / profile / "data", models, progress=False))  # fmt: skip
        return done[profile]

    return get
