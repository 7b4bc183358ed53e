"""Permission for actions no resource governs (protocol-10 §F.9 ``permission_endpoint``).

An agent asks before a tool call, a file write, a message sent. Under a mission whose
approval lists the tool in ``approved_tools`` the answer is ``granted`` at once (200);
anything else waits for the person (202 with an interaction code, like a consent), who grants
or denies on ``/permissions/{id}`` and may say why. A denial is an answer, not an error:
``200 {"permission": "denied", "reason": …}``, after which the agent MUST NOT act (AG-32).

A request under a mission that is terminated, unknown or another agent's is refused alike
(403 ``mission_terminated``, PS-21). Every request and decision is logged: in the mission's
log when there is a mission, and in the person's audit log (PS-32).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import Forbidden, InvalidRequest, UserUnreachable
from ..missions import markdown_text
from ..pending import PendingRequest, PendingRequests, PendingState
from ..tokens import AgentTokenClaims
from .action_request import ActionRequest
from .audit import AuditLog
from .bindings import AgentBindings
from .mission_endpoint import MissionEndpoint, finish_pending
from .mission_review import open_request, redeem
from .missions import ACTIVE, Mission, Missions
from .persons import Person

__all__ = ["GRANTED", "PERMISSION", "PermissionEndpoint", "PermissionView"]

PERMISSION = "permission"
"""The ``kind`` of a pending permission request's payload."""
GRANTED: dict[str, Any] = {"permission": "granted"}
MAX_REASON = 2000


@dataclass(frozen=True)
class PermissionView:
    """What the person sees before granting or denying."""

    request: PendingRequest
    agent: str
    action: ActionRequest
    code: str
    mission: Mission | None


class PermissionEndpoint:
    """Permission requests from verified agents, and the person's answers to them."""

    def __init__(
        self,
        missions: Missions,
        pending: PendingRequests,
        bindings: AgentBindings,
        audit: AuditLog,
        agents: MissionEndpoint,
        *,
        allow_loopback_http: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._missions = missions
        self._pending = pending
        self._bindings = bindings
        self._audit = audit
        self._agents = agents
        self._loopback = allow_loopback_http
        self._clock = clock

    def request(self, agent: AgentTokenClaims, raw_body: bytes) -> dict[str, Any] | PendingRequest:
        """POST permission_endpoint: ``{"permission": "granted"}`` at once for a tool the
        mission approved, else the person's decision (a pending request)."""
        lifetime = self._agents.check_agent(agent)
        asked = ActionRequest.parse(
            raw_body, mission_required=False, allow_loopback_http=self._loopback
        )
        mission = None
        if asked.mission is not None:
            mission = self._missions.active_for(asked.mission, agent.iss, agent.sub)
            if asked.action in mission.approved_tools:
                self._missions.log_as(
                    mission.s256,
                    "permission granted",
                    "permission",
                    action=asked.action,
                    how="an approved tool of the mission",
                )
                return dict(GRANTED)
        if not self._bindings.reachable(agent.iss, agent.sub):
            raise UserUnreachable("no person of this PS may answer this agent's requests")
        if mission is not None:
            self._missions.log_as(
                mission.s256,
                "permission asked of the person",
                "permission",
                action=asked.action,
                detail=asked.summary,
            )
        payload = {
            "kind": PERMISSION,
            "agent_iss": agent.iss,
            "agent": agent.sub,
            "request": asked.to_json(),
            "s256": None if mission is None else mission.s256,
        }
        return self._pending.create(
            agent.iss,
            agent.sub,
            payload,
            requirement="interaction",
            with_code=True,
            lifetime=lifetime,
        )

    # -- the person's side ---------------------------------------------------------------

    def _redeem(self, interaction_id: str, code: str, person: Person) -> PendingRequest:
        return redeem(self._pending, self._bindings, interaction_id, code, person, PERMISSION)

    def review(self, interaction_id: str, code: str, person: Person) -> PermissionView:
        """Open the request for ``person``; the agent's poll then says ``interacting``."""
        current = open_request(self._pending, self._redeem(interaction_id, code, person))
        s256 = current.payload.get("s256")
        return PermissionView(
            current,
            current.payload["agent"],
            ActionRequest.from_json(current.payload["request"]),
            current.code or code,
            None if s256 is None else self._missions.get(s256),
        )

    def decide(
        self,
        interaction_id: str,
        code: str,
        person: Person,
        *,
        grant: bool,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """Grant, or deny (with the person's ``reason``, Markdown): the body the agent gets."""
        request = self._redeem(interaction_id, code, person)
        payload = request.payload
        s256 = payload.get("s256")
        mission = None if s256 is None else self._missions.get(s256)
        if grant and s256 is not None and (mission is None or mission.state != ACTIVE):
            # Ended while the person was deciding: nothing may be granted under it (§F.10).
            finish_pending(self._pending, request.id, PendingState.DENIED, person.id, None)
            raise InvalidRequest("the mission this action falls under has ended; nothing granted")
        if grant and not self._bindings.claim(payload["agent_iss"], payload["agent"], person.id):
            raise Forbidden("this agent acts for another person (PS-28)")
        answer = dict(GRANTED)
        if not grant:
            answer = {"permission": "denied"}
            if reason is not None and reason.strip():
                text = reason.replace("\r\n", "\n")
                answer["reason"] = markdown_text(text, "reason", MAX_REASON)
        finish_pending(self._pending, request.id, PendingState.COMPLETED, person.id, answer)
        action = str(payload["request"]["action"])
        event = f"permission {answer['permission']}"
        if s256 is not None and mission is not None:
            self._missions.log_as(s256, event, "permission", action=action, by=person.id)
        else:
            how = f"{event} by the person"
            self._audit.record(
                person.id, "permission", payload["agent"], None, (), how, action=action
            )
        return answer
