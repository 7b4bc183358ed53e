"""Read-modify-write on one record, safe across workers and instances (compare-and-set).

Every participant that appends to a log, merges into a list or bumps a counter does the same
loop: read the record, compute the new value, create it when absent or replace it only if
its version is still the one read, and start again when another writer got there first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .base import Store, StoreUnavailable

__all__ = ["StoreContention", "update_record"]

Value = dict[str, Any]


class StoreContention(StoreUnavailable):
    """A record kept changing under every attempt to update it: transient, like an outage
    (503 ``temporarily_unavailable`` with ``Retry-After``), so the client tries again."""


def update_record(
    store: Store,
    namespace: str,
    key: str,
    change: Callable[[Value | None], Value | None],
    expires_at: float | Callable[[Value], float | None] | None = None,
    *,
    attempts: int = 32,
) -> Value | None:
    """Store ``change(current value)`` (None when absent) and return it; ``change`` returning
    None leaves the record as it is and returns None. ``expires_at`` may be computed from the
    new value. Raises StoreContention after ``attempts`` lost races."""
    for _ in range(attempts):
        record = store.get(namespace, key)
        value = change(None if record is None else record.value)
        if value is None:
            return None
        expiry = expires_at(value) if callable(expires_at) else expires_at
        if record is None:
            if store.create(namespace, key, value, expiry):
                return value
        elif store.replace(namespace, key, value, record.version, expiry):
            return value
    raise StoreContention(f"{namespace} record {key!r} is under heavy contention; try again")
