"""The agent's auth tokens between requests: one per resource, bound to the agent key it was
issued to, dropped shortly before it expires (there is no refresh token in AAuth, §D.3)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["AuthTokenCache"]


@dataclass
class AuthTokenCache:
    """Auth tokens by resource origin (``scheme://host[:port]``, the resource identifier for
    AAuth resources) and the agent key they are bound to, each until shortly before its
    ``exp``.

    Bounded (LRU) and thread-safe; a token is dropped ``margin`` seconds before it expires so
    a request never leaves with a token that dies in flight. There is no refresh token in
    AAuth: an expired token is replaced by a fresh challenge and token request (§D.3).
    """

    max_entries: int = 256
    margin: float = 30.0
    clock: Callable[[], float] = time.time
    _tokens: OrderedDict[str, tuple[str, float, str | None]] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, resource: str, jkt: str | None = None) -> str | None:
        """The token for ``resource``; with ``jkt``, only one bound to that agent key (a
        token issued to a key the agent rotated away from is unusable, AG-18)."""
        with self._lock:
            entry = self._tokens.get(resource)
            if entry is None:
                return None
            if entry[1] - self.margin <= self.clock():
                del self._tokens[resource]
                return None
            if jkt is not None and entry[2] is not None and entry[2] != jkt:
                return None
            self._tokens.move_to_end(resource)
            return entry[0]

    def put(self, resource: str, token: str, expires_at: float, jkt: str | None = None) -> None:
        with self._lock:
            self._tokens[resource] = (token, expires_at, jkt)
            self._tokens.move_to_end(resource)
            while len(self._tokens) > self.max_entries:
                self._tokens.popitem(last=False)

    def discard(self, resource: str) -> None:
        with self._lock:
            self._tokens.pop(resource, None)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()
