"""A person deciding on missions (phases 5 and 12): review a proposal, ask the agent about it
(the clarification chat of consent, when the agent declared it can answer), approve (perhaps
edited), deny; accept or decline a completion; revoke.

As with consent, the interaction code only finds the proposal: deciding needs the signed-in
person the agent is bound to, or anyone while it is unbound and binding on first approval is
on (PS-27, PS-28). A person sees and acts on their own missions only; another person's
mission answers like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from ..errors import Forbidden, InvalidRequest, NotFound
from ..missions import MissionProposal, markdown_text
from ..pending import PendingRequest, PendingRequests, PendingState
from .bindings import AgentBindings
from .clarification import ClarificationChat, Round, conversation, open_question
from .mission_endpoint import COMPLETION, PROPOSAL, finish_pending
from .missions import ACTIVE, Mission, Missions
from .persons import Person

__all__ = ["MissionReview", "ProposalView", "open_request", "redeem"]


@dataclass(frozen=True)
class ProposalView:
    """What the person sees before deciding on a proposal."""

    request: PendingRequest
    agent: str
    proposal: MissionProposal
    code: str
    conversation: Sequence[Round] = ()
    questions_left: int = 0
    awaiting_answer: bool = False

    @property
    def can_ask(self) -> bool:
        """A question may be put now: the agent can answer, none is open, rounds are left."""
        return self.questions_left > 0 and not self.awaiting_answer


def redeem(
    pending: PendingRequests,
    bindings: AgentBindings,
    interaction_id: str,
    code: str,
    person: Person,
    kind: str,
) -> PendingRequest:
    """The pending request of ``kind`` the code names, when ``person`` may decide it: the
    person the agent is bound to, or anyone while it is unbound (PS-28); NotFound for another
    kind, InvalidCode for a wrong or used code."""
    found = pending.by_interaction(interaction_id)
    if found is None or found.payload.get("kind") != kind:
        raise NotFound(f"there is no such {kind} request")
    request = pending.redeem_code(code, interaction_id)
    payload = request.payload
    if not bindings.may_approve(payload["agent_iss"], payload["agent"], person.id):
        raise Forbidden("this agent acts for another person (PS-28)")
    return request


def open_request(pending: PendingRequests, request: PendingRequest) -> PendingRequest:
    """Mark ``request`` as seen by its person: the agent's poll then says ``interacting``."""

    def interacting(current: PendingRequest) -> PendingRequest | None:
        if current.state is not PendingState.PENDING:
            return None
        return replace(current, state=PendingState.INTERACTING)

    return pending.update(request.id, interacting) or request


class MissionReview:
    """The person's side of missions."""

    def __init__(
        self,
        pending: PendingRequests,
        bindings: AgentBindings,
        missions: Missions,
        *,
        chat: ClarificationChat | None = None,
    ) -> None:
        self._pending = pending
        self._chat = chat
        self._bindings = bindings
        self._missions = missions

    def _redeem(self, interaction_id: str, code: str, person: Person) -> PendingRequest:
        return redeem(self._pending, self._bindings, interaction_id, code, person, PROPOSAL)

    def review(self, interaction_id: str, code: str, person: Person) -> ProposalView:
        """Open a proposal for ``person``; the agent's poll then says ``interacting``."""
        current = open_request(self._pending, self._redeem(interaction_id, code, person))
        proposal = MissionProposal.from_json(current.payload["proposal"])
        return ProposalView(
            current,
            current.payload["agent"],
            proposal,
            current.code or code,
            conversation=conversation(current),
            questions_left=self._questions_left(current),
            awaiting_answer=open_question(current) is not None,
        )

    def _questions_left(self, request: PendingRequest) -> int:
        if self._chat is None or not request.payload.get("can_clarify"):
            return 0
        return self._chat.questions_left(request)

    def ask(self, interaction_id: str, code: str, person: Person, question: str) -> None:
        """Put ``person``'s question about the proposal to the agent (its next poll gets
        ``requirement=clarification``), within the caps of every conversation (PS-29)."""
        request = self._redeem(interaction_id, code, person)
        if self._chat is None or not request.payload.get("can_clarify"):
            raise InvalidRequest("this agent cannot answer questions (no 'clarification')")
        self._chat.ask(request.id, question, person.id)

    def decide(
        self,
        interaction_id: str,
        code: str,
        person: Person,
        *,
        approve: bool,
        description: str | None = None,
        resources: Collection[str] | None = None,
    ) -> Mission | None:
        """Approve (the mission, with the person's edits) or deny (None).

        ``description`` replaces the proposed one; ``resources`` keeps only those of the
        proposed resources (None keeps all).
        """
        request = self._redeem(interaction_id, code, person)
        payload = request.payload
        if not approve:
            finish_pending(self._pending, request.id, PendingState.DENIED, person.id, None)
            return None
        proposal = MissionProposal.from_json(payload["proposal"])
        if description is not None:
            text = markdown_text(description.replace("\r\n", "\n"), "description")
            proposal = replace(proposal, description=text)
        if resources is not None:
            kept = {r: s for r, s in proposal.resources.items() if r in resources}
            proposal = replace(proposal, resources=kept)
        if not self._bindings.claim(payload["agent_iss"], payload["agent"], person.id):
            raise Forbidden("this agent acts for another person (PS-28)")
        mission = self._missions.approve(
            proposal, payload["agent_iss"], payload["agent"], person.id
        )
        result = {"mission_blob": mission.blob, "approver": mission.approver, "s256": mission.s256}
        finish_pending(self._pending, request.id, PendingState.COMPLETED, person.id, result)
        return mission

    def mission(self, s256: str, person: Person) -> Mission:
        """``person``'s mission ``s256``; NotFound for anyone else's."""
        mission = self._missions.get(s256)
        if mission is None or mission.person != person.id:
            raise NotFound("there is no such mission")
        return mission

    def answer_completion(self, s256: str, person: Person, *, accept: bool) -> Mission:
        """Accept the agent's completion (the mission terminates, reason ``completed``) or
        decline it (the agent's request is denied; the mission stays active)."""
        mission = self.mission(s256, person)
        if mission.state != ACTIVE or mission.completion is None:
            raise InvalidRequest("this mission has no completion waiting for an answer")
        request = self._pending.get(mission.completion)
        if request is None or request.payload.get("kind") != COMPLETION:
            raise InvalidRequest("this mission has no completion waiting for an answer")
        if not accept:
            finish_pending(self._pending, request.id, PendingState.DENIED, person.id, None)
            self._missions.log(s256, "completion declined", by=person.id)
            return self._missions.change(s256, completion=None) or mission
        ended = self._missions.terminate(s256, "completed", completion=None)
        result = {"mission_status": "terminated"}
        finish_pending(self._pending, request.id, PendingState.COMPLETED, person.id, result)
        return ended or mission

    def revoke(self, s256: str, person: Person) -> Mission:
        """End the mission now (reason ``revoked``); an open completion request is denied."""
        mission = self.mission(s256, person)
        ended = self._missions.terminate(s256, "revoked", completion=None)
        if ended is None:
            raise InvalidRequest("this mission has already ended")
        if mission.completion is not None:
            request = self._pending.get(mission.completion)
            if request is not None and not request.state.terminal:
                finish_pending(self._pending, request.id, PendingState.DENIED, person.id, None)
        return ended
