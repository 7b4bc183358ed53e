"""Counting failures per key, kept in a :class:`~aauth.store.Store`, with optional backoff.

Person-facing forms guess at secrets (passwords, interaction codes); every wrong guess is
counted against the keys it came from (the client address, the account, the session), and a
key over its limit is refused for a while (protocol-10 §F.5, §H.5). The counts live in the
store, so a restart does not reset them.

The refusal is exponential backoff, not a lockout: once a key has ``limit`` failures, each
failure refuses it for ``backoff`` seconds, then twice that, … up to ``max_delay``, and the
count is forgotten ``window`` seconds after the last failure. Backoff slows a guesser without
shutting anyone out for long, which is what keeps an account's owner able to sign in while
someone else guesses at it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .store.base import Store

__all__ = ["FailureLimiter", "Throttle"]


class FailureLimiter:
    """At most ``limit`` failures per key before it is refused; see the module docstring.

    >>> limiter = FailureLimiter(SQLiteStore(), "login", limit=5, window=300)  # doctest: +SKIP
    >>> limiter.blocked("ip:127.0.0.1")  # doctest: +SKIP
    False
    """

    def __init__(
        self,
        store: Store,
        namespace: str,
        *,
        limit: int,
        window: float,
        backoff: float = 1.0,
        max_delay: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if limit < 1 or window <= 0 or backoff <= 0:
            raise ValueError("limit must be >= 1, window > 0 and backoff > 0")
        self._store = store
        self._ns = f"limit:{namespace}"
        self._limit = limit
        self._window = window
        self._backoff = backoff
        self._max_delay = window if max_delay is None else max_delay
        self._clock = clock

    def retry_after(self, key: str) -> float | None:
        """Seconds until ``key`` may try again, or None when it may now."""
        record = self._store.get(self._ns, key)
        if record is None or int(record.value["failures"]) < self._limit:
            return None
        remaining = float(record.value["until"]) - self._clock()
        return remaining if remaining > 0 else None

    def blocked(self, key: str) -> bool:
        """Whether ``key`` must wait before its next attempt."""
        return self.retry_after(key) is not None

    def fail(self, key: str) -> bool:
        """Count one failure for ``key``; True when that leaves it blocked."""
        for _ in range(16):
            record = self._store.get(self._ns, key)
            failures = 1 if record is None else int(record.value["failures"]) + 1
            value, expires_at = self._after(failures)
            if record is None:
                stored = self._store.create(self._ns, key, value, expires_at)
            else:
                stored = self._store.replace(self._ns, key, value, record.version, expires_at)
            if stored:
                return failures >= self._limit
        return True

    def clear(self, key: str) -> None:
        """Forget ``key``'s failures (e.g. the pair of account and address that just signed
        in)."""
        self._store.delete(self._ns, key)

    def _after(self, failures: int) -> tuple[dict[str, float], float]:
        """The stored value and expiry after the ``failures``-th failure."""
        now = self._clock()
        until = now
        if failures >= self._limit:
            exponent = min(failures - self._limit, 62)
            until = now + min(self._backoff * 2.0**exponent, self._max_delay)
        return {"failures": failures, "until": until}, max(until, now + self._window)


class Throttle:
    """Named limiters consulted together: an attempt waits while any of its keys is blocked,
    and a failure counts against every key.

    >>> throttle = Throttle(client=by_client, account=by_account)  # doctest: +SKIP
    >>> throttle.retry_after(client="203.0.113.7", account="alice")  # doctest: +SKIP
    """

    def __init__(self, **limiters: FailureLimiter) -> None:
        self._limiters = limiters

    def _pairs(self, keys: dict[str, str]) -> list[tuple[FailureLimiter, str]]:
        if set(keys) != set(self._limiters):
            raise TypeError(f"expected keys {sorted(self._limiters)}")
        return [(self._limiters[name], key) for name, key in keys.items()]

    def retry_after(self, **keys: str) -> float | None:
        """The longest wait any of ``keys`` must observe, or None."""
        waits = [w for limiter, key in self._pairs(keys) if (w := limiter.retry_after(key))]
        return max(waits) if waits else None

    def fail(self, **keys: str) -> None:
        for limiter, key in self._pairs(keys):
            limiter.fail(key)

    def clear(self, name: str, key: str) -> None:
        """Forget the failures of one key of one limiter."""
        self._limiters[name].clear(key)
