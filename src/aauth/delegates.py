"""The agent provider's record of its delegates: running agent instances and their sub-agents.

Every agent token the provider issues names one delegate (protocol-10 §G phase 6): an
instance of an enrolled agent (``aauth:assistant.laptop@ap.example``) or a sub-agent of such
an instance (``aauth:assistant.laptop+search1@ap.example``, §D.1 ``parent_agent``). The
identifier is derived from names, never from keys, so an instance that rotates its key keeps
its identifier; the record holds the key it holds *now*, which is what lets that instance,
and only with that key, obtain tokens for its sub-agents.

Records live in the store (they survive a restart) until the delegate's latest token expires.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from .store.base import Store

__all__ = ["NAME", "Delegate", "Delegates", "is_delegate_name"]

NAME = re.compile(r"[a-z0-9_-]{1,64}")
"""An instance name or a sub-agent discriminator: part of a local name, without ``.`` or
``+`` so the parts of an identifier stay readable."""

_NS = "delegate"
_KEY_NS = "delegate-key"


def is_delegate_name(value: object) -> bool:
    return isinstance(value, str) and NAME.fullmatch(value) is not None


@dataclass(frozen=True)
class Delegate:
    """One delegate: its identifier, the thumbprint of its current key, its parent (for a
    sub-agent), the person server its tokens name, and when its latest token expires."""

    sub: str
    jkt: str
    parent_agent: str | None
    ps: str | None
    expires_at: float
    tokens_issued: int = 1


class Delegates:
    """Delegates by identifier and by current key thumbprint, in a store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def get(self, sub: str) -> Delegate | None:
        record = self._store.get(_NS, sub)
        return None if record is None else Delegate(**record.value)

    def by_key(self, jkt: str) -> Delegate | None:
        """The live delegate whose current key has thumbprint ``jkt`` (an old key of a
        delegate that has rotated since finds nothing)."""
        record = self._store.get(_KEY_NS, jkt)
        delegate = None if record is None else self.get(str(record.value["sub"]))
        return delegate if delegate is not None and delegate.jkt == jkt else None

    def record(
        self, sub: str, *, jkt: str, parent_agent: str | None, ps: str | None, expires_at: float
    ) -> Delegate:
        """Note a token just issued to ``sub`` for the key ``jkt`` (a new key replaces the
        old one)."""
        for _ in range(16):
            current = self._store.get(_NS, sub)
            issued = 1 if current is None else int(current.value["tokens_issued"]) + 1
            expiry = expires_at
            if current is not None:
                expiry = max(expires_at, float(current.value["expires_at"]))
            delegate = Delegate(sub, jkt, parent_agent, ps, expiry, issued)
            if current is None:
                stored = self._store.create(_NS, sub, asdict(delegate), expiry)
            else:
                stored = self._store.replace(_NS, sub, asdict(delegate), current.version, expiry)
            if stored:
                if current is not None and current.value["jkt"] != jkt:
                    self._store.delete(_KEY_NS, str(current.value["jkt"]))
                self._store.delete(_KEY_NS, jkt)
                self._store.create(_KEY_NS, jkt, {"sub": sub}, expires_at)
                return delegate
        raise RuntimeError(f"delegate {sub} is under heavy contention")
