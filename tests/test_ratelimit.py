"""Failure counting for person-facing forms: per key, per window, kept in the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from aauth.ratelimit import FailureLimiter
from aauth.store import SQLiteStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_blocks_after_the_limit_until_the_window_ends(tmp_path: Path) -> None:
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
    clock.now += 61
    assert not limiter.blocked("ip:1")


def test_a_limit_of_one_blocks_at_once() -> None:
    limiter = FailureLimiter(SQLiteStore(), "x", limit=1, window=10)
    assert limiter.fail("k")
    assert limiter.blocked("k")


@pytest.mark.parametrize(("limit", "window"), [(0, 10), (1, 0)])
def test_bad_settings(limit: int, window: float) -> None:
    with pytest.raises(ValueError):
        FailureLimiter(SQLiteStore(), "x", limit=limit, window=window)
