"""A person deciding on a pending token request (protocol-10 §F.5, §H.5).

The interaction code only finds the request; deciding needs a signed-in person (PS-27), and
only the person the agent is bound to, or anyone while it is unbound and binding on first
approval is on (PS-28). Every step re-checks the code, so a used or expired code, or one
whose request ran out of attempts, fails the same way wherever it is presented (V-37 … V-39).
Approval mints the auth token and stores it as the request's result in the same atomic
update that completes it, which wakes the agent's long poll. Before deciding, the person may
ask the agent questions (phase 8); the conversation is part of what the page shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..callbacks import check_callback, with_error
from ..errors import (
    AAuthError,
    Forbidden,
    InvalidCode,
    InvalidRequest,
    NotFound,
)
from ..pending import PendingRequest, PendingRequests, PendingState
from ..tokens import Actor
from .audit import AuditEvent, AuditLog
from .bindings import AgentBindings
from .clarification import ClarificationChat, Round, conversation, open_question
from .consents import Consents
from .grant import Grant
from .issuance import AuthTokenMinter
from .persons import Person

__all__ = [
    "IDENTITY_SCOPES",
    "ConsentView",
    "ConsentFlow",
    "LoginRequired",
    "Outcome",
    "Review",
    "checked_callback",
]

IDENTITY_SCOPES = {
    "openid": "Know you at this resource by an identifier made for it alone",
    "profile": "See your name",
}
"""What this PS's own identity scopes mean, for the consent page."""


class LoginRequired(AAuthError):
    """The agent asked for ``prompt=login``: the person must sign in again first."""

    code, status = "login_required", 401


@dataclass(frozen=True)
class ConsentView:
    """Everything the person should see before deciding (§H.5: full context)."""

    agent_id: str
    agent_name: str | None
    resource_id: str
    resource_name: str | None
    scopes: Sequence[tuple[str, str | None]]
    justification: str | None
    code: str
    device: str | None = None
    platform: str | None = None
    subagent: str | None = None
    conversation: Sequence[Round] = ()
    questions_left: int = 0
    awaiting_answer: bool = False
    token_lifetime: int | None = None
    """Seconds the auth token lives if the person approves now."""
    remembered_for: float | None = None
    """Seconds an approval may be remembered (the person chooses); None: never remembered."""
    on_behalf_of: tuple[str, ...] = ()
    """For a chained request (§D.4): the agents it extends, nearest first."""

    @property
    def can_ask(self) -> bool:
        """A question may be put now: the agent can answer, none is open, rounds are left."""
        return self.questions_left > 0 and not self.awaiting_answer


@dataclass(frozen=True)
class Review:
    """What a person sees before deciding; ``callback`` is where they go afterwards."""

    request: PendingRequest
    view: ConsentView
    callback: str | None


@dataclass(frozen=True)
class Outcome:
    """A decision taken; ``redirect`` is the agent's callback to send the person to."""

    approved: bool
    redirect: str | None


def checked_callback(grant: Grant, callback: str | None) -> str | None:
    """``callback`` when it is the agent's published ``callback_endpoint`` (any query), or a
    loopback URL its provider allows; InvalidRequest otherwise (no open redirect, §H.5)."""
    return check_callback(
        callback,
        endpoint=grant.callback_endpoint,
        localhost_allowed=grant.localhost_callback_allowed,
    )


def _chain(grant: Grant) -> tuple[str, ...]:
    """The agents a chained grant extends (its ``act``, checked when the request came in)."""
    if grant.act is None:
        return ()
    return Actor.from_claim(grant.act, "act", allow_loopback_http=True).chain


class ConsentFlow:
    """Shows pending token requests to people and records their decisions."""

    def __init__(
        self,
        pending: PendingRequests,
        bindings: AgentBindings,
        consents: Consents,
        minter: AuthTokenMinter,
        *,
        chat: ClarificationChat | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        self._pending = pending
        self._chat = chat
        self._audit = audit
        self._bindings = bindings
        self._consents = consents
        self._minter = minter

    def find(self, code: str) -> PendingRequest:
        """The request a code typed on the code page belongs to (V-37, V-39)."""
        return self._pending.redeem_code(code)

    def redeem(
        self, interaction_id: str, code: str, person: Person
    ) -> tuple[PendingRequest, Grant]:
        """The undecided request behind ``interaction_id`` and ``code`` (checked, counted),
        when ``person`` may decide it (PS-28; a chained one: the upstream grant's person)."""
        if self._pending.by_interaction(interaction_id) is None:
            raise NotFound("there is no such request")
        request = self._pending.redeem_code(code, interaction_id)
        if request.decided_by is not None:
            raise InvalidCode("the code has already been used")
        grant = Grant.from_json(request.payload)
        if grant.chained:
            if grant.person != person.id:
                raise Forbidden("this chained request extends another person's grant")
        elif not self._bindings.may_approve(grant.agent_iss, grant.agent, person.id):
            raise Forbidden("this agent acts for another person (PS-28)")
        return request, grant

    def review(
        self,
        interaction_id: str,
        code: str,
        person: Person,
        *,
        signed_in_at: float,
        callback: str | None,
    ) -> Review:
        """Open the request for ``person``; it becomes ``interacting`` (the agent stops
        prompting)."""
        request, grant = self.redeem(interaction_id, code, person)
        target = checked_callback(grant, callback)
        if grant.fresh_login and signed_in_at < request.created_at:
            raise LoginRequired("the agent asked that you sign in again")

        self._pending.interacting(request.id)
        view = ConsentView(
            agent_id=grant.agent,
            agent_name=grant.agent_name,
            resource_id=grant.resource,
            resource_name=grant.resource_name,
            scopes=[
                (s, grant.scope_descriptions.get(s) or IDENTITY_SCOPES.get(s)) for s in grant.scope
            ],
            justification=grant.justification,
            code=request.code or code,
            device=grant.device,
            platform=grant.platform,
            subagent=grant.subagent,
            conversation=conversation(request),
            questions_left=self._questions_left(request, grant),
            awaiting_answer=open_question(request) is not None,
            token_lifetime=self._minter.lifetime_for(grant),
            remembered_for=self._consents.remembered_for,
            on_behalf_of=_chain(grant),
        )
        return Review(request, view, target)

    def _questions_left(self, request: PendingRequest, grant: Grant) -> int:
        if self._chat is None or not grant.can_clarify:
            return 0
        return self._chat.questions_left(request)

    def ask(self, interaction_id: str, code: str, person: Person, question: str) -> None:
        """Put ``person``'s question to the agent (it sees it on its next poll)."""
        request, grant = self.redeem(interaction_id, code, person)
        if self._chat is None or not grant.can_clarify:
            raise InvalidRequest("this agent cannot answer questions (no 'clarification')")
        self._chat.ask(request.id, question, person.id)

    def decide(
        self,
        interaction_id: str,
        code: str,
        person: Person,
        *,
        approve: bool,
        callback: str | None,
        remember: bool = True,
    ) -> Outcome:
        """Record ``person``'s decision; approval issues the auth token (stored as the result)
        and, unless ``remember`` is False (this request only), is remembered for later."""
        request, grant = self.redeem(interaction_id, code, person)
        target = checked_callback(grant, callback)
        if not approve:
            self._finish(request.id, PendingState.DENIED, person, None)
            self._log(person, "denial", grant, "denied")
            return Outcome(False, with_error(target, "access_denied"))
        if grant.access_server is not None:
            return self._approve_federated(request.id, grant, person, target, remember)
        token = self._minter.mint(grant, person)
        if not grant.chained and not self._bindings.claim(grant.agent_iss, grant.agent, person.id):
            raise Forbidden("this agent acts for another person (PS-28)")
        self._finish(request.id, PendingState.COMPLETED, person, token)
        if remember:
            self._consents.remember(
                person.id, grant.agent_iss, grant.agent, grant.resource, grant.scope
            )
        self._log(person, "consent", grant, "approved")
        self._log(person, "grant", grant, "approved")
        return Outcome(True, target)

    def _log(self, person: Person, event: AuditEvent, grant: Grant, how: str) -> None:
        if self._audit is not None:
            self._audit.record(person.id, event, grant.agent, grant.resource, grant.scope, how)

    def _approve_federated(
        self, request_id: str, grant: Grant, person: Person, target: str | None, remember: bool
    ) -> Outcome:
        """Phase 7: the person approved; the access server decides next. The request stays
        open with ``decided_by`` set, and the agent's next poll takes it to the AS."""
        if not self._bindings.claim(grant.agent_iss, grant.agent, person.id):
            raise Forbidden("this agent acts for another person (PS-28)")

        def approved(current: PendingRequest) -> PendingRequest | None:
            if current.state.terminal or current.decided_by is not None:
                return None
            return replace(current, decided_by=person.id)

        if self._pending.update(request_id, approved) is None:
            raise InvalidCode("this request has already been decided")
        if remember:
            self._consents.remember(
                person.id, grant.agent_iss, grant.agent, grant.resource, grant.scope
            )
        self._log(person, "consent", grant, "approved; the access server decides next")
        return Outcome(True, target)

    def _finish(
        self, request_id: str, state: PendingState, person: Person, token: str | None
    ) -> None:
        result = None if token is None else {"auth_token": token}

        def finish(current: PendingRequest) -> PendingRequest | None:
            if current.state.terminal:
                return None
            return replace(current, state=state, decided_by=person.id, result=result)

        if self._pending.update(request_id, finish) is None:
            raise InvalidCode("this request has already been decided")
