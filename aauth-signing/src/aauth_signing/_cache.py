"""A bounded memo for pure functions of header text (V-25: every cache has a size limit)."""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

__all__ = ["BoundedCache"]

K = TypeVar("K")
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """At most ``size`` entries; the oldest goes first. Values must be immutable.

    Only for results that are a pure function of the key, so a hit can never differ from a
    recomputation; a flood of distinct keys costs speed, never memory or correctness.
    Lookups take no lock (a dict read is atomic); insertions do, so threads never race on
    the eviction.
    """

    __slots__ = ("_entries", "_lock", "_size", "get")

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: dict[K, V] = {}
        self._lock = threading.Lock()
        self.get = self._entries.get

    def put(self, key: K, value: V) -> None:
        with self._lock:
            entries = self._entries
            if len(entries) >= self._size and key not in entries:
                del entries[next(iter(entries))]
            entries[key] = value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()  # in place: ``get`` is bound to this dict

    def __len__(self) -> int:
        return len(self._entries)
