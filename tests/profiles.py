"""What the session fixture `trained_profile` (tests/conftest.py) hands out per generator
profile: its data folder, model registry and training outcome (a module of its own, as
served_version.py, because `conftest` names clash across test folders)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from training.train import TrainOutcome

Profiled: TypeAlias = "tuple[Path, Path, TrainOutcome]"
