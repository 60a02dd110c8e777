"""API keys: a JSON file of hashed keys with scopes, and the check of a presented key.

A key reads `oo_<id>_<secret>`. The file keeps, per id, a name, the SHA-256 of the
secret (never the secret: `omnioffer keys create` shows it once), the scopes, the
channels it is limited to (empty: all) and when it was created or revoked. A secret is
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
        return cls(path, keys)

    def write(self) -> None:
        body = {"format": 1, "keys": [asdict(k) for k in self.keys.values()]}
        temp = self.path.with_name(f".{self.path.name}.tmp")
        temp.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
        temp.chmod(0o600)
        temp.replace(self.path)

    def create(self, name: str, scopes: Sequence[str], channels: Sequence[str] = ()) -> str:
        """Add a key; returns the whole key, which is not kept anywhere."""
        bad = sorted(set(scopes) - set(SCOPES))
        if not scopes or bad:
            raise UsageError(f"--scopes: expected some of {', '.join(SCOPES)}, got {bad or '[]'}")
        key_id, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
        self.keys[key_id] = ApiKey(key_id, name, _digest(secret), tuple(scopes), tuple(channels),
                                   _now())  # fmt: skip
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


def _key(raw: dict[str, Any]) -> ApiKey:
    return ApiKey(str(raw["key_id"]), str(raw["name"]), str(raw["digest"]),
                  tuple(raw["scopes"]), tuple(raw.get("channels", ())),
                  str(raw.get("created_at", "")), raw.get("revoked_at"))  # fmt: skip


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
