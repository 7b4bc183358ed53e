"""Failure counting for person-facing forms: per key, per window, kept in the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from aauth.ratelimit import FailureLimiter, Throttle
from aauth.store import SQLiteStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_counts_survive_a_restart_and_namespaces_are_apart(tmp_path: Path) -> None:
    clock = Clock()
    store = SQLiteStore(tmp_path / "limits.db", clock=clock)
    limiter = FailureLimiter(store, "login", limit=3, window=60, clock=clock)
    assert not limiter.blocked("ip:1")
    assert [limiter.fail("ip:1") for _ in range(3)] == [False, False, True]
    assert limiter.blocked("ip:1")
    assert not limiter.blocked("ip:2")
    restarted = FailureLimiter(
        SQLiteStore(tmp_path / "limits.db", clock=clock), "login", limit=3, window=60, clock=clock
    )
    assert restarted.blocked("ip:1")  # counts survive a restart
    assert not FailureLimiter(store, "code", limit=3, window=60, clock=clock).blocked("ip:1")
    clock.now += 1
    assert not limiter.blocked("ip:1")  # the first wait (1 s) is over


def test_a_limit_of_one_blocks_at_once() -> None:
    limiter = FailureLimiter(SQLiteStore(), "x", limit=1, window=10)
    assert limiter.fail("k")
    assert limiter.blocked("k")


@pytest.mark.parametrize(("limit", "window", "backoff"), [(0, 10, 1), (1, 0, 1), (1, 10, 0)])
def test_bad_settings(limit: int, window: float, backoff: float) -> None:
    with pytest.raises(ValueError):
        FailureLimiter(SQLiteStore(), "x", limit=limit, window=window, backoff=backoff)


def test_backoff_doubles_after_the_limit_up_to_the_cap() -> None:
    clock = Clock()
    limiter = FailureLimiter(
        SQLiteStore(clock=clock),
        "login",
        limit=3,
        window=3600,
        backoff=1,
        max_delay=8,
        clock=clock,
    )
    assert [limiter.fail("k") for _ in range(2)] == [False, False]
    assert limiter.retry_after("k") is None  # under the limit: no wait at all
    waits = []
    for _ in range(6):
        assert limiter.fail("k")
        waits.append(limiter.retry_after("k"))
        clock.now += waits[-1] or 0
        assert not limiter.blocked("k")  # the wait has passed
    assert waits == [1, 2, 4, 8, 8, 8]


def test_backoff_forgets_a_window_after_the_last_failure() -> None:
    clock = Clock()
    limiter = FailureLimiter(
        SQLiteStore(clock=clock), "x", limit=1, window=100, backoff=1, clock=clock
    )
    limiter.fail("k")
    limiter.fail("k")
    assert limiter.retry_after("k") == 2
    clock.now += 101
    assert limiter.fail("k")
    assert limiter.retry_after("k") == 1  # counted from one again


def test_clear_forgets_a_key() -> None:
    limiter = FailureLimiter(SQLiteStore(), "x", limit=1, window=10, backoff=5)
    limiter.fail("k")
    assert limiter.blocked("k")
    limiter.clear("k")
    assert not limiter.blocked("k")


def test_throttle_waits_for_the_slowest_key_and_counts_every_key() -> None:
    clock = Clock()
    store = SQLiteStore(clock=clock)
    fast = FailureLimiter(store, "a", limit=1, window=60, backoff=1, clock=clock)
    slow = FailureLimiter(store, "b", limit=1, window=60, backoff=10, clock=clock)
    throttle = Throttle(fast=fast, slow=slow)
    assert throttle.retry_after(fast="x", slow="y") is None
    throttle.fail(fast="x", slow="y")
    assert throttle.retry_after(fast="x", slow="y") == 10
    assert throttle.retry_after(fast="x", slow="other") == 1
    throttle.clear("slow", "y")
    assert throttle.retry_after(fast="other", slow="y") is None
    with pytest.raises(TypeError, match="expected keys"):
        throttle.retry_after(fast="x")
