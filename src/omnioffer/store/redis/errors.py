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


SECRET_QUERY = ("password",)  # query options that carry a secret (redis-py reads them)


def redact_url(url: str) -> str:
    """The URL for messages and logs: never print a password, whether it is in the
    netloc (`redis://:pw@h`, `redis://user:pw@h`) or a query option (`?password=pw`)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        netloc = f"{parts.username or ''}:***@{host}"
    query = "&".join(
        f"{key}=***" if key.lower() in SECRET_QUERY else f"{key}={value}" if sep else key
        for key, sep, value in (pair.partition("=") for pair in parts.query.split("&") if pair)
    )
    return urlunsplit(parts._replace(netloc=netloc, query=query))


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
