"""API keys through the real app: every route against no key, a bad key, a revoked key,
the wrong scope, the wrong channel and the right key (erasure and consent included);
the open routes stay open."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from omnioffer.api_keys import KeyFile
from omnioffer.service import create_service_app
from served_version import AS_OF_DAYS, iso, load_into, service_settings
from training.train import TrainOutcome

CID = "c0000001"


def _routes(now: float) -> dict[str, tuple[str, str, dict[str, Any] | None]]:
    """scope -> (method, path, body) of a call on the web channel."""
    event = {"customer_id": CID, "channel": "web", "event_type": "view", "item_id": "i000001",
             "timestamp": iso(now - 60), "event_id": "auth-1"}  # fmt: skip
    return {
        "decide": ("POST", "/v1/decisions", {"customer_id": CID, "channel": "web"}),
        "recommend": ("POST", "/v1/recommendations", {"customer_id": CID, "channel": "web"}),
        "events": ("POST", "/v1/events", {"events": [event]}),
        "feedback": ("POST", "/v1/feedback", {"decision_id": "0" * 32, "offer_id": "o0001",
                                             "outcome": "click", "channel": "web"}),
    }  # fmt: skip


@pytest.fixture(scope="module")
def world(
    trained: tuple[Path, TrainOutcome], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, dict[str, str], float]]:
    root = tmp_path_factory.mktemp("auth")
    keys = KeyFile(root / "keys.json")
    made = {scope: keys.create(scope, [scope]) for scope in ("decide", "recommend", "events",
                                                               "feedback", "admin")}  # fmt: skip
    made["app-only"] = keys.create("app-only", ["decide", "events"], ["app"])
    made["email-events"] = keys.create("email-events", ["events"], ["email"])
    made["revoked"] = keys.create("revoked", ["decide"])
    keys.revoke(made["revoked"].split("_")[1])
    keys.write()
    url = f"sqlite:///{root / 'store.sqlite'}"
    now = load_into(url, trained[0]) + timedelta(days=AS_OF_DAYS).total_seconds()
    settings = service_settings(url, trained[0], as_of=iso(now), replay_clock="frozen",
                                keys_file=str(root / "keys.json"), host="0.0.0.0")  # fmt: skip
    with TestClient(create_service_app(settings)) as client:
        yield client, made, now


def _call(
    client: TestClient, route: tuple[str, str, Any], key: str | None, bearer: bool = True
) -> Any:
    method, path, body = route
    headers = {} if key is None else (
        {"Authorization": f"Bearer {key}"} if bearer else {"X-API-Key": key})  # fmt: skip
    return client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize("scope", ["decide", "recommend", "events", "feedback"])
def test_each_route_needs_a_valid_key_with_its_scope(
    world: tuple[TestClient, dict[str, str], float], scope: str
) -> None:
    client, keys, now = world
    route = _routes(now)[scope]
    for bad in (None, "oo_nope_nope", "not-a-key", keys["revoked"], keys[scope] + "x"):
        r = _call(client, route, bad)
        assert r.status_code == 401, (bad, r.text)
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert r.headers["content-type"].startswith("application/problem+json")
    other = next(s for s in ("decide", "recommend") if s != scope)
    assert _call(client, route, keys[other]).status_code == 403
    assert _call(client, route, keys["admin"]).status_code == 403  # admin is its own scope
    ok = _call(client, route, keys[scope], bearer=scope != "events")  # X-API-Key works too
    assert ok.status_code in (200, 404), ok.text  # feedback: 404, that decision is unknown
    assert ok.status_code == (404 if scope == "feedback" else 200)


def test_a_channel_limited_key_may_name_only_its_channels(
    world: tuple[TestClient, dict[str, str], float],
) -> None:
    client, keys, now = world
    key = keys["app-only"]
    web = _routes(now)["decide"]
    assert _call(client, web, key).status_code == 403
    app = ("POST", "/v1/decisions", {"customer_id": CID, "channel": "app"})
    assert _call(client, app, key).status_code == 200
    events = _routes(now)["events"]  # one event on web in the batch: the batch is refused
    assert _call(client, events, key).status_code == 403


def test_similar_items_admin_and_the_probes(
    world: tuple[TestClient, dict[str, str], float],
) -> None:
    client, keys, _ = world
    similar = ("GET", "/v1/items/i000001/similar", None)
    assert _call(client, similar, None).status_code == 401
    assert _call(client, similar, keys["recommend"]).status_code in (200, 404)
    reload = ("POST", "/admin/policy/reload", None)
    assert _call(client, reload, keys["decide"]).status_code == 403
    assert _call(client, reload, keys["admin"]).status_code not in (401, 403)
    assert client.get("/health/live").status_code == 200  # always open
    for probe in ("/health/ready", "/metrics"):  # host 0.0.0.0: a key is needed
        assert client.get(probe).status_code == 401
        assert _call(client, ("GET", probe, None), keys["decide"]).status_code == 200


def test_erasure_needs_the_admin_scope(world: tuple[TestClient, dict[str, str], float]) -> None:
    client, keys, _ = world
    erase = ("DELETE", "/v1/customers/c0000002", None)
    for bad in (None, "oo_nope_nope", keys["revoked"]):
        assert _call(client, erase, bad).status_code == 401
    for scope in ("decide", "recommend", "events", "feedback", "email-events"):
        r = _call(client, erase, keys[scope])
        assert r.status_code == 403 and "'admin'" in r.json()["detail"], (scope, r.text)
    assert _call(client, erase, keys["admin"], bearer=False).status_code == 200


def test_consent_needs_admin_or_an_events_key_of_that_channel(
    world: tuple[TestClient, dict[str, str], float],
) -> None:
    client, keys, _ = world

    def put(body: dict[str, bool]) -> tuple[str, str, dict[str, bool]]:
        return ("PUT", "/v1/customers/c0000003/consent", body)

    assert _call(client, put({"email": False}), None).status_code == 401
    assert _call(client, put({"email": False}), "oo_nope_nope").status_code == 401
    for scope in ("decide", "recommend", "feedback", "events"):  # events: not channel-limited
        assert _call(client, put({"email": False}), keys[scope]).status_code == 403, scope
    assert _call(client, put({"email": False}), keys["email-events"]).status_code == 200
    r = _call(client, put({"email": True, "sms": False}), keys["email-events"])
    assert r.status_code == 403 and "not 'sms'" in r.json()["detail"]
    assert _call(client, put({"app": False}), keys["app-only"]).status_code == 200
    r = _call(client, put({"sms": False}), keys["admin"])
    assert r.status_code == 200 and r.json()["consent"] == {
        "app": False,
        "email": False,
        "sms": False,
    }


def test_serve_off_loopback_without_keys_refuses_unless_insecure(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "omnioffer", "serve", "--host", "0.0.0.0", "--models",
           str(tmp_path), "--store", f"sqlite:///{tmp_path / 's.sqlite'}"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "--insecure" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_keys_cli_creates_lists_and_revokes(tmp_path: Path) -> None:
    file = str(tmp_path / "k.json")
    run = [sys.executable, "-m", "omnioffer", "keys"]
    made = subprocess.run([*run, "create", "--name", "pos", "--scopes", "events",
                           "--channels", "store", "--keys-file", file],
                          capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    key = made.stdout.splitlines()[0]
    assert key.startswith("oo_") and key not in Path(file).read_text()  # only the hash is kept
    key_id = key.split("_")[1]
    listed = subprocess.run([*run, "list", "--keys-file", file], capture_output=True,
                            text=True, timeout=60, check=True).stdout  # fmt: skip
    assert key_id in listed and "events" in listed and "store" in listed and "active" in listed
    subprocess.run([*run, "revoke", key_id, "--keys-file", file], timeout=60, check=True,
                   capture_output=True)  # fmt: skip
    assert "revoked" in subprocess.run([*run, "list", "--keys-file", file], capture_output=True,
                                       text=True, timeout=60, check=True).stdout  # fmt: skip


def test_serve_with_a_missing_keys_file_says_so(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "omnioffer", "serve", "--keys-file", str(tmp_path / "no.json"),
           "--models", str(tmp_path), "--store", f"sqlite:///{tmp_path / 's.sqlite'}"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "keys create" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


EXPERIMENT_ROUTES = (
    ("GET", "/v1/experiments", None),
    ("GET", "/v1/experiments/ab", None),
    ("PUT", "/v1/experiments/ab", {"variants": [{"name": "a", "weight": 0.5},
                                                 {"name": "b", "weight": 0.5}]}),
    ("POST", "/v1/experiments/ab/stop", None),
    ("GET", "/v1/holdout", None),
    ("PUT", "/v1/holdout", {"share": 0.05}),
)  # fmt: skip


@pytest.mark.parametrize("route", EXPERIMENT_ROUTES, ids=lambda r: f"{r[0]} {r[1]}")
def test_the_experiment_routes_need_the_admin_scope(
    world: tuple[TestClient, dict[str, str], float], route: tuple[str, str, dict[str, Any] | None]
) -> None:
    client, keys, _ = world
    assert _call(client, route, None).status_code == 401
    assert _call(client, route, "oo_nope_nope").status_code == 401
    for scope in ("decide", "recommend", "events", "feedback"):
        assert _call(client, route, keys[scope]).status_code == 403, scope
    allowed = _call(client, route, keys["admin"])
    assert allowed.status_code in (200, 404), allowed.text  # 404: no experiment "ab" yet
