"""Demo time (issue 16, point 6): the demo's history ends on a fixed synthetic date, so on
the wall clock its offers have expired. The demo leaves its replay clock, store and models
in ./omnioffer.toml, which a plain `omnioffer serve` reads: served afterwards, it yields
offers."""

from __future__ import annotations

import shutil
import socket
import tomllib
from datetime import datetime
from pathlib import Path

import pytest
from litestar.testing import TestClient

from omnioffer.cli.demo import serve_demo
from omnioffer.cli.demo_settings import MARKER, write_demo_settings
from omnioffer.cli.serve import settings_path
from omnioffer.contracts.payloads import CATALOG, decode_catalog
from omnioffer.service import create_service_app
from omnioffer.settings import load_settings
from omnioffer.store import open_store

ROOT = Path(__file__).parents[2]
GOLDEN_MODELS = ROOT / "tests" / "golden" / "models"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _cutoff(store_url: str) -> float:
    store = open_store(store_url)
    try:
        version = await store.active_version()
        assert version is not None
        blob = await store.get_global(version, CATALOG)
        assert blob is not None
        return decode_catalog(blob).cutoff
    finally:
        await store.close()


def test_a_plain_serve_after_the_demo_yields_offers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    models = Path(shutil.copytree(GOLDEN_MODELS, tmp_path / "models"))
    (tmp_path / "demo-data").mkdir()
    monkeypatch.chdir(tmp_path)  # where `make demo` and then `omnioffer serve` run
    monkeypatch.delenv("OMNIOFFER_CONFIG", raising=False)
    assert serve_demo(models, tmp_path / "demo-data", port=_free_port(), keep_serving=False) == 0

    found = settings_path(None, "")  # what a plain `omnioffer serve` here reads
    assert found is not None and found.read_text().startswith(MARKER)
    settings = load_settings(found, env={})
    assert settings.as_of is not None and settings.store_url is not None
    cutoff = asyncio.run(_cutoff(settings.store_url))
    assert datetime.fromisoformat(settings.as_of).timestamp() == cutoff + 12 * 3600
    with TestClient(create_service_app(settings, found)) as client:
        asks = [{"customer_id": f"c{i:07d}", "channel": "app", "k": 3} for i in range(1, 40)]
        answers = [client.post("/v1/decisions", json=body).json() for body in asks]
    served = [a for a in answers if a["offers"]]
    assert served, [a.get("empty_reasons") for a in answers[:3]]
    assert all(a["fallback"] is None for a in served)


def test_the_demo_never_overwrites_settings_it_did_not_write(tmp_path: Path) -> None:
    mine = tmp_path / "omnioffer.toml"
    mine.write_text("port = 8080\n[policy]\ndaily_cap = 2\n")
    assert not write_demo_settings(mine, store_url="sqlite:///x", models=tmp_path, as_of="2026")
    assert mine.read_text() == "port = 8080\n[policy]\ndaily_cap = 2\n"
    ours = tmp_path / "other.toml"
    assert write_demo_settings(ours, store_url="sqlite:///x", models=tmp_path, as_of="2026-01-01")
    assert write_demo_settings(ours, store_url="sqlite:///y", models=tmp_path, as_of="2026-01-02")
    written = tomllib.loads(ours.read_text())
    assert written == {"store_url": "sqlite:///y", "models_dir": str(tmp_path.resolve()),
                       "as_of": "2026-01-02"}  # fmt: skip
    assert load_settings(ours, env={}).as_of == "2026-01-02"  # serve can read it
