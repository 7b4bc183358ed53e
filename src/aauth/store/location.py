"""Where a participant keeps its state, named by one string: the ``store`` setting, the
``--store`` flag and the ``AAUTH_STORE`` environment variable all take the same forms.

- ``redis://host:port/db`` (or ``rediss://``, ``unix://``): Redis, shared by instances;
- ``sqlite:///path/to/file.db``, or just a path: one SQLite file (the default);
- ``:memory:``: nothing kept past the process.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .base import Store

__all__ = ["STORE_ENV", "is_shared", "open_store"]

STORE_ENV = "AAUTH_STORE"
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def is_shared(location: str) -> bool:
    """Whether ``location`` names a store several processes can share safely (Redis)."""
    return location.startswith(_REDIS_SCHEMES)


def sqlite_path(location: str) -> str:
    """The file a SQLite ``location`` names (``sqlite:///x.db`` → ``/x.db``)."""
    return location.removeprefix("sqlite://") if location.startswith("sqlite://") else location


def open_store(location: str, *, clock: Callable[[], float] = time.time) -> Store:
    """The store at ``location``; a Redis that cannot be reached raises StoreUnavailable
    now, before the participant starts listening."""
    if is_shared(location):
        try:
            from .redis import RedisStore
        except ImportError:  # pragma: no cover - depends on the installed extras
            raise ValueError(
                "a redis:// store needs the redis extra: pip install 'aauth[redis]'"
            ) from None
        return RedisStore.from_url(location, clock=clock)
    from .sqlite import SQLiteStore

    return SQLiteStore(sqlite_path(location), clock=clock)
