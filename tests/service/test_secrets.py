"""A Redis password never shows: not in the readiness body (which names no host or port
either), not in logs or CLI errors, whatever the URL form; and it can stay out of the
URL altogether (store_password, store_password_file, OMNIOFFER_STORE_PASSWORD)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from omnioffer.cli import main
from omnioffer.service import create_service_app, open_service_store
from omnioffer.settings import Settings
from omnioffer.store.redis.errors import redact_url
from redis_server import RedisServer, free_port, require_redis_server
from served_version import service_settings

SECRET = "s3cret-Pw"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:s3cret-Pw@h:6380/0", "redis://:***@h:6380/0"),
        ("redis://app:s3cret-Pw@h/1", "redis://app:***@h/1"),
        ("redis://h:6380/0?password=s3cret-Pw&db=2", "redis://h:6380/0?password=***&db=2"),
        ("rediss://app:s3cret-Pw@h?PASSWORD=s3cret-Pw", "rediss://app:***@h?PASSWORD=***"),
        ("redis://h:6380/0?socket_timeout=5", "redis://h:6380/0?socket_timeout=5"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


@pytest.mark.parametrize("form", ["netloc", "query"])
def test_an_unreachable_store_shows_no_secret_host_or_port(
    form: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    port = free_port()  # nothing listens there
    url = (f"redis://:{SECRET}@127.0.0.1:{port}/0" if form == "netloc"
           else f"redis://127.0.0.1:{port}/0?password={SECRET}")  # fmt: skip
    settings = service_settings(url, tmp_path / "models", store_timeout_s=0.2)
    with TestClient(create_service_app(settings)) as client:
        ready = client.get("/health/ready")
    logged = "".join(capfd.readouterr())
    assert ready.status_code == 503
    body = ready.text
    assert ready.json()["store"] == "unavailable"
    assert SECRET not in body and str(port) not in body and "127.0.0.1" not in body
    assert SECRET not in logged and "feature store is unavailable" in logged
    assert main(["versions", "--models", str(tmp_path), "--store", url]) == 1
    said = "".join(capfd.readouterr())
    assert SECRET not in said and "unavailable" in said


@pytest.fixture(scope="module")
def locked_redis() -> Iterator[RedisServer]:
    require_redis_server()
    server = RedisServer(extra_args=["--requirepass", SECRET]).start()
    yield server
    server.stop()


def _pings(settings: Settings) -> None:
    async def go() -> None:
        store = open_service_store(settings)
        try:
            await store.ping()
        finally:
            await store.close()

    asyncio.run(go())


def test_the_password_can_come_from_a_setting_or_a_file(
    locked_redis: RedisServer, tmp_path: Path
) -> None:
    url = locked_redis.url  # no password in it
    _pings(service_settings(url, tmp_path, store_password=SECRET))
    secret = tmp_path / "redis-password"
    secret.write_text(SECRET + "\n")
    _pings(service_settings(url, tmp_path, store_password_file=str(secret)))
    from omnioffer.store.base import StoreUnavailable

    with pytest.raises(StoreUnavailable) as refused:
        _pings(service_settings(url, tmp_path))  # no password: the server refuses
    assert SECRET not in str(refused.value)


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "omnioffer", *args], capture_output=True,
                          text=True, timeout=60, env=env, check=False)  # fmt: skip


def test_the_cli_reads_the_password_from_the_environment(
    locked_redis: RedisServer, tmp_path: Path
) -> None:
    (tmp_path / "models").mkdir()
    args = ("versions", "--models", str(tmp_path / "models"), "--store", locked_redis.url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNIOFFER_STORE_PASSWORD")}
    done = _cli(*args, env={**env, "OMNIOFFER_STORE_PASSWORD": SECRET})
    assert done.returncode == 0 and "no materialized versions" in done.stdout, done.stderr
    refused = _cli(*args, env=env)  # refused without it, in one line, without the secret
    assert refused.returncode == 1 and "unavailable" in refused.stderr
    assert SECRET not in refused.stdout + refused.stderr
