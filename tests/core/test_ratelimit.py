"""Token buckets: bursts, refill, waits, unlimited, bounded memory."""

from __future__ import annotations

import pytest

from rapport.core.ratelimit import RateLimiter


@pytest.fixture
def clock() -> list[float]:
    return [1000.0]


def test_a_burst_is_granted_then_refused_until_it_refills(clock: list[float]) -> None:
    limiter = RateLimiter(rate=10, burst=20, clock=lambda: clock[0])
    assert limiter.take("source", 20) == 0
    assert limiter.take("source", 5) == 1  # 5 tokens at 10/s: half a second, said as 1 s
    assert limiter.wait("source") == 1
    clock[0] += 0.5
    assert limiter.wait("source") == 0
    assert limiter.take("source", 5) == 0
    assert limiter.take("source", 1) == 1


def test_keys_are_independent_and_a_refused_take_costs_nothing(clock: list[float]) -> None:
    limiter = RateLimiter(rate=1, burst=3, clock=lambda: clock[0])
    assert limiter.take("a", 3) == 0
    assert limiter.take("a", 2) == 2
    assert limiter.take("b", 3) == 0
    clock[0] += 2
    assert limiter.take("a", 2) == 0  # the refused take above did not spend the refill


def test_a_bucket_never_holds_more_than_its_burst(clock: list[float]) -> None:
    limiter = RateLimiter(rate=100, burst=10, clock=lambda: clock[0])
    limiter.take("a", 1)
    clock[0] += 3600
    assert limiter.take("a", 11) == 1


def test_rate_zero_means_no_limit() -> None:
    limiter = RateLimiter(rate=0, burst=0)
    assert limiter.take("a", 1_000_000) == 0
    assert limiter.wait("a") == 0


def test_memory_is_bounded_by_forgetting_the_least_recently_used(clock: list[float]) -> None:
    limiter = RateLimiter(rate=1, burst=1, max_keys=2, clock=lambda: clock[0])
    limiter.take("a")
    limiter.take("b")
    clock[0] += 1
    assert limiter.take("a") == 0  # "a" is now the most recently used
    limiter.take("c")
    assert sorted(limiter._buckets) == ["a", "c"]
    assert limiter.take("b") == 0  # forgotten: a full bucket again


def test_tokens_given_back_are_there_again_but_never_beyond_the_burst(clock: list[float]) -> None:
    limiter = RateLimiter(rate=1, burst=10, clock=lambda: clock[0])
    assert limiter.take("a", 10) == 0
    limiter.give_back("a", 4)
    assert limiter.take("a", 4) == 0
    limiter.give_back("a", 100)
    assert limiter.take("a", 11) == 1
