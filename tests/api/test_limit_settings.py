"""The limits' settings (TOML, environment, worker hand-off, refusals) and the keys
file's per-key limits, old files included; uvicorn is told the header bound."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from omnioffer import server
from omnioffer.api_keys import KeyFile, KeyRing
from omnioffer.errors import UsageError
from omnioffer.settings import Settings, load_settings, settings_to_env


def test_limits_are_off_by_default_and_read_from_toml_and_environment(tmp_path: Path) -> None:
    assert Settings().rate_limit_per_s is None and Settings().cors_origins == ()
    assert Settings().max_header_bytes == 16_384
    toml = tmp_path / "s.toml"
    toml.write_text(
        "rate_limit_per_s = 50.0\nrate_limit_burst = 100\n"
        'cors_origins = ["https://shop.example.com"]\nmax_header_bytes = 8192\n'
    )
    from_file = load_settings(toml, env={})
    assert (from_file.rate_limit_per_s, from_file.rate_limit_burst) == (50.0, 100)
    assert from_file.cors_origins == ("https://shop.example.com",)
    env = {"OMNIOFFER_RATE_LIMIT_PER_S": "2.5", "OMNIOFFER_RATE_LIMIT_BURST": "",
           "OMNIOFFER_CORS_ORIGINS": "https://a.example, http://localhost:3000"}  # fmt: skip
    from_env = load_settings(toml, env=env)
    assert (from_env.rate_limit_per_s, from_env.rate_limit_burst) == (2.5, None)
    assert from_env.cors_origins == ("https://a.example", "http://localhost:3000")
    assert load_settings(env=settings_to_env(from_env)) == from_env  # what workers get


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [("rate_limit_per_s", "-1", "OMNIOFFER_RATE_LIMIT_PER_S"),
     ("rate_limit_burst", "0", "OMNIOFFER_RATE_LIMIT_BURST"),
     ("max_header_bytes", "100", "OMNIOFFER_MAX_HEADER_BYTES"),
     ("cors_origins", "*", "OMNIOFFER_CORS_ORIGINS"),
     ("cors_origins", "https://a.example/path", "OMNIOFFER_CORS_ORIGINS")],
)  # fmt: skip
def test_bad_limit_settings_are_refused_by_name(key: str, value: str, named: str) -> None:
    with pytest.raises(UsageError, match=named):
        load_settings(env={named: value})


def test_a_keys_file_from_before_rate_limits_reads_the_same(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    made = KeyFile(path)
    key = made.create("pos", ["events"])
    made.write()
    record = json.loads(path.read_text())["keys"][0]
    assert "rate_per_s" not in record and "burst" not in record  # unchanged format
    ring = KeyRing(path, poll_s=60)
    found = ring.find(key)
    assert found is not None and (found.rate_per_s, found.burst) == (None, None)
    limited = KeyFile.read(path)
    own = limited.create("app", ["decide"], rate_per_s=20, burst=40)
    limited.write()
    again = KeyRing(path, poll_s=60).find(own)
    assert again is not None and (again.rate_per_s, again.burst) == (20.0, 40)


@pytest.mark.parametrize(
    ("fields", "message"),
    [({"rate_per_s": -2}, "rate_per_s"), ({"rate_per_s": "fast"}, "rate_per_s"),
     ({"rate_per_s": 5, "burst": 0}, "burst"), ({"burst": 5}, "a burst needs a rate")],
)  # fmt: skip
def test_a_bad_limit_in_the_keys_file_names_the_key_and_field(
    tmp_path: Path, fields: dict[str, Any], message: str
) -> None:
    path = tmp_path / "keys.json"
    made = KeyFile(path)
    made.create("pos", ["events"])
    made.write()
    raw = json.loads(path.read_text())
    raw["keys"][0].update(fields)
    path.write_text(json.dumps(raw))
    key_id = raw["keys"][0]["key_id"]
    with pytest.raises(UsageError, match=f"{path}: key {key_id}: .*{message}"):
        KeyFile.read(path)


def test_uvicorn_gets_a_head_bound_past_max_header_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: seen.update(kw))
    server.run_uvicorn("x:y", host="127.0.0.1", port=1, workers=1, log_level="info",
                       max_header_bytes=8_192)  # fmt: skip
    assert seen["h11_max_incomplete_event_size"] == 8_192 + server.HEAD_SLACK_BYTES
