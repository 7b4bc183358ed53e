"""Relaying an agent's interaction to its person (protocol-10 §F.6 ``interaction_endpoint``,
"Relaying Through the Person Server"; PS-23, AG-31).

An agent that cannot show its person a URL itself posts a resource's (or an access server's)
``interaction`` or ``payment`` requirement here: ``url`` (https, or loopback http where this
PS allows it, and admitted by the egress policy, as PS-25 checks a resource's page), ``code``
and an optional ``description``. The PS's channel is the person's own signed-in pages: the
request waits in the inbox of the person the agent is bound to (``/relays``), and the agent
gets a 202 with the relay's pending URL. Going on (the page's form, posted with the
session's CSRF token, PS-27) marks the relay ``interacting`` and sends the person to
``{url}?code={code}&callback={per-flow PS callback}``; back at that callback the relay
resolves (200 ``{"relayed": true}``). It resolves too, as expired, once the agent's
``max_wait`` has elapsed.

The relay only says the person was reached: a resource's own pending URL stays authoritative
for completion (AG-31). With no person bound to the agent this PS has no channel: 424
``interaction_unavailable`` (PS-23), unless no person may ever answer for the agent
(``user_unreachable``). A ``mission``, when named, must be active (PS-21).

A ``question`` (Markdown, untrusted: shown escaped, V-42) reaches the person the same way, in
the same inbox, but asks nothing of another server: the 202 says ``requirement=approval``
(the person is reached on a channel this PS already has, no code to type), the person's page
takes their answer (Markdown, as capped as the question) or their refusal, and the agent's
poll gets ``200 {"answer": …}`` or ``403 denied``; ``max_wait`` bounds it the same way. Under
a mission, the question and its outcome go to the mission's log.
"""

from __future__ import annotations

import contextlib
from typing import Any

from ..callbacks import interaction_link
from ..egress import EgressPolicy
from ..errors import (
    InteractionUnavailable,
    InvalidCode,
    InvalidRequest,
    InvalidToken,
    NotFound,
    UserUnreachable,
)
from ..headers.mission import MissionRef
from ..identifiers import is_endpoint_url
from ..missions import markdown_text
from ..pending import PendingRequest, PendingRequests, PendingState
from ..store.base import Store
from ..store.update import update_record
from ..tokens import AgentTokenClaims
from .bindings import AgentBindings
from .mission_endpoint import MissionEndpoint, finish_pending, json_object
from .missions import Missions
from .persons import Person

__all__ = ["QUESTION", "RELAY", "RELAY_TYPES", "RELAYED", "InteractionRelay"]

RELAY = "relay"
"""The ``kind`` of a pending relay's payload."""
QUESTION = "question"
LINK_TYPES = frozenset({"interaction", "payment"})
"""The relays that send the person on to another server's page."""
RELAY_TYPES = LINK_TYPES | {QUESTION}
RELAYED: dict[str, Any] = {"relayed": True}
"""The relay's terminal body: the person was reached, nothing about completion (AG-31)."""
MAX_CODE = 256
MAX_INBOX = 50
_INBOX_NS = "relay-inbox"


class InteractionRelay:
    """Relayed interactions and questions: taken from agents, shown to their persons."""

    def __init__(
        self,
        agents: MissionEndpoint,
        pending: PendingRequests,
        bindings: AgentBindings,
        missions: Missions,
        store: Store,
        *,
        identifier: str,
        egress: EgressPolicy,
        allow_loopback_http: bool = False,
    ) -> None:
        self._agents = agents
        self._pending = pending
        self._bindings = bindings
        self._missions = missions
        self._store = store
        self._identifier = identifier
        self._egress = egress
        self._loopback = allow_loopback_http

    async def interaction(self, agent: AgentTokenClaims, raw_body: bytes) -> PendingRequest:
        """POST interaction_endpoint: an ``interaction``, ``payment`` or ``question`` for the
        agent's person (the pending relay, 202); any other type as :class:`MissionEndpoint`
        takes it."""
        body = json_object(raw_body)
        kind = body.get("type")
        if kind not in RELAY_TYPES:
            return self._agents.interaction(agent, raw_body)
        lifetime = self._agents.check_agent(agent)
        if kind == QUESTION:
            details = {"question": markdown_text(body.get("question"), "question")}
        else:
            details = _link(body, self._loopback)
        mission = self._mission(agent, body.get("mission"))
        max_wait = body.get("max_wait")
        if max_wait is not None:
            if isinstance(max_wait, bool) or not isinstance(max_wait, int) or max_wait <= 0:
                raise InvalidRequest("'max_wait' must be a positive number of seconds")
            lifetime = min(lifetime, float(max_wait))
        person = self._bindings.person_for(agent.iss, agent.sub)
        if person is None:
            if not self._bindings.reachable(agent.iss, agent.sub):
                raise UserUnreachable("no person of this PS may answer for this agent")
            raise InteractionUnavailable("no person is bound to this agent to relay it to")
        if kind != QUESTION:
            await self._egress.aadmit(details["url"])  # EgressDenied (400) names the reason
        payload = {
            "kind": RELAY,
            "type": kind,
            "agent_iss": agent.iss,
            "agent": agent.sub,
            "person": person,
            "s256": mission,
            **details,
        }
        request = self._pending.create(
            agent.iss,
            agent.sub,
            payload,
            requirement="approval" if kind == QUESTION else None,
            with_code=kind != QUESTION,
            with_page=True,
            lifetime=lifetime,
        )
        self._file(person, request.id)
        if mission is not None and kind == QUESTION:
            self._missions.log(mission, "question asked", question=details["question"])
        elif mission is not None:
            self._missions.log(mission, "interaction relayed", type=kind, url=details["url"])
        return request

    def _mission(self, agent: AgentTokenClaims, claim: object) -> str | None:
        """The s256 of the active mission the request names (mission status error if it has
        ended), or None."""
        if claim is None:
            return None
        try:
            ref = MissionRef.from_claim(claim, allow_loopback_http=self._loopback)
        except InvalidToken:
            raise InvalidRequest('\'mission\' must be {"approver": …, "s256": …}') from None
        return self._missions.active_for(ref, agent.iss, agent.sub).s256

    # -- the person's side ---------------------------------------------------------------

    def inbox(self, person: Person) -> list[PendingRequest]:
        """The person's relays still waiting, newest first."""
        record = self._store.get(_INBOX_NS, person.id)
        found = (self._pending.get(i) for i in (record.value["ids"] if record else ()))
        return [r for r in found if r is not None and not r.state.terminal]

    def view(self, interaction_id: str, person: Person) -> PendingRequest:
        """The relay or question, when it is ``person``'s and still waiting; NotFound
        otherwise (the same for anyone else's: it does not exist for them)."""
        request = self._pending.by_interaction(interaction_id)
        if (
            request is None
            or request.payload.get("kind") != RELAY
            or request.payload.get("person") != person.id
        ):
            raise NotFound("there is no such relayed interaction")
        if request.state.terminal:
            raise NotFound("this relayed interaction has ended")
        return request

    def _of_type(
        self, interaction_id: str, person: Person, types: frozenset[str]
    ) -> PendingRequest:
        request = self.view(interaction_id, person)
        if request.payload.get("type") not in types:
            raise NotFound(f"this relayed interaction is not of type {' or '.join(sorted(types))}")
        return request

    def go(self, interaction_id: str, person: Person) -> str:
        """The person goes on (their form, its CSRF token checked): the relay is
        ``interacting``; where they go."""
        request = self._of_type(interaction_id, person, LINK_TYPES)
        self._pending.interacting(request.id)
        payload = request.payload
        return interaction_link(payload["url"], payload["code"], self.callback_url(interaction_id))

    def returned(self, interaction_id: str, person: Person) -> None:
        """The person is back from the other server's page: the relay has done all it can."""
        request = self._of_type(interaction_id, person, LINK_TYPES)
        with contextlib.suppress(InvalidCode):  # resolved already (a second visit)
            finish_pending(
                self._pending, request.id, PendingState.COMPLETED, person.id, dict(RELAYED)
            )

    def answer(self, interaction_id: str, person: Person, text: object) -> None:
        """The person answers the agent's question: its poll gets ``{"answer": text}``
        (untrusted Markdown for the agent, capped like the question)."""
        request = self._of_type(interaction_id, person, frozenset({QUESTION}))
        answer = markdown_text(text, "answer")
        finish_pending(
            self._pending, request.id, PendingState.COMPLETED, person.id, {"answer": answer}
        )
        if request.payload.get("s256") is not None:
            self._missions.log(request.payload["s256"], "question answered", answer=answer)

    def decline(self, interaction_id: str, person: Person) -> None:
        """The person will not answer: the agent's poll gets ``403 denied``."""
        request = self._of_type(interaction_id, person, frozenset({QUESTION}))
        finish_pending(self._pending, request.id, PendingState.DENIED, person.id, None)
        if request.payload.get("s256") is not None:
            self._missions.log(request.payload["s256"], "question declined")

    def callback_url(self, interaction_id: str) -> str:
        """This PS's per-flow callback, where the other server sends the person back."""
        return f"{self._identifier}/relays/{interaction_id}/callback"

    def _file(self, person: str, request_id: str) -> None:
        def add(current: dict[str, Any] | None) -> dict[str, Any]:
            return {"ids": [request_id, *(current or {}).get("ids", ())][:MAX_INBOX]}

        update_record(self._store, _INBOX_NS, person, add)


def _link(body: dict[str, Any], loopback: bool) -> dict[str, Any]:
    """An ``interaction``'s or ``payment``'s ``url``, ``code`` and ``description``, checked."""
    url, code = body.get("url"), body.get("code")
    if not is_endpoint_url(url, allow_loopback_http=loopback):
        raise InvalidRequest("'url' must be an https URL without query or fragment")
    if not isinstance(code, str) or not code.strip() or len(code) > MAX_CODE:
        raise InvalidRequest(f"'code' must be a non-empty string of at most {MAX_CODE}")
    description = body.get("description")
    if description is not None:
        description = markdown_text(description, "description")
    return {"url": url, "code": code, "description": description}
