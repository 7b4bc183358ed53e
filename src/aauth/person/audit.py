"""What a person server did for each person, for that person to read (PS-32, §F.9).

Every grant, denial, consent, revocation, mission event, permission decision and action an
agent reports performing (:mod:`aauth.person.audit_endpoint`) is appended to the person's log
in the store (so every worker sees the same log and a restart loses nothing), newest last,
keeping the most recent ``max_entries`` of what agents cause on their own (actions they
report, permissions) and, apart, of everything else, which those never push out. People
read their own log on the ``/audit`` page, as HTML or as JSON.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from ..store.base import Store
from ..store.update import update_record

__all__ = ["MAX_ENTRIES", "AuditEntry", "AuditEvent", "AuditLog"]

AuditEvent = Literal["grant", "denial", "consent", "revocation", "mission", "permission", "action"]
_NS = "audit"
_ATTEMPTS = 16
MAX_ENTRIES = 500
"""The newest entries kept of each kind: what agents report and what this PS recorded."""
_REPORTED = ("action", "permission")
"""Events an agent causes on its own, as often as it likes (§F.9): kept apart, so they never
push the grants, denials, consents, revocations and mission events out of the log (PS-32)."""


@dataclass(frozen=True)
class AuditEntry:
    """One event: ``agent`` (its identifier) at ``resource`` for ``scope``, at ``at``.

    ``how`` says why it happened (``approved``, ``auto-approved``, ``remembered consent``,
    ``denied``, ``person changed`` …). ``action`` names the tool of a ``permission`` asked
    for or an ``action`` an agent reported performing (§F.9).
    """

    at: float
    event: AuditEvent
    agent: str
    resource: str | None
    scope: tuple[str, ...]
    how: str
    action: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "scope": list(self.scope)}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> AuditEntry:
        return cls(
            at=float(value["at"]),
            event=value["event"],
            agent=str(value["agent"]),
            resource=value.get("resource"),
            scope=tuple(value.get("scope", ())),
            how=str(value.get("how", "")),
            action=value.get("action"),
        )


class AuditLog:
    """Per-person audit logs over ``store``."""

    def __init__(
        self,
        store: Store,
        *,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._max = max_entries
        self._clock = clock

    def record(
        self,
        person: str,
        event: AuditEvent,
        agent: str,
        resource: str | None,
        scope: Sequence[str],
        how: str,
        *,
        action: str | None = None,
    ) -> None:
        """Append one entry to ``person``'s log (compare-and-set: concurrent workers)."""
        entry = AuditEntry(
            self._clock(), event, agent, resource, tuple(scope), how, action
        ).to_json()

        def append(current: dict[str, Any] | None) -> dict[str, Any]:
            entries = [*(current or {}).get("entries", ()), entry]
            reported = [e for e in entries if e["event"] in _REPORTED]
            recorded = [e for e in entries if e["event"] not in _REPORTED]
            kept = {id(e) for e in (*reported[-self._max :], *recorded[-self._max :])}
            return {"entries": [e for e in entries if id(e) in kept]}

        update_record(self._store, _NS, person, append, attempts=_ATTEMPTS)

    def entries(self, person: str) -> list[AuditEntry]:
        """``person``'s log, newest first."""
        record = self._store.get(_NS, person)
        if record is None:
            return []
        return [AuditEntry.from_json(value) for value in reversed(record.value["entries"])]
