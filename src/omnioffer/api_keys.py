"""API keys: a JSON file of hashed keys with scopes, and the check of a presented key.

A key reads `oo_<id>_<secret>`. The file keeps, per id, a name, the SHA-256 of the
secret (never the secret: `omnioffer keys create` shows it once), the scopes, the
channels it is limited to (empty: all), its own rate limit if it has one (requests per
second and burst; absent: the service's default, rate 0: none) and when it was
created or revoked. Files written before rate limits existed read the same. A secret is
32 random bytes, so a plain hash is enough (no password stretching), and it is
compared in constant time. Every worker re-reads the file when it changes (checked at
most every `poll_s`), so a revocation reaches them all without a restart. The file is
written whole, to a temp file renamed into place.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from omnioffer.errors import UsageError

SCOPES = ("decide", "recommend", "events", "feedback", "admin")
_LIMIT_FIELDS = ("rate_per_s", "burst")
PREFIX = "oo_"


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    name: str
    digest: str  # sha256 of the secret, hex
    scopes: tuple[str, ...]
    channels: tuple[str, ...] = ()  # empty: every channel
    created_at: str = ""
    revoked_at: str | None = None
    rate_per_s: float | None = None  # None: the service's default limit; 0: unlimited
    burst: int | None = None  # None: the default burst for the rate in force

    def allows_channel(self, channel: str) -> bool:
        return not self.channels or channel in self.channels


@dataclass
class KeyFile:
    """The keys of one file, as the CLI edits it."""

    path: Path
    keys: dict[str, ApiKey] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> KeyFile:
        if not path.exists():
            return cls(path)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            keys = {k["key_id"]: _key(k) for k in raw["keys"]}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UsageError(f"{path}: not an omnioffer keys file ({exc})") from None
        except UsageError as exc:
            raise UsageError(f"{path}: {exc}") from None
        return cls(path, keys)

    def write(self) -> None:
        body = {"format": 1, "keys": [_record(k) for k in self.keys.values()]}
        temp = self.path.with_name(f".{self.path.name}.tmp")
        temp.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
        temp.chmod(0o600)
        temp.replace(self.path)

    def create(
        self,
        name: str,
        scopes: Sequence[str],
        channels: Sequence[str] = (),
        *,
        rate_per_s: float | None = None,
        burst: int | None = None,
    ) -> str:
        """Add a key; returns the whole key, which is not kept anywhere."""
        bad = sorted(set(scopes) - set(SCOPES))
        if not scopes or bad:
            raise UsageError(f"--scopes: expected some of {', '.join(SCOPES)}, got {bad or '[]'}")
        _check_limit(rate_per_s, burst, "--rate", "--burst")
        key_id, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
        self.keys[key_id] = ApiKey(key_id, name, _digest(secret), tuple(scopes), tuple(channels),
                                   _now(), rate_per_s=rate_per_s, burst=burst)  # fmt: skip
        return f"{PREFIX}{key_id}_{secret}"

    def revoke(self, key_id: str) -> None:
        key = self.keys.get(key_id)
        if key is None:
            raise UsageError(f"no key {key_id!r} in {self.path}")
        self.keys[key_id] = ApiKey(**{**asdict(key), "revoked_at": _now()})


class KeyRing:
    """One worker's keys, re-read from the file when it changed."""

    def __init__(
        self, path: Path, *, poll_s: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.path, self.poll_s, self._tick = path, poll_s, monotonic
        self._checked = monotonic()
        self._stamp = _stamp(path)
        self._keys = KeyFile.read(path).keys

    def find(self, presented: str) -> ApiKey | None:
        """The live key `presented` is, or None (unknown, malformed, revoked, wrong)."""
        self._refresh()
        key_id, _, secret = presented.removeprefix(PREFIX).partition("_")
        key = self._keys.get(key_id) if presented.startswith(PREFIX) else None
        digest = _digest(secret)
        if key is None:  # compare anyway: the answer takes as long for any key id
            hmac.compare_digest(digest, digest)
            return None
        if not hmac.compare_digest(digest, key.digest) or key.revoked_at is not None:
            return None
        return key

    def _refresh(self) -> None:
        now = self._tick()
        if now - self._checked < self.poll_s:
            return
        self._checked = now
        stamp = _stamp(self.path)
        if stamp != self._stamp:
            try:
                self._keys = KeyFile.read(self.path).keys
            except UsageError:  # a half-edited file: keep the keys in force
                return
            self._stamp = stamp


def _record(key: ApiKey) -> dict[str, Any]:
    """A key as the file keeps it; no limit fields for a key on the default limit, so
    such a file reads the same as one written before rate limits existed."""
    return {k: v for k, v in asdict(key).items() if v is not None or k not in _LIMIT_FIELDS}


def _key(raw: dict[str, Any]) -> ApiKey:
    key_id = str(raw["key_id"])
    rate, burst = raw.get("rate_per_s"), raw.get("burst")
    _check_limit(rate, burst, f"key {key_id}: rate_per_s", f"key {key_id}: burst")
    return ApiKey(key_id, str(raw["name"]), str(raw["digest"]),
                  tuple(raw["scopes"]), tuple(raw.get("channels", ())),
                  str(raw.get("created_at", "")), raw.get("revoked_at"),
                  None if rate is None else float(rate), burst)  # fmt: skip


def _check_limit(rate: Any, burst: Any, rate_name: str, burst_name: str) -> None:
    """A key's own limit: a rate >= 0 (0: unlimited), a burst >= 1 only with a rate."""
    is_number = isinstance(rate, int | float) and not isinstance(rate, bool)
    if rate is not None and (not is_number or not 0 <= rate <= 1e6):
        raise UsageError(f"{rate_name}: expected requests per second in 0..1000000, got {rate!r}")
    if burst is None:
        return
    if not isinstance(burst, int) or isinstance(burst, bool) or not 1 <= burst <= 1_000_000:
        raise UsageError(f"{burst_name}: expected an integer in 1..1000000, got {burst!r}")
    if not rate:
        raise UsageError(f"{burst_name}: a burst needs a rate above 0 ({rate_name})")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
