"""When a person server may grant without asking: configured rules and remembered consent.

Phase 3 (autonomous authorization) grants what an auto-approval rule covers. After a person
approves, the same agent asking the same resource for the same or fewer scopes is granted
again without a prompt until the consent lapses, unless the agent asks for ``prompt=consent``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..store.base import Store
from ..store.update import update_record
from .config import AutoApproval

__all__ = ["Consents"]

_NS = "consent"
_INDEX_NS = "consent-index"  # person, agent → the resources consented (to forget them all)


def _key(person: str, iss: str, agent: str, resource: str) -> str:
    return "\x00".join((person, iss, agent, resource))


class Consents:
    """Auto-approval ``rules`` plus consents remembered for ``lifetime`` seconds."""

    def __init__(
        self,
        store: Store,
        rules: Sequence[AutoApproval],
        *,
        remember: bool,
        lifetime: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._rules = tuple(rules)
        self._remember = remember
        self._lifetime = lifetime
        self._clock = clock

    @property
    def remembered_for(self) -> float | None:
        """Seconds an approval is remembered; None when approvals are not remembered."""
        return self._lifetime if self._remember else None

    def auto_approved(self, agent: str, resource: str, scope: tuple[str, ...]) -> bool:
        """Whether a configured rule grants ``scope`` at ``resource`` to ``agent``."""
        return any(rule.covers(agent, resource, scope) for rule in self._rules)

    def remembered(
        self, person: str, iss: str, agent: str, resource: str, scope: tuple[str, ...]
    ) -> bool:
        """Whether ``person`` already approved at least ``scope`` for this agent and resource."""
        record = self._store.get(_NS, _key(person, iss, agent, resource))
        return record is not None and set(scope) <= set(record.value["scope"])

    def remember(
        self, person: str, iss: str, agent: str, resource: str, scope: tuple[str, ...]
    ) -> None:
        """Record an approval (adding to what was approved before), if consent is remembered."""
        if not self._remember:
            return
        key = _key(person, iss, agent, resource)
        expires_at = self._clock() + self._lifetime
        self._merge(_INDEX_NS, _key(person, iss, agent, ""), "resources", (resource,), expires_at)
        self._merge(_NS, key, "scope", scope, expires_at)

    def forget_agent(self, person: str, iss: str, agent: str) -> None:
        """Drop every consent ``person`` gave this agent (PS-31: the agent's person changed)."""
        index_key = _key(person, iss, agent, "")
        record = self._store.get(_INDEX_NS, index_key)
        for resource in record.value["resources"] if record is not None else ():
            self._store.delete(_NS, _key(person, iss, agent, resource))
        self._store.delete(_INDEX_NS, index_key)

    def _merge(
        self, namespace: str, key: str, member: str, items: Iterable[str], expires_at: float
    ) -> None:
        """Add ``items`` to the list ``member`` of a record (compare-and-set)."""

        def merge(current: dict[str, Any] | None) -> dict[str, Any]:
            return {member: sorted(set((current or {}).get(member, ())) | set(items))}

        update_record(self._store, namespace, key, merge, expires_at, attempts=16)
