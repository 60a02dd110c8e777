"""Per-caller rate limits: a token bucket per API key (per client address without one).

Each bucket holds up to `burst` tokens and gains `rate` tokens a second; a request
takes one, and a request that finds less than one is refused with the whole seconds
until one will be there (`Retry-After`, at least 1). Buckets live in the worker's
memory, not in the store: a store round trip on every request would cost about as
much as the check protects (docs/benchmarks.md measures both), so with `--workers N`
a caller can get up to N times its limit when its connections land on different
workers (a keep-alive connection stays on one). The clock is injectable, so tests
count refusals exactly without sleeping.

A key's own `rate_per_s`/`burst` (keys file) win over the settings' default; a key
with rate 0 is never limited. Buckets of callers idle long enough to be full again
are dropped when there are more than `max_buckets` (a full bucket is a new one).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.exceptions import TooManyRequestsException

from omnioffer.api_keys import ApiKey

MAX_BUCKETS = 100_000
ADDRESS_LABEL = "address"  # the metrics label of refusals by client address


@dataclass(frozen=True, slots=True)
class Limit:
    rate: float  # tokens per second, > 0
    burst: int  # bucket size, >= 1

    @classmethod
    def of(cls, rate: float | None, burst: int | None) -> Limit | None:
        """The limit settings describe; None when `rate` is None or 0 (no limit)."""
        if not rate:
            return None
        return cls(rate, burst if burst is not None else max(1, math.ceil(rate)))


class _Bucket:
    __slots__ = ("stamp", "tokens")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens, self.stamp = tokens, stamp


class RateLimiter:
    """One worker's buckets, by caller."""

    def __init__(
        self, *, monotonic: Callable[[], float] = time.monotonic, max_buckets: int = MAX_BUCKETS
    ) -> None:
        self._now, self._max = monotonic, max_buckets
        self._buckets: dict[str, _Bucket] = {}

    def admit(self, caller: str, limit: Limit) -> int | None:
        """Take a token from `caller`'s bucket: None if there was one, else the seconds
        (an integer >= 1) until there will be."""
        now = self._now()
        bucket = self._buckets.get(caller)
        if bucket is None:
            if len(self._buckets) >= self._max:
                self._forget_idle(now, limit)
            bucket = self._buckets[caller] = _Bucket(float(limit.burst), now)
        else:
            refill = (now - bucket.stamp) * limit.rate
            bucket.tokens = min(float(limit.burst), bucket.tokens + max(refill, 0.0))
            bucket.stamp = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return max(1, math.ceil((1.0 - bucket.tokens) / limit.rate))

    def _forget_idle(self, now: float, limit: Limit) -> None:
        """Drop the buckets that would be full by now (idle for burst/rate seconds);
        if none is, the oldest half, so memory stays bounded under any address churn."""
        full_after = limit.burst / limit.rate
        idle = [c for c, b in self._buckets.items() if now - b.stamp >= full_after]
        for caller in idle or list(self._buckets)[: len(self._buckets) // 2 + 1]:
            del self._buckets[caller]

    def __len__(self) -> int:
        return len(self._buckets)


class CallerLimits:
    """The app's check: which bucket a request draws from, under which limit.

    A request made with an API key draws from that key's bucket (the key's own limit,
    else `default`); any other request from its client address's (`default`). Behind
    a proxy every client has the proxy's address unless uvicorn is told to trust its
    X-Forwarded-For (its `forwarded_allow_ips`, 127.0.0.1 by default).
    """

    def __init__(
        self, default: Limit | None, limiter: RateLimiter, refused: Callable[[str], None]
    ) -> None:
        self.default, self.limiter, self._refused = default, limiter, refused

    def limit_of(self, key: ApiKey | None) -> Limit | None:
        if key is None or key.rate_per_s is None:
            return self.default
        return Limit.of(key.rate_per_s, key.burst)

    def check(self, request: Request[Any, Any, Any], key: ApiKey | None) -> None:
        """Raise 429 with Retry-After when the caller's bucket is empty."""
        limit = self.limit_of(key)
        if limit is None:
            return
        if key is not None:
            caller, label = f"key:{key.key_id}", key.key_id
        else:
            client = request.scope.get("client")
            caller, label = f"addr:{client[0] if client else '-'}", ADDRESS_LABEL
        wait = self.limiter.admit(caller, limit)
        if wait is None:
            return
        self._refused(label)
        who = f"key {key.key_id}" if key is not None else "this client address"
        raise TooManyRequestsException(
            f"{who} is limited to {limit.rate:g} requests/s (burst {limit.burst}); "
            f"retry in {wait} s",
            headers={"Retry-After": str(wait)},
        )
