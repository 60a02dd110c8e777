"""Feature store: one protocol, two backends, chosen by URL.

- None, "sqlite:///abs/path.sqlite", "sqlite:rel/path.sqlite" or a plain path:
  EmbeddedStore (one SQLite file; None means ./omnioffer-store.sqlite);
- "redis://..." or "rediss://...": RedisStore.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from omnioffer.store.base import (
    CustomerRecord,
    FeatureStore,
    IdentityLink,
    IngestResult,
    StoredEvent,
    StoreError,
    StoreLimits,
    StoreUnavailable,
    VersionInfo,
    VersionState,
)

DEFAULT_EMBEDDED_PATH = "omnioffer-store.sqlite"

__all__ = [
    "DEFAULT_EMBEDDED_PATH",
    "CustomerRecord",
    "FeatureStore",
    "IdentityLink",
    "IngestResult",
    "StoreError",
    "StoreLimits",
    "StoreUnavailable",
    "StoredEvent",
    "VersionInfo",
    "VersionState",
    "open_store",
    "sqlite_path",
]


def sqlite_path(url: str) -> Path:
    """The file of an embedded-store URL; "sqlite:///x" is absolute like file:///x."""
    if url.startswith("sqlite://"):
        rest = url.removeprefix("sqlite://")
        if rest.startswith("//"):  # tolerate SQLAlchemy's four-slash absolute form
            rest = rest[1:]
        if not rest.startswith("/"):
            raise StoreError(f"sqlite URL {url!r} has a host part; use sqlite:///abs/path")
        return Path(rest)
    if url.startswith("sqlite:"):
        return Path(url.removeprefix("sqlite:"))
    return Path(url)


def open_store(url: str | None, *, limits: StoreLimits | None = None) -> FeatureStore:
    """The backend a URL names; StoreError names the scheme when none fits."""
    if url is None:
        return _embedded(Path(DEFAULT_EMBEDDED_PATH), limits)
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("redis", "rediss"):
        from omnioffer.store.redis_store import RedisStore

        return RedisStore(url, limits=limits)
    if scheme in {"sqlite", ""} or len(scheme) == 1:  # "C:\\..." is a path
        return _embedded(sqlite_path(url), limits)
    raise StoreError(
        f"unsupported store URL scheme {scheme!r}: use redis://, rediss://, sqlite:/// or a path"
    )


def _embedded(path: Path, limits: StoreLimits | None) -> FeatureStore:
    from omnioffer.store.embedded import EmbeddedStore

    return EmbeddedStore(path, limits=limits)
