"""The missions a person server approved, their state and their log (§F.8, §F.10, §F.11).

A mission is ``active`` until it is ``terminated`` (completed, revoked or past its
``expires_at``), never back (-10 "Mission Management"). Each mission keeps its log: the
proposal and approval, every auth token issued under it, completion and revocation, which the
person reads on the missions page (PS-32). Everything is in the store: a mission, its log and
the per-person index survive a restart.

Asking about a mission the agent does not own answers exactly like asking about a terminated
or unknown one, so a mission reference seen in a token reveals nothing (-11 mission errors).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from ..errors import MissionTerminated
from ..headers.mission import MissionRef
from ..missions import MissionProposal, build_blob, mission_s256
from ..store.base import Store
from ..store.update import update_record
from .audit import AuditEvent, AuditLog

__all__ = ["ACTIVE", "TERMINATED", "Mission", "Missions"]

ACTIVE = "active"
TERMINATED = "terminated"
MAX_LOG = 500
MAX_PER_PERSON = 200
_NS = "mission"
_LOG_NS = "mission-log"
_INDEX_NS = "mission-index"


@dataclass(frozen=True)
class Mission:
    """One approved mission: its blob (text of the exact bytes hashed), who it is for, state.

    ``resources`` maps the approved resources to their approved scopes. ``completion`` is the
    pending request of a completion the person has not yet answered.
    """

    s256: str
    approver: str
    blob: str
    agent_iss: str
    agent: str
    person: str
    description: str
    approved_at: float
    resources: Mapping[str, tuple[str, ...]]
    expires_at: float | None = None
    state: str = ACTIVE
    reason: str | None = None
    terminated_at: float | None = None
    completion: str | None = None
    summary: str | None = None

    @property
    def ref(self) -> MissionRef:
        return MissionRef(self.approver, self.s256)

    @property
    def approved_tools(self) -> frozenset[str]:
        """The names of the tools approved with the mission: no permission call needed (§F.9)."""
        tools = json.loads(self.blob).get("approved_tools") or ()
        return frozenset(str(tool.get("name")) for tool in tools if isinstance(tool, dict))

    def covers(self, resource: str, scope: tuple[str, ...]) -> bool:
        """Whether ``scope`` at ``resource`` is within what the person approved."""
        approved = self.resources.get(resource)
        return approved is not None and set(scope) <= set(approved)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["resources"] = {r: list(s) for r, s in self.resources.items()}
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Mission:
        return cls(**{**data, "resources": {r: tuple(s) for r, s in data["resources"].items()}})


class Missions:
    """Approve, find, end and log missions, in ``store``."""

    def __init__(
        self,
        store: Store,
        identifier: str,
        *,
        audit: AuditLog | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._identifier = identifier
        self._audit = audit
        self._clock = clock

    # -- lifecycle ---------------------------------------------------------------------------

    def approve(
        self, proposal: MissionProposal, agent_iss: str, agent: str, person: str
    ) -> Mission:
        """Record ``person``'s approval of ``proposal`` (as possibly edited) and return it."""
        now = self._clock()
        blob = build_blob(self._identifier, agent, now, proposal)
        s256 = mission_s256(blob)
        mission = Mission(
            s256=s256,
            approver=self._identifier,
            blob=blob.decode("utf-8"),
            agent_iss=agent_iss,
            agent=agent,
            person=person,
            description=proposal.description,
            approved_at=now,
            resources=dict(proposal.resources),
            expires_at=proposal.expires_at,
        )
        if not self._store.create(_NS, s256, mission.to_json(), None):
            existing = self.get(s256)  # the same approval written twice (a retried decision)
            if existing is None or existing.blob != mission.blob:
                raise RuntimeError("mission digest collision")
            return existing
        self._update(
            _INDEX_NS, person, lambda v: {"s256": [s256, *v.get("s256", [])][:MAX_PER_PERSON]}
        )
        self.log(s256, "approved", by=person)
        return mission

    def get(self, s256: str) -> Mission | None:
        """The mission, terminated with reason ``expired`` once its ``expires_at`` passed."""
        record = self._store.get(_NS, s256)
        if record is None:
            return None
        mission = Mission.from_json(record.value)
        expired = mission.expires_at is not None and mission.expires_at <= self._clock()
        if mission.state == ACTIVE and expired and self.terminate(s256, "expired") is not None:
            return self.get(s256)
        return mission

    def active_for(self, ref: MissionRef, agent_iss: str, agent: str) -> Mission:
        """The active mission ``ref`` names for this agent; MissionTerminated (PS-21) for a
        terminated, unknown or someone else's mission, all answered alike."""
        mission = self.get(ref.s256) if ref.approver == self._identifier else None
        if (
            mission is None
            or mission.state != ACTIVE
            or (mission.agent_iss, mission.agent) != (agent_iss, agent)
        ):
            raise MissionTerminated("this mission is not active")
        return mission

    def terminate(self, s256: str, reason: str, **changes: Any) -> Mission | None:
        """End the mission for good (``completed``, ``revoked``, ``expired``); None when it had
        already ended."""
        ended: list[Mission] = []

        def end(value: dict[str, Any]) -> dict[str, Any] | None:
            mission = Mission.from_json(value)
            if mission.state != ACTIVE:
                return None
            done = replace(
                mission, state=TERMINATED, reason=reason, terminated_at=self._clock(), **changes
            )
            ended.append(done)
            return done.to_json()

        if not self._update(_NS, s256, end):
            return None
        self.log(s256, "terminated", reason=reason)
        return ended[-1]

    def change(self, s256: str, **changes: Any) -> Mission | None:
        """Set fields of an active mission (e.g. its open ``completion``)."""

        def apply(value: dict[str, Any]) -> dict[str, Any] | None:
            mission = Mission.from_json(value)
            return None if mission.state != ACTIVE else replace(mission, **changes).to_json()

        return self.get(s256) if self._update(_NS, s256, apply) else None

    def of_person(self, person: str) -> list[Mission]:
        """The person's missions, newest first."""
        record = self._store.get(_INDEX_NS, person)
        found = (self.get(s) for s in (record.value["s256"] if record else ()))
        return [mission for mission in found if mission is not None]

    # -- the log -------------------------------------------------------------------------------

    def log(self, s256: str, event: str, **details: Any) -> None:
        """Append an entry (time, event, details) to the mission's log, keeping the newest;
        the person's audit log shows it as a mission event."""
        self.log_as(s256, event, "mission", **details)

    def log_as(self, s256: str, event: str, audit_as: AuditEvent, /, **details: Any) -> None:
        """:meth:`log`, shown in the person's audit log as ``audit_as`` (a permission, an
        action the agent performed)."""
        now = self._clock()
        entry = {"at": now, "event": event, **details}
        self._update(
            _LOG_NS, s256, lambda v: {"entries": _kept([*v.get("entries", []), entry], now)}
        )
        record = self._store.get(_NS, s256) if self._audit is not None else None
        if self._audit is not None and record is not None:
            # The person's own audit log shows mission events too (PS-32).
            mission = Mission.from_json(record.value)
            how = f"mission {s256[:12]}…: {event}"
            scope = tuple(str(details["scope"]).split()) if details.get("scope") else ()
            resource = details.get("resource")
            action = details.get("action")
            self._audit.record(
                mission.person, audit_as, mission.agent, resource, scope, how, action=action
            )

    def entries(self, s256: str) -> list[dict[str, Any]]:
        """The log, oldest first."""
        record = self._store.get(_LOG_NS, s256)
        return list(record.value["entries"]) if record else []

    def issued(self, s256: str) -> list[dict[str, Any]]:
        """The auth tokens issued under the mission (log entries with a ``jti``)."""
        return [e for e in self.entries(s256) if e["event"] == "token issued"]

    def _update(
        self, namespace: str, key: str, change: Callable[[dict[str, Any]], dict[str, Any] | None]
    ) -> bool:
        """Compare-and-set ``change`` on a record (created from ``{}`` when absent); False when
        ``change`` declines or the record should exist and does not."""

        def guarded(current: dict[str, Any] | None) -> dict[str, Any] | None:
            if current is None and namespace == _NS:
                return None
            return change(dict(current or {}))

        return update_record(self._store, namespace, key, guarded) is not None


def _kept(entries: list[dict[str, Any]], now: float) -> list[dict[str, Any]]:
    """The newest :data:`MAX_LOG` entries, and each auth token issued under the mission that
    has yet to expire (the newest ``MAX_LOG`` of them) however old: revoking the mission
    revokes those (§F.11), so what the agent reports must never push them out."""
    live = [e for e in entries if e["event"] == "token issued" and e.get("exp", 0) > now]
    kept = {id(e) for e in (*entries[-MAX_LOG:], *live[-MAX_LOG:])}
    return [e for e in entries if id(e) in kept]
