"""The storage interface every participant uses.

Deliberately small: namespaced JSON records with a version number (for compare-and-set,
so two workers cannot both consume one interaction code) and an optional expiry. Anything
richer (pending requests, consents, replay entries) is built on top of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from ..errors import AAuthError
from .signal import LocalSignal

__all__ = ["Record", "Store", "StoreUnavailable"]


class StoreUnavailable(AAuthError):
    """The shared store cannot be reached: the client should retry shortly (503)."""

    code: ClassVar[str] = "temporarily_unavailable"
    status: ClassVar[int] = 503
    retry_after: ClassVar[int] = 2

    def response_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


@dataclass(frozen=True)
class Record:
    """A stored JSON object; ``version`` grows by one on every successful replace."""

    value: dict[str, Any]
    version: int
    expires_at: float | None


class Store(Protocol):
    """Namespaced, versioned JSON records. Expired records read as absent."""

    @property
    def signal(self) -> LocalSignal:
        """Wakes waiters when a record they watch changes (see :mod:`aauth.store.signal`)."""
        ...

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
