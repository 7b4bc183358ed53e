"""What agents ask of missions (§F.8 ``mission_endpoint``, §F.6 ``interaction_endpoint``).

A proposal is approved at once (200) when a configured rule covers every resource and scope
it names and the agent is bound to a person; otherwise the person reviews it: a pending
request with an interaction code (202), like a consent, on whose pending URL the person may
ask questions when the proposal's ``capabilities`` name ``clarification`` (phase 12).
Completion (-10: an ``interaction_endpoint`` request of ``type`` ``completion``) waits for the
person to accept it on the mission page (202, ``requirement=approval``); ``interaction``,
``payment`` and ``question`` are relayed to the person by
:mod:`aauth.person.interaction_relay`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..errors import (
    ExpiredAgentToken,
    InvalidAgentToken,
    InvalidCode,
    InvalidRequest,
    InvalidToken,
    UserUnreachable,
)
from ..headers.mission import MissionRef
from ..json_body import parse_json_object
from ..missions import MissionProposal, markdown_text
from ..pending import PendingRequest, PendingRequests, PendingState
from ..tokens import AgentTokenClaims
from .bindings import AgentBindings
from .config import PersonServerConfig
from .missions import Mission, Missions
from .request_body import capabilities_member

__all__ = ["COMPLETION", "PROPOSAL", "MissionEndpoint", "finish_pending", "json_object"]

PROPOSAL = "mission"
COMPLETION = "completion"
"""The ``kind`` of a pending request's payload: a mission proposal, a completion."""

INTERACTION_TYPES = frozenset({"interaction", "payment", "question", "completion"})


def finish_pending(
    pending: PendingRequests,
    request_id: str,
    state: PendingState,
    by: str | None,
    result: dict[str, Any] | None,
) -> None:
    """Move a pending request to its terminal ``state`` once (decided ``by`` a person id, or
    None); InvalidCode if it had ended."""

    def finish(current: PendingRequest) -> PendingRequest | None:
        if current.state.terminal:
            return None
        return replace(current, state=state, decided_by=by, result=result)

    if pending.update(request_id, finish) is None:
        raise InvalidCode("this request has already been decided")


class MissionEndpoint:
    """Mission proposals and completions from verified agents."""

    def __init__(
        self,
        config: PersonServerConfig,
        missions: Missions,
        pending: PendingRequests,
        bindings: AgentBindings,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._config = config
        self._missions = missions
        self._pending = pending
        self._bindings = bindings
        self._clock = clock

    def check_agent(self, agent: AgentTokenClaims) -> float:
        """The seconds a pending request of this agent may live; the agent may call this PS
        at all: not a sub-agent (PS-06), this PS is its `ps`, its token not about to end."""
        if agent.parent_agent is not None:
            raise InvalidRequest("sub-agents cannot call the PS; their parent asks (PS-06)")
        if agent.ps != self._config.identifier:
            raise InvalidAgentToken(
                f"the agent token names {agent.ps!r} as the agent's person server, not this PS"
            )
        lifetime = min(self._config.pending_lifetime, agent.exp - self._clock())
        if lifetime <= 0:
            raise ExpiredAgentToken("the agent token expires before anyone could approve")
        return lifetime

    def propose(self, agent: AgentTokenClaims, raw_body: bytes) -> Mission | PendingRequest:
        """POST mission_endpoint: the approved mission at once, or the person's review."""
        lifetime = self.check_agent(agent)
        proposal = MissionProposal.parse(
            raw_body, now=self._clock(), allow_loopback_http=self._config.allow_loopback_http
        )
        person = self._bindings.person_for(agent.iss, agent.sub)
        if person is not None and self._auto_approved(agent.sub, proposal):
            return self._missions.approve(proposal, agent.iss, agent.sub, person)
        if not self._bindings.reachable(agent.iss, agent.sub):
            raise UserUnreachable("no person of this PS may approve missions of this agent")
        payload = {
            "kind": PROPOSAL,
            "agent_iss": agent.iss,
            "agent": agent.sub,
            "proposal": proposal.to_json(),
            "can_clarify": "clarification" in capabilities_member(json_object(raw_body)),
        }
        return self._pending.create(
            agent.iss,
            agent.sub,
            payload,
            requirement="interaction",
            with_code=True,
            lifetime=lifetime,
        )

    def _auto_approved(self, agent: str, proposal: MissionProposal) -> bool:
        """A rule names this agent, and rules cover every resource and scope proposed."""
        rules = [r for r in self._config.auto_approve_missions if r.covers(agent, r.resource, ())]
        return bool(rules) and all(
            any(rule.covers(agent, resource, scopes) for rule in rules)
            for resource, scopes in proposal.resources.items()
        )

    def interaction(self, agent: AgentTokenClaims, raw_body: bytes) -> PendingRequest:
        """POST interaction_endpoint: a completion proposal waits for the person (202); the
        relayed types are :mod:`aauth.person.interaction_relay`'s, any other is 400."""
        lifetime = self.check_agent(agent)
        body = json_object(raw_body)
        if body.get("type") != COMPLETION:
            raise InvalidRequest(f"'type' must be one of {sorted(INTERACTION_TYPES)} (PS-23)")
        try:
            ref = MissionRef.from_claim(
                body.get("mission"), allow_loopback_http=self._config.allow_loopback_http
            )
        except InvalidToken:
            raise InvalidRequest("a completion needs 'mission': {approver, s256}") from None
        summary = markdown_text(body.get("summary"), "summary")
        mission = self._missions.active_for(ref, agent.iss, agent.sub)
        if mission.completion is not None:  # a newer report supersedes an unanswered one
            with contextlib.suppress(InvalidCode):
                finish_pending(self._pending, mission.completion, PendingState.DENIED, None, None)
        payload = {"kind": COMPLETION, "s256": mission.s256, "summary": summary}
        request = self._pending.create(
            agent.iss, agent.sub, payload, requirement="approval", lifetime=lifetime
        )
        self._missions.change(mission.s256, completion=request.id, summary=summary)
        self._missions.log(mission.s256, "completion proposed", summary=summary)
        return request


def json_object(raw: bytes) -> dict[str, Any]:
    """A strict JSON object request body (:mod:`aauth.json_body`); InvalidRequest otherwise."""
    return parse_json_object(raw, what="the request body")
