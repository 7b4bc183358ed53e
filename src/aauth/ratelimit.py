"""Counting failures per key in a fixed window, kept in a :class:`~aauth.store.Store`.

Person-facing forms guess at secrets (passwords, interaction codes); every wrong guess is
counted against the client, session or account it came from, and once a key is over its
limit further attempts are refused until the window ends (protocol-10 §F.5, §H.5). The
counts live in the store, so a restart does not reset them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .store.base import Store

__all__ = ["FailureLimiter"]


class FailureLimiter:
    """At most ``limit`` failures per key in each ``window`` seconds.

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
        clock: Callable[[], float] = time.time,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        self._store = store
        self._ns = f"limit:{namespace}"
        self._limit = limit
        self._window = window
        self._clock = clock

    def blocked(self, key: str) -> bool:
        """Whether ``key`` has used up its failures for the current window."""
        record = self._store.get(self._ns, key)
        return record is not None and int(record.value["failures"]) >= self._limit

    def fail(self, key: str) -> bool:
        """Count one failure for ``key``; True when that leaves it blocked."""
        for _ in range(16):
            record = self._store.get(self._ns, key)
            if record is None:
                expires_at = self._clock() + self._window
                if self._store.create(self._ns, key, {"failures": 1}, expires_at):
                    return self._limit <= 1
                continue
            failures = int(record.value["failures"]) + 1
            if self._store.replace(
                self._ns, key, {"failures": failures}, record.version, record.expires_at
            ):
                return failures >= self._limit
        return True
