"""The pending URL of a token request (protocol-10 §F.4): poll, long-poll, cancel, answer.

Only the agent that made the request may touch it (V-32): anyone else, like an unknown id,
gets 404, so the URL reveals nothing. While a person decides, polls get 202 with the
interaction requirement, ``Location``, ``Retry-After`` and ``Cache-Control: no-store`` (V-31);
``Prefer: wait=N`` holds a poll until the request changes, which happens the moment the person
decides or asks a question. While a question is open, polls get 202 with
``requirement=clarification`` and the question, and the agent answers with a POST carrying
an ``action`` (V-34): ``clarification_response``, or ``updated_request`` with a resource
token for a narrower scope (:mod:`aauth.person.clarification`); a mission proposal's
questions take ``clarification_response`` only. A POST is answered like a
poll. A terminal outcome is reported exactly once (200 with the auth token, or the problem
for denied/expired/invalid code); afterwards, and after DELETE, the URL answers 410 (V-33).
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import (
    Gone,
    InvalidRequest,
    NotFound,
)
from ..headers import (
    MISSION_HEADER,
    ApprovalRequirement,
    ClarificationRequirement,
    InteractionRequirement,
    MissionRef,
    build_challenge,
    build_mission,
)
from ..json_body import parse_json_object
from ..pending import PendingRequest, PendingRequests, PendingState, outcome_error
from ..tokens import AgentTokenClaims
from .clarification import ANSWER_ACTIONS, ClarificationChat, checked_text, open_question
from .grant import Grant
from .issuance import token_response
from .mission_endpoint import PROPOSAL

__all__ = ["PendingEndpoint", "Reply", "mission_approval", "prefer_wait", "report_outcome"]

_WAIT = re.compile(r'wait\s*=\s*"?([0-9]{1,6})"?')
Updater = Callable[[Grant, str, str | None], Awaitable[Grant]]
"""Checks an ``updated_request``'s resource token against the request; the new grant."""


def prefer_wait(header: str | None, cap: int) -> int | None:
    """The seconds a ``Prefer: wait=N`` header (RFC 7240) asks for, at most ``cap``."""
    for preference in (header or "").split(","):
        match = _WAIT.fullmatch(preference.split(";", 1)[0].strip())
        if match:
            return min(int(match.group(1)), cap)
    return None


@dataclass(frozen=True)
class Reply:
    """A successful answer: status, JSON body and headers; ``content``, when set, is the
    exact body to send instead of ``body`` serialised (a mission blob, §F.8)."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None


def mission_approval(blob: str, approver: str, s256: str, loopback: bool) -> Reply:
    """The 200 that approves a mission: ``AAuth-Mission`` and the blob's exact bytes
    (PS-19, PS-20)."""
    header = build_mission(MissionRef(approver, s256), allow_loopback_http=loopback)
    headers = {MISSION_HEADER: header, "Cache-Control": "no-store"}
    return Reply(200, {}, headers, content=blob.encode("utf-8"))


def report_outcome(
    pending: PendingRequests, request_id: str, now: float, loopback: bool = False
) -> Reply:
    """The terminal outcome of a request, handed over exactly once (V-33): 200 with the auth
    token (or a mission approval, or another endpoint's body), or the problem for
    denied/abandoned/expired/invalid code; 410 once reported."""
    reported = pending.report(request_id)
    if reported is None:
        raise Gone("this pending request has already ended")
    result = reported.result
    if reported.state is PendingState.COMPLETED and result is not None:
        if "mission_blob" in result:
            return mission_approval(
                result["mission_blob"], result["approver"], result["s256"], loopback
            )
        if "auth_token" not in result:
            return Reply(200, dict(result), {"Cache-Control": "no-store"})
        body = token_response(str(result["auth_token"]), now)
        return Reply(200, body, {"Cache-Control": "no-store"})
    raise outcome_error(reported.state)


class PendingEndpoint:
    """Answers for the pending URLs ``{identifier}/pending/{id}``."""

    def __init__(
        self,
        pending: PendingRequests,
        *,
        identifier: str,
        interaction_url: str,
        poll_interval: int,
        chat: ClarificationChat | None = None,
        updater: Updater | None = None,
        allow_loopback_http: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._pending = pending
        self._chat = chat or ClarificationChat(pending, clock=clock)
        self._updater = updater
        self._identifier = identifier
        self._interaction_url = interaction_url
        self._interval = poll_interval
        self._loopback = allow_loopback_http
        self._clock = clock

    @property
    def interaction_url(self) -> str:
        """Where people enter this PS's interaction codes."""
        return self._interaction_url

    def location(self, request_id: str) -> str:
        return f"{self._identifier}/pending/{request_id}"

    def waiting(self, request: PendingRequest, *, waited: bool) -> Reply:
        """The 202 for a request a person has yet to decide (V-31); after a long poll the
        agent may poll again at once. An open question is sent instead of the interaction,
        with the seconds left to answer it. Without an interaction code the person is reached
        here, on their own pages: ``requirement=approval``."""
        question = open_question(request)
        requirement: ApprovalRequirement | ClarificationRequirement | InteractionRequirement
        if question is not None:
            requirement = ClarificationRequirement()
        elif request.code is None:
            requirement = ApprovalRequirement()
        else:
            requirement = InteractionRequirement(self._interaction_url, request.code)
        headers = build_challenge(
            requirement,
            location=self.location(request.id),
            retry_after=0 if waited or question else self._interval,
            allow_loopback_http=self._loopback,
        )
        interacting = request.state is PendingState.INTERACTING
        body: dict[str, Any] = {"status": "interacting" if interacting else "pending"}
        if question is not None:
            body["clarification"] = question.question
            body["timeout"] = max(0, int(request.expires_at - self._clock()))
        return Reply(202, body, headers)

    def owned(self, request_id: str, agent: AgentTokenClaims) -> PendingRequest:
        """The request, when ``agent`` made it; 404 otherwise, like an unknown id (V-32)."""
        request = self._pending.get(request_id)
        if request is None or not request.owned_by(agent.iss, agent.sub):
            raise NotFound("no such pending request")
        return request

    async def poll(self, request_id: str, agent: AgentTokenClaims, wait: int) -> Reply:
        """GET: the current answer, held up to ``wait`` seconds until the state changes (the
        person opens the page, asks, or decides); an open question is answered at once."""
        request = self.owned(request_id, agent)
        seen, deadline = request.state, self._clock() + wait
        while (
            request.state is seen
            and not seen.terminal
            and open_question(request) is None
            and deadline > self._clock()
        ):
            changed = await self._pending.wait_for_change(request, deadline - self._clock())
            if changed is request:
                break
            request = changed
        if not request.state.terminal:
            return self.waiting(request, waited=wait > 0)
        return self._report(request)

    def _report(self, request: PendingRequest) -> Reply:
        return report_outcome(self._pending, request.id, self._clock(), self._loopback)

    def cancel(self, request_id: str, agent: AgentTokenClaims) -> None:
        """DELETE: end the request; from now on its URL answers 410."""
        self.owned(request_id, agent)
        self._pending.cancel(request_id)

    async def answer(self, request_id: str, agent: AgentTokenClaims, raw_body: bytes) -> None:
        """POST: the agent's answer to the open question (V-34, PS-29). 400 without a
        recognised ``action``, with nothing to answer, or with an answer over the size cap;
        a request that has ended meanwhile is left for the poll that follows to report."""
        request = self.owned(request_id, agent)
        if request.reported:
            raise Gone("this pending request has already ended")
        try:
            body = parse_json_object(raw_body, what="the body")
        except InvalidRequest as exc:
            raise InvalidRequest(
                f"a POST to a pending URL needs a JSON object with an 'action' (V-34): "
                f"{exc.description}"
            ) from None
        action = body.get("action")
        if not isinstance(action, str) or action not in ANSWER_ACTIONS:
            raise InvalidRequest("a POST to a pending URL needs a recognised 'action' (V-34)")
        if request.state.terminal:
            return
        if open_question(request) is None:
            raise InvalidRequest("no clarification is outstanding for this request")
        limit = self._chat.limits.max_length
        if body["action"] == "clarification_response":
            text = checked_text(body.get("clarification_response"), "clarification_response", limit)
            self._chat.answer(request, "clarification_response", text)
            return
        if request.payload.get("kind") == PROPOSAL:
            raise InvalidRequest("a mission proposal is answered with 'clarification_response'")
        token = body.get("resource_token")
        if not isinstance(token, str) or not token:
            raise InvalidRequest("an updated_request needs a 'resource_token'")
        why = body.get("justification")
        justification = None if why is None else checked_text(why, "justification", limit)
        if self._updater is None:
            raise InvalidRequest("this server does not accept updated requests")
        grant = await self._updater(Grant.from_json(request.payload), token, justification)
        self._chat.answer(
            request,
            "updated_request",
            justification or "(no justification given)",
            payload=grant.to_json(),
            scope=grant.scope,
        )
