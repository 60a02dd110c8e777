from __future__ import annotations

from pathlib import Path

import pytest

from training.simulate.generate import generate

SMALL = {"customers": 3_000, "days": 120, "seed": 11, "progress": False}


@pytest.fixture(scope="session")
def small_params() -> dict[str, object]:
    return dict(SMALL)


@pytest.fixture(scope="session")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "retail"
    generate(out, **SMALL)  # type: ignore[arg-type]
    return out
