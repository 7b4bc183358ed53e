"""Agents reporting what they did (protocol-10 §F.9 ``audit_endpoint``, PS-22).

A signed ``POST`` after the action, always under a mission (there is no audit outside one):
``mission`` and ``action`` are required, ``description``, ``parameters`` and ``result``
optional. The record goes to the mission's log and to the person's audit log, where the person
reads it on ``/audit`` (PS-32); the answer is ``201 Created``. A terminated, unknown or
another agent's mission is refused alike (403 ``mission_terminated``).
"""

from __future__ import annotations

from ..tokens import AgentTokenClaims
from .action_request import ActionRequest
from .mission_endpoint import MissionEndpoint
from .missions import Missions

__all__ = ["AuditEndpoint"]


class AuditEndpoint:
    """Audit records from verified agents."""

    def __init__(
        self, missions: Missions, agents: MissionEndpoint, *, allow_loopback_http: bool = False
    ) -> None:
        self._missions = missions
        self._agents = agents
        self._loopback = allow_loopback_http

    def record(self, agent: AgentTokenClaims, raw_body: bytes) -> None:
        """POST audit_endpoint: log the action in its mission (the caller answers 201)."""
        self._agents.check_agent(agent)
        done = ActionRequest.parse(
            raw_body, mission_required=True, allow_loopback_http=self._loopback
        )
        assert done.mission is not None  # mission_required
        mission = self._missions.active_for(done.mission, agent.iss, agent.sub)
        details = {
            "description": done.description,
            "parameters": done.parameters,
            "result": done.result,
        }
        self._missions.log_as(
            mission.s256,
            "action performed",
            "action",
            action=done.action,
            **{k: v for k, v in details.items() if v is not None},
        )
