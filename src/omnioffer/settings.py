"""Service settings: one immutable object, loaded from defaults < TOML < environment < flags.

The TOML file is flat: every top-level key is a `Settings` field (e.g. `port = 8080`,
`channels = ["web", "app"]`), plus an optional `[policy]` table kept raw for the
decision policy to interpret. Unknown keys are an error so typos do not go unnoticed.

Environment variables are `OMNIOFFER_<FIELD>` (e.g. OMNIOFFER_PORT=8080,
OMNIOFFER_CHANNELS=web,app, OMNIOFFER_STORE_URL= for "embedded store",
OMNIOFFER_POLICY='{"daily_cap": 3}' as a JSON object). OMNIOFFER_CONFIG names the TOML
file when `load_settings` is not given one. `settings_to_env` writes the same
variables, which is how the server hands its settings to uvicorn worker processes.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from omnioffer.contracts.schema import DEFAULT_CHANNELS
from omnioffer.errors import UsageError

ENV_PREFIX = "OMNIOFFER_"
CONFIG_ENV = "OMNIOFFER_CONFIG"

LogLevel = Literal["critical", "error", "warning", "info", "debug", "trace"]
Channel = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[^,\s]+$")]
NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]
# a browser origin: scheme://host[:port], nothing after it (no path, no "*")
Origin = Annotated[str, msgspec.Meta(pattern=r"^https?://[^/\s*,]+$", max_length=255)]


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Everything the online service is configured with (the CLI, app and workers share it)."""

    host: NonEmpty = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=0, le=65_535)] = 8000
    workers: Annotated[int, msgspec.Meta(ge=1, le=256)] = 1
    store_url: NonEmpty | None = None  # None: the embedded default store
    # API keys (omnioffer keys create); None: no key checked (refused off loopback)
    keys_file: NonEmpty | None = None
    # Redis password kept out of the URL (the URL's own wins); never printed
    store_password: NonEmpty | None = None
    store_password_file: NonEmpty | None = None  # its first line is the password
    models_dir: NonEmpty = "models"
    channels: Annotated[tuple[Channel, ...], msgspec.Meta(min_length=1)] = DEFAULT_CHANNELS
    store_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=60)] = 0.25
    # events stamped more than this after the service clock are refused (422)
    max_clock_skew_s: Annotated[float, msgspec.Meta(ge=0, le=86_400)] = 300.0
    model_poll_s: Annotated[float, msgspec.Meta(gt=0, le=3_600)] = 0.5
    # Redis: keep about this many newest event-log entries, exported or not (None:
    # all, until `export-events --trim` deletes what it exported).
    event_log_max_len: Annotated[int, msgspec.Meta(ge=1)] | None = None
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1_024)] = 2_000_000
    # request headers larger than this in all (names + values) are refused (431)
    max_header_bytes: Annotated[int, msgspec.Meta(ge=1_024, le=1_048_576)] = 16_384
    # token bucket per API key (per client address without a keys file), per worker:
    # requests per second and the burst (None: one second's worth); None or 0: off
    rate_limit_per_s: Annotated[float, msgspec.Meta(ge=0, le=1_000_000)] | None = None
    rate_limit_burst: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] | None = None
    # browser origins allowed to call the API (CORS); empty: no CORS answer at all
    cors_origins: tuple[Origin, ...] = ()
    log_level: LogLevel = "info"
    # one JSON object per line (for collectors), or the human format; auto: human on a
    # terminal, JSON otherwise
    log_format: Literal["auto", "json", "human"] = "auto"
    # Replay clock: serve as if it were this instant (ISO 8601), e.g. to demo or
    # backtest on historical data; None = the wall clock. "moving": it starts at
    # as_of when the worker starts and advances with wall time (sticky_minutes and
    # every window expire as they would live); "frozen": it stays at as_of (for
    # reproducible runs; stickiness then ends only by sticky_min_share or an event).
    as_of: NonEmpty | None = None
    replay_clock: Literal["moving", "frozen"] = "moving"
    policy: dict[str, Any] = {}
    # the experiments TOML file (docs/experiments.md): seeds the store's definitions at
    # startup when it differs from them; None: the store's (edited by the admin API)
    experiments_file: NonEmpty | None = None


_FIELD_TYPES: dict[str, Any] = {f.name: f.type for f in msgspec.structs.fields(Settings)}


def env_name(field: str) -> str:
    """The environment variable that sets `field`."""
    return ENV_PREFIX + field.upper()


def load_settings(
    toml_path: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Merge the sources; overrides (CLI flags) win, None values in them mean "not given".

    Raises UsageError naming the offending key, variable or flag (and the file).
    """
    env = os.environ if env is None else env
    path = toml_path if toml_path is not None else _config_path(env)
    values: dict[str, Any] = {}
    if path is not None:
        values.update(_from_toml(path))
    values.update(_from_env(env))
    values.update(_from_overrides(overrides or {}))
    return Settings(**values)


def settings_to_env(settings: Settings) -> dict[str, str]:
    """The OMNIOFFER_* variables that make `load_settings()` rebuild `settings` exactly."""
    return {env_name(name): _env_text(getattr(settings, name)) for name in _FIELD_TYPES}


def _config_path(env: Mapping[str, str]) -> Path | None:
    raw = env.get(CONFIG_ENV, "").strip()
    return Path(raw) if raw else None


def _from_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            table = tomllib.load(handle)
    except OSError as exc:
        raise UsageError(f"cannot read settings file {path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"settings file {path} is not valid TOML: {exc}") from exc
    values: dict[str, Any] = {}
    for key, raw in table.items():
        where = f"key {key!r} in {path}"
        if key not in _FIELD_TYPES:
            known = ", ".join(sorted(_FIELD_TYPES))
            raise UsageError(f"unknown {where} (known keys: {known})")
        values[key] = _convert(key, raw, where, strict=True)
    return values


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in _FIELD_TYPES:
        var = env_name(name)
        if var in env:
            where = f"environment variable {var}"
            values[name] = _convert(name, _parse_text(name, env[var], where), where, strict=False)
    return values


def _from_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, raw in overrides.items():
        where = f"option {name!r}"
        if name not in _FIELD_TYPES:
            raise UsageError(f"unknown {where}")
        if raw is None:
            continue
        value = _parse_text(name, raw, where) if isinstance(raw, str) else raw
        values[name] = _convert(name, value, where, strict=False)
    return values


def _split_list(text: str, where: str) -> Any:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _json_object(text: str, where: str) -> Any:
    try:
        return msgspec.json.decode(text)
    except msgspec.DecodeError as exc:
        raise UsageError(f"{where}: expected a JSON object ({exc})") from exc


def _optional(text: str, where: str) -> Any:
    return text.strip() or None


_TEXT_PARSERS: dict[str, Callable[[str, str], Any]] = {
    "channels": _split_list,
    "policy": _json_object,
    "store_url": _optional,
    "keys_file": _optional,
    "store_password": _optional,
    "store_password_file": _optional,
    "as_of": _optional,
    "experiments_file": _optional,
    "event_log_max_len": _optional,
    "rate_limit_per_s": _optional,
    "rate_limit_burst": _optional,
    "cors_origins": _split_list,
}


def _parse_text(name: str, text: str, where: str) -> Any:
    """Text (environment, flags) to the shape the field's type expects."""
    parser = _TEXT_PARSERS.get(name)
    return parser(text, where) if parser else text.strip()


def _convert(name: str, raw: Any, where: str, *, strict: bool) -> Any:
    """Validate one value against its field type; strict=False lets "8000" be an int."""
    if name == "log_level" and isinstance(raw, str):
        raw = raw.lower()
    try:
        return msgspec.convert(raw, _FIELD_TYPES[name], strict=strict)
    except msgspec.ValidationError as exc:
        shown = repr(raw) if len(repr(raw)) <= 80 else repr(raw)[:77] + "..."
        if name == "store_password":
            shown = "***"  # a secret is never echoed, even when it is malformed
        raise UsageError(f"{where}: {exc} (got {shown})") from exc


def _env_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return ",".join(value)
    if isinstance(value, dict):
        return msgspec.json.encode(value).decode()
    return repr(value) if isinstance(value, float) else str(value)
