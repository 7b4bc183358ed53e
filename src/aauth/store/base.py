"""The storage interface every participant uses.

Deliberately small: namespaced JSON records with a version number (for compare-and-set,
so two workers cannot both consume one interaction code) and an optional expiry. Anything
richer (pending requests, consents, replay entries) is built on top of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Record", "Store"]


@dataclass(frozen=True)
class Record:
    """A stored JSON object; ``version`` grows by one on every successful replace."""

    value: dict[str, Any]
    version: int
    expires_at: float | None


class Store(Protocol):
    """Namespaced, versioned JSON records. Expired records read as absent."""

    def get(self, namespace: str, key: str) -> Record | None: ...

    def create(
        self, namespace: str, key: str, value: dict[str, Any], expires_at: float | None
    ) -> bool:
        """Insert when absent (or expired); False when a live record already exists."""
        ...

    def replace(
        self,
        namespace: str,
        key: str,
        value: dict[str, Any],
        expected_version: int,
        expires_at: float | None,
    ) -> bool:
        """Overwrite only if the stored version is ``expected_version``; False otherwise."""
        ...

    def delete(self, namespace: str, key: str) -> None: ...

    def purge_expired(self) -> int:
        """Remove expired records; returns how many were removed."""
        ...

    def close(self) -> None: ...
