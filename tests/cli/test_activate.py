"""`omnioffer activate V --store S` switches the registry and the store together, or
neither: a failure injected on either side leaves both naming what they named before."""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from omnioffer.cli import main
from omnioffer.jobs.materialize import materialize
from omnioffer.registry import get_current, set_current
from omnioffer.store import open_store
from omnioffer.store.base import StoreUnavailable
from omnioffer.store.sqlite.store import EmbeddedStore
from training.train import TrainOutcome

GOLDEN = Path(__file__).parents[1] / "golden" / "models"


@dataclass(frozen=True)
class World:
    models: Path
    url: str
    old: str  # current in the registry and active in the store
    new: str  # in the registry; materialized (not active) unless said otherwise


def _store_active(url: str) -> str | None:
    async def go() -> str | None:
        store = open_store(url)
        try:
            return await store.active_version()
        finally:
            await store.close()

    return asyncio.run(go())


def _materialize(url: str, models: Path, version: str, *, activate: bool) -> None:
    async def go() -> None:
        store = open_store(url)
        try:
            await materialize(store, models, version, activate=activate)
        finally:
            await store.close()

    asyncio.run(go())


def _world(tmp_path: Path, trained: tuple[Path, TrainOutcome], *, new_in_store: bool) -> World:
    """Two versions in a fresh registry (the golden one, current, and the session's)."""
    models = tmp_path / "models"
    (old,) = [p.name for p in GOLDEN.iterdir() if p.is_dir()]
    new = trained[1].version
    assert new is not None
    shutil.copytree(GOLDEN / old, models / old)
    shutil.copytree(trained[0] / new, models / new)
    set_current(models, old)
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    _materialize(url, models, old, activate=True)
    if new_in_store:
        _materialize(url, models, new, activate=False)
    return World(models, url, old, new)


def _activate(w: World, version: str) -> int:
    return main(["-q", "activate", version, "--models", str(w.models), "--store", w.url])


def _unchanged(w: World) -> None:
    assert get_current(w.models) == w.old
    assert _store_active(w.url) == w.old


@pytest.fixture(scope="module")
def worlds(
    trained: tuple[Path, TrainOutcome], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, World]:
    return {
        name: _world(tmp_path_factory.mktemp(name), trained, new_in_store=name != "bare")
        for name in ("bare", "both", "flaky", "broken")
    }


def test_both_switch(worlds: dict[str, World], capsys: pytest.CaptureFixture[str]) -> None:
    w = worlds["both"]
    assert _activate(w, w.new) == 0
    assert get_current(w.models) == w.new and _store_active(w.url) == w.new
    assert f"feature store now serves {w.new}" in capsys.readouterr().out
    assert _activate(w, w.old) == 0  # and back
    _unchanged(w)


def test_a_version_the_store_lacks_changes_nothing(
    worlds: dict[str, World], capsys: pytest.CaptureFixture[str]
) -> None:
    w = worlds["bare"]
    assert _activate(w, w.new) == 1
    err = capsys.readouterr().err
    assert f"has no version {w.new}" in err and "materialize" in err and "Traceback" not in err
    _unchanged(w)


def test_a_store_that_fails_to_switch_rolls_the_registry_back(
    worlds: dict[str, World], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    w = worlds["flaky"]

    async def gone(self: EmbeddedStore, version: str) -> None:
        assert get_current(w.models) == w.new  # the registry had switched already
        raise StoreUnavailable("the store went away")

    monkeypatch.setattr(EmbeddedStore, "activate", gone)
    assert _activate(w, w.new) == 1
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert "the registry is back on" in err and w.old in err
    _unchanged(w)


def test_a_registry_version_that_fails_its_checks_changes_nothing(
    worlds: dict[str, World], capsys: pytest.CaptureFixture[str]
) -> None:
    w = worlds["broken"]
    onnx = next((w.models / w.new / "rankers").glob("*.onnx"))
    onnx.write_bytes(onnx.read_bytes()[:-1] + b"\0")  # one byte off: its sha256 differs
    assert _activate(w, w.new) == 1
    assert "Traceback" not in capsys.readouterr().err
    _unchanged(w)
