"""Feature store: one protocol, two backends, chosen by URL in `open_store` alone.

- None, "sqlite:///abs/path.sqlite", "sqlite:rel/path.sqlite" or a plain path:
  EmbeddedStore (one SQLite file; None means ./omnioffer-store.sqlite);
- "redis://..." or "rediss://...": RedisStore.

`base` holds the protocol and its records, `checks` what both backends refuse, and
`redis/` and `sqlite/` one backend each.
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
    StoreOptions,
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
    "StoreOptions",
    "StoreUnavailable",
    "StoredEvent",
    "VersionInfo",
    "VersionState",
    "describe_store",
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


def describe_store(url: str | None) -> str:
    """The store a URL names, for messages: the embedded file's absolute path, or the
    Redis URL without its password."""
    if url is not None and urlsplit(url).scheme.lower() in ("redis", "rediss"):
        from omnioffer.store.redis.errors import redact_url

        return f"the Redis store {redact_url(url)}"
    path = Path(DEFAULT_EMBEDDED_PATH) if url is None else sqlite_path(url)
    return f"the embedded store {path.resolve()}"


def open_store(url: str | None, options: StoreOptions | None = None) -> FeatureStore:
    """The backend a URL names; StoreError names the scheme when none fits."""
    options = options or StoreOptions()
    if url is None:
        return _embedded(Path(DEFAULT_EMBEDDED_PATH), options)
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("redis", "rediss"):
        return _redis(url, options)
    if scheme in {"sqlite", ""} or len(scheme) == 1:  # "C:\\..." is a path
        return _embedded(sqlite_path(url), options)
    raise StoreError(
        f"unsupported store URL scheme {scheme!r}: use redis://, rediss://, sqlite:/// or a path"
    )


def _redis(url: str, options: StoreOptions) -> FeatureStore:
    from omnioffer.store.password import with_password
    from omnioffer.store.redis import RedisStore

    url = with_password(url, options.password)
    limits, log_max_len, timeout = options.limits, options.log_max_len, options.timeout_s
    if timeout is None:
        return RedisStore(url, limits=limits, log_max_len=log_max_len)
    return RedisStore(url, limits=limits, log_max_len=log_max_len,
                      socket_timeout=timeout, socket_connect_timeout=timeout)  # fmt: skip


def _embedded(path: Path, options: StoreOptions) -> FeatureStore:
    """The Redis-only options (timeout, event-log bound) do not apply to a SQLite file."""
    from omnioffer.store.sqlite import EmbeddedStore

    return EmbeddedStore(path, limits=options.limits)
