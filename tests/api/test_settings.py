"""Settings precedence (flags > environment > TOML > defaults), errors, and the worker hand-off."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from omnioffer import server
from omnioffer.api.metrics import MULTIPROC_ENV
from omnioffer.contracts.schema import DEFAULT_CHANNELS
from omnioffer.errors import UsageError
from omnioffer.settings import Settings, load_settings, settings_to_env

TOML = """
port = 8100
workers = 2
store_url = "redis://cache:6379/0"
channels = ["web", "app"]
store_timeout_s = 0.1
log_level = "warning"

[policy]
max_offers_per_day = 3
holdout = 0.05
"""


@pytest.fixture
def toml_file(tmp_path: Path) -> Path:
    path = tmp_path / "omnioffer.toml"
    path.write_text(TOML)
    return path


def test_defaults() -> None:
    settings = load_settings(env={})
    assert settings == Settings()
    assert (settings.host, settings.port, settings.workers) == ("127.0.0.1", 8000, 1)
    assert settings.store_url is None and settings.models_dir == "models"
    assert settings.channels == DEFAULT_CHANNELS
    assert (settings.store_timeout_s, settings.model_poll_s) == (0.25, 0.5)
    assert (settings.max_body_bytes, settings.log_level, settings.policy) == (2_000_000, "info", {})


def test_toml_overrides_defaults_and_keeps_policy_raw(toml_file: Path) -> None:
    settings = load_settings(toml_file, env={})
    assert (settings.port, settings.workers, settings.log_level) == (8100, 2, "warning")
    assert settings.store_url == "redis://cache:6379/0"
    assert settings.channels == ("web", "app")
    assert settings.policy == {"max_offers_per_day": 3, "holdout": 0.05}
    assert settings.host == "127.0.0.1"  # untouched keys keep their default


def test_environment_overrides_toml_and_flags_override_environment(toml_file: Path) -> None:
    env = {
        "OMNIOFFER_PORT": "8200",
        "OMNIOFFER_CHANNELS": "web, store ,email",
        "OMNIOFFER_STORE_URL": "",
        "OMNIOFFER_LOG_LEVEL": "DEBUG",
        "OMNIOFFER_WORKERS": "3",
        "UNRELATED": "x",
    }
    from_env = load_settings(toml_file, env=env)
    assert from_env.port == 8200
    assert from_env.channels == ("web", "store", "email")
    assert from_env.store_url is None  # empty variable: back to the embedded store
    assert from_env.log_level == "debug"
    assert from_env.store_timeout_s == 0.1  # from the file

    overrides = {"port": 8300, "workers": None, "host": "0.0.0.0"}
    flagged = load_settings(toml_file, env=env, overrides=overrides)
    assert (flagged.port, flagged.workers, flagged.host) == (8300, 3, "0.0.0.0")


def test_config_file_from_the_environment(toml_file: Path) -> None:
    settings = load_settings(env={"OMNIOFFER_CONFIG": str(toml_file)})
    assert settings.port == 8100


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"OMNIOFFER_PORT": "eighty"}, "OMNIOFFER_PORT"),
        ({"OMNIOFFER_PORT": "70000"}, "OMNIOFFER_PORT"),
        ({"OMNIOFFER_WORKERS": "0"}, "OMNIOFFER_WORKERS"),
        ({"OMNIOFFER_STORE_TIMEOUT_S": "-1"}, "OMNIOFFER_STORE_TIMEOUT_S"),
        ({"OMNIOFFER_CHANNELS": " , "}, "OMNIOFFER_CHANNELS"),
        ({"OMNIOFFER_LOG_LEVEL": "loud"}, "OMNIOFFER_LOG_LEVEL"),
        ({"OMNIOFFER_POLICY": "[1, 2]"}, "OMNIOFFER_POLICY"),
        ({"OMNIOFFER_POLICY": "{not json"}, "OMNIOFFER_POLICY"),
    ],
)
def test_bad_environment_values_name_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(UsageError, match=named) as raised:
        load_settings(env=env)
    assert raised.value.exit_code == 2


def test_unknown_toml_key_names_key_and_file(tmp_path: Path) -> None:
    path = tmp_path / "typo.toml"
    path.write_text('prot = 8000\nhost = "0.0.0.0"\n')
    with pytest.raises(UsageError, match="prot") as raised:
        load_settings(path, env={})
    assert str(path) in str(raised.value)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('port = "8000"', "port"),
        ("workers = 1.5", "workers"),
        ('channels = "web"', "channels"),
        ("policy = 3", "policy"),
        ("max_body_bytes = 10", "max_body_bytes"),
    ],
)
def test_bad_toml_values_name_key_and_file(tmp_path: Path, text: str, named: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text + "\n")
    with pytest.raises(UsageError, match=named) as raised:
        load_settings(path, env={})
    assert str(path) in str(raised.value)


def test_unreadable_or_invalid_toml_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"missing\.toml"):
        load_settings(tmp_path / "missing.toml", env={})
    broken = tmp_path / "broken.toml"
    broken.write_text("port = \n")
    with pytest.raises(UsageError, match=r"broken\.toml"):
        load_settings(broken, env={})


def test_bad_or_unknown_override_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="port"):
        load_settings(env={}, overrides={"port": "http"})
    with pytest.raises(UsageError, match="colour"):
        load_settings(env={}, overrides={"colour": "blue"})


def test_settings_round_trip_through_the_environment(toml_file: Path) -> None:
    settings = load_settings(toml_file, env={}, overrides={"models_dir": "/srv/models"})
    env = settings_to_env(settings)
    assert all(name.startswith("OMNIOFFER_") for name in env)
    assert all(isinstance(value, str) for value in env.values())
    assert load_settings(env=env) == settings
    assert load_settings(env=settings_to_env(Settings())) == Settings()


def test_run_server_hands_settings_to_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_run(app: str, **options: Any) -> None:
        seen.update(options, app=app, settings=load_settings(env=os.environ))
        seen["metrics_dir"] = os.environ.get(MULTIPROC_ENV)
        seen["metrics_dir_existed"] = Path(seen["metrics_dir"] or "/nonexistent").is_dir()

    monkeypatch.setattr("uvicorn.run", fake_run)
    monkeypatch.delenv(MULTIPROC_ENV, raising=False)
    monkeypatch.delenv("OMNIOFFER_PORT", raising=False)
    settings = Settings(port=8400, workers=3, channels=("web",), policy={"cap": 2})
    server.run_server(settings)

    assert seen["app"] == "omnioffer.service:app_from_env" and seen["factory"] is True
    assert (seen["port"], seen["workers"], seen["log_level"]) == (8400, 3, "info")
    assert seen["settings"] == settings
    assert seen["metrics_dir_existed"]
    assert not Path(seen["metrics_dir"]).exists()  # cleaned at exit
    assert MULTIPROC_ENV not in os.environ and "OMNIOFFER_PORT" not in os.environ


def test_run_server_names_the_settings_file_to_workers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Workers re-read [policy] from it (policy hot reload); rebuilding their settings
    from file + environment still gives the server's settings exactly."""
    seen: dict[str, Any] = {}

    def fake_run(app: str, **options: Any) -> None:
        seen.update(config=os.environ.get("OMNIOFFER_CONFIG"), settings=load_settings())

    monkeypatch.setattr("uvicorn.run", fake_run)
    monkeypatch.delenv("OMNIOFFER_CONFIG", raising=False)
    config = tmp_path / "settings.toml"
    config.write_text("port = 8401\n[policy]\ndaily_cap = 3\n")
    settings = load_settings(config, env={})
    server.run_server(settings, config)
    assert seen == {"config": str(config.resolve()), "settings": settings}
    assert "OMNIOFFER_CONFIG" not in os.environ


def test_single_worker_needs_no_multiprocess_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_run(app: str, **options: Any) -> None:
        seen.update(options, metrics_dir=os.environ.get(MULTIPROC_ENV))

    monkeypatch.setattr("uvicorn.run", fake_run)
    monkeypatch.delenv(MULTIPROC_ENV, raising=False)
    server.run_server(Settings())
    assert seen["workers"] == 1
    assert seen["metrics_dir"] is None


def test_the_event_log_bound_reaches_the_redis_store_from_the_environment() -> None:
    import asyncio

    from omnioffer.service import open_service_store
    from omnioffer.store.redis import RedisStore

    env = {"OMNIOFFER_STORE_URL": "redis://127.0.0.1:1/0", "OMNIOFFER_EVENT_LOG_MAX_LEN": "500"}
    store = open_service_store(load_settings(None, env=env))
    try:
        assert isinstance(store, RedisStore) and store.log_max_len == 500
    finally:
        asyncio.run(store.close())
    assert load_settings(None, env={}).event_log_max_len is None
    with pytest.raises(UsageError, match="OMNIOFFER_EVENT_LOG_MAX_LEN"):
        load_settings(None, env={"OMNIOFFER_EVENT_LOG_MAX_LEN": "0"})
