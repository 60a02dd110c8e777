"""The token bucket alone, on a clock the test moves: refill, Retry-After rounding, and
memory bounded under many callers."""

from __future__ import annotations

import pytest

from omnioffer.api.rate_limit import Limit, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_limit_of_settings() -> None:
    assert Limit.of(None, None) is None and Limit.of(0, 5) is None  # off
    assert Limit.of(2.5, None) == Limit(2.5, 3)  # default burst: one second's worth
    assert Limit.of(0.1, None) == Limit(0.1, 1)
    assert Limit.of(10, 40) == Limit(10, 40)


def test_a_bucket_refills_at_its_rate_up_to_its_burst() -> None:
    clock, limit = Clock(), Limit(rate=2.0, burst=3)
    limiter = RateLimiter(monotonic=clock)
    assert [limiter.admit("k", limit) for _ in range(4)] == [None, None, None, 1]
    clock.now += 0.5  # one token back
    assert [limiter.admit("k", limit) for _ in range(2)] == [None, 1]
    clock.now += 100  # a long idle time fills it to the burst, not beyond
    assert [limiter.admit("k", limit) for _ in range(4)] == [None, None, None, 1]
    clock.now -= 10  # a clock that went back never adds tokens, never crashes
    assert limiter.admit("k", limit) == 1


@pytest.mark.parametrize(("rate", "wait"), [(0.5, 2), (0.3, 4), (3.0, 1), (0.01, 100)])
def test_retry_after_is_the_whole_seconds_until_a_token(rate: float, wait: int) -> None:
    limiter = RateLimiter(monotonic=Clock())
    limit = Limit(rate=rate, burst=1)
    assert limiter.admit("k", limit) is None
    assert limiter.admit("k", limit) == wait


def test_callers_are_independent_and_memory_stays_bounded() -> None:
    clock, limit = Clock(), Limit(rate=1.0, burst=1)
    churned = RateLimiter(monotonic=clock, max_buckets=100)
    for n in range(1_000):  # an address churn: every caller new, none idle yet
        assert churned.admit(f"addr:{n}", limit) is None
        assert len(churned) <= 100
    assert churned.admit("addr:999", limit) == 1  # the newest callers are still known
    idle = RateLimiter(monotonic=clock, max_buckets=100)
    for n in range(100):
        assert idle.admit(f"addr:{n}", limit) is None
    assert idle.admit("addr:0", limit) == 1  # spent: known, not forgotten
    clock.now += 1.0  # every bucket is full again: all of them are dropped for the next
    assert idle.admit("addr:new", limit) is None
    assert len(idle) == 1
