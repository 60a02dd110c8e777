"""The committed golden version, materialised into a fresh embedded store and served."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from golden_script import MODELS
from litestar.testing import TestClient

from omnioffer.service import create_service_app
from served_version import iso, load_into, service_settings

RECORDED_POLICY = {"value_weight": 1.0, "suppress_bought_staples": True}


@contextmanager
def golden_client(tmp: Path) -> Iterator[tuple[TestClient, float]]:
    """(client, now): the real app over the golden version, one day after its cutoff."""
    url = f"sqlite:///{tmp / 'golden.sqlite'}"
    now = load_into(url, MODELS) + timedelta(days=1).total_seconds()
    # recorded when arbitration ranked by expected margin and a recent purchase suppressed
    # staples too, before those defaults changed (issue 16): the answers pin that policy
    settings = service_settings(url, MODELS, as_of=iso(now), replay_clock="frozen",
                                policy=RECORDED_POLICY)  # fmt: skip
    with TestClient(create_service_app(settings)) as client:
        yield client, now
