"""A store without an active version: the service says so and what to do, at startup
and in every 503, instead of "temporarily unavailable; retry shortly"."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from litestar.testing import TestClient

from omnioffer.service import create_service_app
from served_version import service_settings

GOLDEN_MODELS = Path(__file__).parents[1] / "golden" / "models"


def test_decisions_on_an_empty_store_say_nothing_is_materialized(tmp_path: Path) -> None:
    store = tmp_path / "empty.sqlite"
    settings = service_settings(f"sqlite:///{store}", GOLDEN_MODELS)
    with TestClient(create_service_app(settings)) as client:
        answer = client.post("/v1/decisions", json={"customer_id": "c1", "channel": "app"})
        ready = client.get("/health/ready")
    assert answer.status_code == 503
    problem = answer.json()
    assert problem["type"].endswith("/not-materialized")
    assert f"nothing is materialized in the embedded store {store}" in problem["detail"]
    assert "omnioffer materialize" in problem["detail"]
    assert "Retry-After" not in answer.headers  # retrying alone will not help
    assert ready.status_code == 503
    assert ready.json()["model_version"] is None


def test_serve_on_an_empty_store_warns_before_it_listens(tmp_path: Path) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "omnioffer", "serve", "--port", "0", "--models", str(GOLDEN_MODELS)],
        cwd=tmp_path, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert server.stderr is not None
        first = server.stderr.readline()  # printed before uvicorn starts, so always first
    finally:
        server.terminate()
        server.wait(timeout=30)
    expected = f"nothing is materialized in the embedded store {tmp_path.resolve()}"
    assert first.startswith("omnioffer serve: warning: ")
    assert expected in first
