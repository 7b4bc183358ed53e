"""Replay guard for signed requests (protocol-10 §C.7, §H.1): each signed request is accepted once.

The ``created`` window is the primary defence; a guard additionally remembers every accepted
request until it would fall out of that window, so a captured request cannot be resent
within it. The key (:func:`replay_key`) is the signing key's thumbprint and the SHA-256 of
the signature base, which already holds §C.7's ``created``, ``@method``, ``@authority`` and
``@path`` (and the ``nonce``, body digest and everything else covered). It never hashes the
signature value: ECDSA accepts both ``(r, s)`` and ``(r, n - s)`` for one base, so a key over
the signature bytes would let a rewritten copy pass as new (V-50). Two genuine identical
requests in one second share a base too; a signer keeps them apart with a ``nonce`` (the
agent's signer sends one on every unsafe method).

Implementations raise :class:`ReplayedSignature`, an ``invalid_signature`` (401) failure.
"""

from __future__ import annotations

import hashlib
import heapq
import threading
import time
from collections.abc import Callable
from typing import Literal, Protocol

from aauth_signing import InvalidSignature, b64url_encode

from .store.base import Store

__all__ = [
    "DEFAULT_MAX_ENTRIES",
    "InMemoryReplayGuard",
    "ReplayGuard",
    "ReplayGuardFull",
    "ReplayedSignature",
    "StoreReplayGuard",
    "replay_key",
]

DEFAULT_MAX_ENTRIES = 100_000


class ReplayedSignature(InvalidSignature):
    """This signed request was already accepted within its validity window."""


class ReplayGuardFull(InvalidSignature):
    """A guard configured to refuse when full could not record the signature."""


def replay_key(thumbprint: str, base_digest: bytes) -> str:
    """A fixed-size key for one signed request: SHA-256 over the key thumbprint and the
    SHA-256 of the signature base (:attr:`aauth_signing.VerifiedSignature.base_digest`)."""
    if len(base_digest) != hashlib.sha256().digest_size:
        raise ValueError("base_digest must be the 32-byte SHA-256 of the signature base")
    material = thumbprint.encode("utf-8") + b"\n" + base_digest
    return b64url_encode(hashlib.sha256(material).digest())


class ReplayGuard(Protocol):
    """Records signatures; refuses one it has seen before its ``expires_at`` (Unix seconds)."""

    def check_and_store(self, key: str, expires_at: float) -> None:
        """Raise ReplayedSignature if ``key`` is held and unexpired; else hold it until then."""

    async def acheck_and_store(self, key: str, expires_at: float) -> None:
        """The awaitable twin, for guards backed by network stores."""


class InMemoryReplayGuard:
    """A bounded, thread-safe guard for one process.

    Entries are dropped as they expire. When ``max_entries`` live entries are held, the
    default (``when_full="evict"``) drops the one closest to expiry — the oldest request,
    nearest to leaving the ``created`` window by itself — so a flood of valid signatures can
    weaken replay protection for the oldest requests but never refuses service.
    ``when_full="refuse"`` fails closed instead, raising :class:`ReplayGuardFull` (401) for
    new signatures until entries expire. For several instances use a shared store.
    """

    def __init__(
        self,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        *,
        when_full: Literal["evict", "refuse"] = "evict",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        if when_full not in ("evict", "refuse"):
            raise ValueError("when_full must be 'evict' or 'refuse'")
        self._max = max_entries
        self._evict = when_full == "evict"
        self._clock = clock
        self._expiry: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            self._purge(self._clock())
            return len(self._expiry)

    def _purge(self, now: float) -> None:
        """Drop expired entries. The heap holds exactly one item per held key."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            del self._expiry[heapq.heappop(heap)[1]]

    def check_and_store(self, key: str, expires_at: float) -> None:
        now = self._clock()
        with self._lock:
            self._purge(now)
            if key in self._expiry:
                raise ReplayedSignature("this signature has already been used")
            if expires_at <= now:
                return  # outside any window already; nothing left to protect
            if len(self._expiry) >= self._max:
                if not self._evict:
                    raise ReplayGuardFull("replay guard is full; retry shortly")
                del self._expiry[heapq.heappop(self._heap)[1]]
            self._expiry[key] = expires_at
            heapq.heappush(self._heap, (expires_at, key))

    async def acheck_and_store(self, key: str, expires_at: float) -> None:
        self.check_and_store(key, expires_at)


class StoreReplayGuard:
    """A guard kept in a :class:`~aauth.store.Store`: shared by every instance on that store
    and intact across a restart, so a request captured before a crash cannot be replayed
    after it. The store's expiry bounds it; purge expired records now and then."""

    _NS = "replay"

    def __init__(self, store: Store, *, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    def check_and_store(self, key: str, expires_at: float) -> None:
        if expires_at <= self._clock():
            return
        if not self._store.create(self._NS, key, {}, expires_at):
            raise ReplayedSignature("this signature has already been used")

    async def acheck_and_store(self, key: str, expires_at: float) -> None:
        self.check_and_store(key, expires_at)
