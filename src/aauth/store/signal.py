"""Wake-ups for waiters on stored state: the long poll of a pending URL sleeps until the
record it watches changes, and whoever writes the change publishes its topic.

:class:`LocalSignal` reaches waiters in this process only (enough for one SQLite-backed
instance); a shared store brings one that crosses processes (``RedisSignal``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

__all__ = ["LocalSignal"]


class LocalSignal:
    """Topic → the events of this process's waiters on it."""

    crosses_processes = False
    """Whether a publish in another process reaches this process's waiters."""

    def __init__(self) -> None:
        self._waiters: dict[str, set[asyncio.Event]] = {}

    def publish(self, topic: str) -> None:
        for event in tuple(self._waiters.get(topic, ())):
            event.set()

    def wake_all(self) -> None:
        """Wake every waiter (e.g. after a lost connection, so each re-reads the store)."""
        for topic in tuple(self._waiters):
            self.publish(topic)

    @contextlib.asynccontextmanager
    async def subscription(self, topic: str) -> AsyncIterator[asyncio.Event]:
        """An event set whenever ``topic`` is published while the block runs."""
        event = asyncio.Event()
        waiters = self._waiters.setdefault(topic, set())
        waiters.add(event)
        try:
            yield event
        finally:
            waiters.discard(event)
            if not waiters:
                self._waiters.pop(topic, None)
