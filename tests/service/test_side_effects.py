"""What changes state and what does not: dry-run decisions change nothing, and under a
moving replay clock the one-conversation hold ends after sticky_minutes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from helpers import decide
from litestar.testing import TestClient

import omnioffer.service
from omnioffer.service import make_clock
from served_version import AS_OF_DAYS, iso, load_into, service_settings
from training.train import TrainOutcome

HELD = "also your top offer on"


def held(decision: dict[str, Any]) -> bool:
    return any(HELD in r for o in decision["offers"] for r in o["reasons"])


class Ticker:
    """A monotonic clock the test moves by hand (the replay clock's ticker)."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@contextmanager
def serving(
    models: Path, url: str, monkeypatch: pytest.MonkeyPatch, **extra: Any
) -> Iterator[tuple[TestClient, Ticker]]:
    """The real app with the replay clock's ticker under the test's control (only the
    composition root's `time`: the event loop keeps the real one)."""
    ticker = Ticker()
    fake = SimpleNamespace(time=time.time, monotonic=ticker)
    monkeypatch.setattr(omnioffer.service, "time", fake)
    now = load_into(url, models) + timedelta(days=AS_OF_DAYS).total_seconds()
    settings = service_settings(url, models, as_of=iso(now), **extra)
    with TestClient(omnioffer.service.create_service_app(settings)) as client:
        yield client, ticker


def test_make_clock_moves_from_as_of_or_stays() -> None:
    ticks = iter([5.0, 5.0, 65.5])
    moving = make_clock("2026-05-01T00:00:00", moving=True, ticker=lambda: next(ticks))
    start = 1_777_593_600.0  # 2026-05-01 UTC
    assert moving() == start and moving() == start + 60.5
    frozen = make_clock("2026-05-01T00:00:00+00:00", moving=False)
    assert frozen() == frozen() == start
    assert make_clock(None) is time.time


def decisions_counted(client: TestClient) -> list[str]:
    """The decisions counter's samples in /metrics (a request is still timed)."""
    lines = client.get("/metrics").text.splitlines()
    found = [line for line in lines if line.startswith("omnioffer_decisions_total{")]
    assert found, "no decisions counted yet"
    return found


def held_customer(client: TestClient) -> tuple[str, str]:
    """A customer whose web top offer is then held on the app, where it would not have
    been first (so the hold shows as a reason), and that offer."""
    for i in range(400):
        cid = f"c{i:07d}"
        web = decide(client, cid, "web")
        if web["fallback"] is None and web["offers"]:
            app = decide(client, cid, "app", k=50)
            if held(app):
                assert app["offers"][0]["offer_id"] == web["offers"][0]["offer_id"]
                return cid, app["offers"][0]["offer_id"]
    raise AssertionError("no customer among the first 400 whose web top is held on the app")


@pytest.mark.parametrize("clock", ["moving", "frozen"])
def test_the_hold_ends_after_sticky_minutes_only_on_a_moving_clock(
    trained: tuple[Path, TrainOutcome], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    clock: str,
) -> None:  # fmt: skip
    policy = {"sticky_minutes": 30, "sticky_min_share": 0.0}  # hold whatever the priority
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    with serving(trained[0], url, monkeypatch, replay_clock=clock, policy=policy) as (
        client, ticker,
    ):  # fmt: skip
        cid, top = held_customer(client)
        ticker.now += 29 * 60
        again = decide(client, cid, "app", k=50)  # 29 minutes on: still one conversation
        assert held(again) and again["offers"][0]["offer_id"] == top
        ticker.now += 31 * 60  # that decision (the last) is now 31 minutes old
        later = decide(client, cid, "app", k=50)
    assert held(later) == (clock == "frozen")
    assert (later["offers"][0]["offer_id"] == top) == (clock == "frozen")


def test_a_dry_run_decision_is_neither_remembered_nor_counted(
    trained: tuple[Path, TrainOutcome], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    policy = {"sticky_min_share": 0.0}
    with serving(trained[0], url, monkeypatch, policy=policy) as (client, _):
        cid, top = held_customer(client)  # its web decision holds on the app
        counted = decisions_counted(client)
        body = {"customer_id": cid, "channel": "store", "k": 50, "dry_run": True}
        preview = client.post("/v1/decisions", json=body).json()
        assert preview["dry_run"] is True and preview["offers"]
        assert decisions_counted(client) == counted  # not counted
        fb = {"decision_id": preview["decision_id"], "offer_id": preview["offers"][0]["offer_id"],
              "outcome": "impression", "channel": "store"}  # fmt: skip
        assert client.post("/v1/feedback", json=fb).status_code == 404  # not remembered
        real = decide(client, cid, "app", k=50)
        assert "dry_run" not in real  # only a preview says so
        # the preview did not become the last decision: the app one still holds
        assert held(real) and real["offers"][0]["offer_id"] == top
        assert any(f"{HELD} app" in r for r in real["offers"][0]["reasons"]), real
