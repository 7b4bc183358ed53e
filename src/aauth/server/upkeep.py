"""What a stateful participant does while it runs: purge expired records now and then, and
close what it opened when it stops."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from starlette.applications import Starlette

from ..discovery import Discovery
from ..store.base import Store, StoreUnavailable

__all__ = ["PURGE_INTERVAL", "upkeep"]

PURGE_INTERVAL = 600.0
"""Expired records (sessions, failure counts, replay entries, old requests) are removed this
often, so the store stays bounded however many requests arrive."""


def upkeep(
    store: Store, discovery: Discovery | None, *, close_store: bool
) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """A Starlette ``lifespan``: purge ``store`` every :data:`PURGE_INTERVAL` while running (a
    store that is briefly unavailable is purged next time); on shutdown close ``discovery``
    and, with ``close_store``, the store."""

    async def purge() -> None:
        while True:
            with contextlib.suppress(StoreUnavailable):
                store.purge_expired()
            await asyncio.sleep(PURGE_INTERVAL)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        purging = asyncio.create_task(purge())
        try:
            yield
        finally:
            purging.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await purging
            if discovery is not None:
                await discovery.aclose()
                discovery.close()
            if close_store:
                store.close()

    return lifespan
