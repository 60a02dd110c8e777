"""The [policy] table follows its settings file without a restart: the admin route
applies it now, every other worker on its next look; a bad policy is refused with 422
and the policy in force keeps serving."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import pytest
from litestar.testing import TestClient

from omnioffer.service import create_service_app
from served_version import AS_OF_DAYS, iso, load_into, service_settings
from service.helpers import customer_with_offers, decide

GOLDEN_MODELS = Path(__file__).parents[1] / "golden" / "models"


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[tuple[Path, TestClient, TestClient]]:
    """(settings file, worker a, worker b): two apps over one store and one file, as two
    uvicorn workers are; both look at the file on every request (model_poll_s tiny)."""
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    now = load_into(url, GOLDEN_MODELS) + timedelta(days=AS_OF_DAYS).total_seconds()
    config = tmp_path / "settings.toml"
    config.write_text("[policy]\ndaily_cap = 6\n")
    settings = service_settings(url, GOLDEN_MODELS, as_of=iso(now), model_poll_s=1e-9,
                                policy={"daily_cap": 6})  # fmt: skip
    with ExitStack() as stack:
        a, b = (stack.enter_context(TestClient(create_service_app(settings, config)))
                for _ in range(2))  # fmt: skip
        yield config, a, b


def offers(client: TestClient, cid: str) -> list[str]:
    return [o["offer_id"] for o in decide(client, cid, "app", 5)["offers"]]


def test_a_policy_edit_reaches_every_worker_and_a_bad_one_is_refused(
    workers: tuple[Path, TestClient, TestClient],
) -> None:
    config, a, b = workers
    cid = customer_with_offers(a, ("app",))
    assert offers(a, cid) and offers(b, cid)

    config.write_text("[policy]\ndaily_cap = 0\n")  # no impressions at all today
    reloaded = a.post("/admin/policy/reload")
    assert reloaded.status_code == 200, reloaded.text
    assert reloaded.json()["policy"]["daily_cap"] == 0
    assert reloaded.json()["source"] == str(config)
    assert offers(a, cid) == []
    assert offers(b, cid) == []  # the other worker, without being told

    config.write_text("[policy]\ndaily_cap = -1\n")
    refused = a.post("/admin/policy/reload")
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["type"].endswith("/policy-refused")
    assert "[policy] daily_cap: Expected `int` >= 0 (got -1)" in problem["detail"]
    assert str(config) in problem["detail"]
    assert offers(a, cid) == [] and offers(b, cid) == []  # cap 0 still in force

    config.write_text("[policy]\ndaily_cap = 6\n")
    assert offers(b, cid)  # fixed file: picked up again with no route call


def test_without_a_settings_file_the_policy_is_fixed_and_reload_says_why(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    with TestClient(create_service_app(service_settings(url, GOLDEN_MODELS))) as client:
        answer = client.post("/admin/policy/reload")
    assert answer.status_code == 422
    assert "started without a settings file (--config)" in answer.json()["detail"]
