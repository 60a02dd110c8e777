"""How Redis failures reach callers: two store exceptions, and never a password.

Callers degrade on StoreUnavailable and treat StoreError as a bug, so every Redis
exception is sorted into one of the two here, in one place.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

from redis.exceptions import (
    BusyLoadingError,
    ClusterDownError,
    OutOfMemoryError,
    ReadOnlyError,
    RedisError,
    ResponseError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from omnioffer.store.base import StoreError, StoreUnavailable

UNAVAILABLE: tuple[type[BaseException], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    BusyLoadingError,
    ReadOnlyError,
    OutOfMemoryError,
    ClusterDownError,
    TryAgainError,
    OSError,
    EOFError,
    TimeoutError,
)


def redact_url(url: str) -> str:
    """The URL for messages and logs: never print a password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


@asynccontextmanager
async def translate_errors(url: str, what: str) -> AsyncIterator[None]:
    """Translate every Redis failure during `what` into the store's two exception types.

    `url` must already be redacted: it goes into the messages.
    """
    try:
        yield
    except UNAVAILABLE as exc:
        msg = f"redis at {url} unavailable during {what}: {exc or type(exc).__name__}"
        raise StoreUnavailable(msg) from exc
    except ResponseError as exc:
        if str(exc).startswith(("MISCONF", "BUSY")):
            raise StoreUnavailable(f"redis at {url} refused {what}: {exc}") from exc
        raise StoreError(f"redis at {url} rejected {what}: {exc}") from exc
    except RedisError as exc:
        raise StoreError(f"redis at {url} failed {what}: {exc}") from exc
