"""Federating with an access server (protocol-10 §F.7, phase 7): the person server's side.

When a resource token is addressed to an access server, the PS (once its own policy or its
person has approved) discovers ``{aud}/.well-known/aauth-access.json`` (PS-08) and POSTs
``resource_token`` and ``agent_token`` to its ``token_endpoint``, signed as itself with the
``jwks_uri`` scheme (PS-30). What the AS answers is carried on: claims are supplied at once,
with a directed ``sub`` for the resource (PS-15); a clarification is passed down to the agent
as the PS's own 202, on the PS's own pending URL, and the agent's answer is forwarded. A page
the AS needs the person on (its interaction, a payment) is relayed through this PS (-10
"Interaction Chaining"): the agent is shown the PS's own interaction URL and code, and the
PS's pages send the person on to the AS (:mod:`aauth.person.relay`). An auth token is
verified before the agent gets it (PS-12).

Nothing runs in the background: the agent's polls drive the exchange. Each poll of the PS
pending URL polls the AS pending URL once (long-polling it too), and the step reached is
kept in the store, so either server may restart between polls.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from aauth_signing import SignatureError

from ..errors import (
    AAuthError,
    ExpiredAgentToken,
    InvalidCode,
    InvalidRequest,
    InvalidToken,
    PendingAbandoned,
    PendingDenied,
    PendingExpired,
    ServerError,
)
from ..headers import (
    ApprovalRequirement,
    BuildableRequirement,
    ClaimsRequirement,
    ClarificationRequirement,
    HeaderError,
    InteractionRequirement,
    build_challenge,
    find_requirement,
)
from ..json_body import parse_json_object
from ..keys import thumbprint
from ..pending import PendingRequest, PendingRequests, PendingState
from ..store.base import Store
from ..tokens import AgentTokenClaims, TokenVerifier, check_auth_receipt
from ..tokens.verifier import AUTH_TOKEN
from .access_client import ERRORS, AccessServerClient, AccessServerUnavailable, failure, json_body
from .clarification import open_question
from .grant import Grant
from .persons import Person, PersonDirectory
from .polling import PendingEndpoint, Reply, report_outcome
from .subjects import PairwiseSubjects

__all__ = ["Federation"]

_NS = "federation"
MAX_CLAIM_ROUNDS = 4
_STATES: dict[type[AAuthError], PendingState] = {
    PendingDenied: PendingState.DENIED,
    PendingAbandoned: PendingState.ABANDONED,
    PendingExpired: PendingState.EXPIRED,
    InvalidCode: PendingState.INVALID_CODE,
}


@dataclass(frozen=True)
class _Step:
    """What the AS last asked for, kept per PS pending request: its pending URL and what to
    pass down to the agent (or the terminal error it answered)."""

    location: str | None = None
    requirement: str | None = None
    url: str | None = None
    code: str | None = None
    body: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    detail: str | None = None


class Federation:
    """Runs token requests whose resource token is addressed to an access server."""

    def __init__(
        self,
        client: AccessServerClient,
        *,
        tokens: TokenVerifier,
        pending: PendingRequests,
        endpoint: PendingEndpoint,
        people: PersonDirectory,
        subjects: PairwiseSubjects,
        store: Store,
        poll_interval: int,
        pending_lifetime: float,
        allow_loopback_http: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._pending_lifetime = pending_lifetime
        self._tokens = tokens
        self._pending = pending
        self._endpoint = endpoint
        self._people = people
        self._subjects = subjects
        self._store = store
        self._interval = poll_interval
        self._loopback = allow_loopback_http
        self._clock = clock

    @staticmethod
    def handles(request: PendingRequest) -> bool:
        """Whether ``request`` is a federated one (its resource token names an AS)."""
        return request.payload.get("access_server") is not None

    # -- talking to the access server ----------------------------------------------------------

    async def _exchange(
        self,
        grant: Grant,
        person: Person | None,
        location: str | None,
        wait: int = 0,
        answer: Mapping[str, Any] | None = None,
    ) -> _Step | str | None:
        """Ask the AS (its token endpoint; or poll ``location``, or POST ``answer`` to it) and
        settle what can be settled here: claims are supplied at once. The auth token, the step
        now awaited, or None when the AS could not be reached at its pending URL (nothing
        changed there)."""
        assert grant.access_server is not None
        try:
            if location is None:
                endpoint = await self._client.token_endpoint(grant.access_server)
                body = {"resource_token": grant.resource_token, "agent_token": grant.agent_token}
                if grant.subagent_token is not None:
                    body["subagent_token"] = grant.subagent_token
                if grant.upstream_token is not None:
                    body["upstream_token"] = grant.upstream_token  # AS-08: the AS checks it too
                response = await self._client.send("POST", endpoint, body)
            elif answer is not None:
                response = await self._client.send("POST", location, answer)
            else:
                response = await self._client.send("GET", location, wait=wait)
            for _ in range(MAX_CLAIM_ROUNDS):
                if response.status_code == 200:
                    return await self._verified(grant, response)
                if response.status_code not in (202, 402):
                    raise failure(response)
                step = self._step(response)
                if step.requirement != ClaimsRequirement.name:
                    return step
                assert step.location is not None
                response = await self._client.send(
                    "POST", step.location, self._claims(grant, person, step.body)
                )
            raise ServerError("the access server keeps asking for claims")
        except AccessServerUnavailable:
            if location is None:
                raise
            return None
        except (AAuthError, SignatureError) as exc:
            return _Step(error=exc.code, detail=exc.description)

    def _step(self, response: httpx.Response) -> _Step:
        raw = response.headers.get("location")
        here = str(response.request.url)
        location = urljoin(here, raw) if raw else None
        if location is None or urlsplit(location)[:2] != urlsplit(here)[:2]:
            raise ServerError("the access server's deferred answer has no same-origin Location")
        try:
            requirement = find_requirement(
                response.headers.multi_items(), allow_loopback_http=self._loopback
            )
        except HeaderError as exc:
            raise ServerError(
                f"the access server's AAuth-Requirement is malformed: {exc}"
            ) from None
        body = json_body(response)
        passed: dict[str, Any] = {
            k: body[k]
            for k in ("status", "clarification", "required_claims", "amount")
            if k in body
        }
        if response.status_code == 402:
            passed["payment"] = True
        if isinstance(requirement, InteractionRequirement) and requirement.url is not None:
            return _Step(location, "interaction", requirement.url, requirement.code, passed)
        name = None if requirement is None else requirement.name
        return _Step(location, name, body=passed)

    def _claims(
        self, grant: Grant, person: Person | None, asked: Mapping[str, Any]
    ) -> dict[str, str]:
        """PS-15: the claims the AS asked for that this PS holds, always with a directed
        ``sub`` for the resource; only for a person who approved (or is bound)."""
        if person is None:
            raise PendingDenied("the access server needs a person's claims and none approved")
        claims = {"sub": self._subjects.subject(person.id, grant.resource)}
        if "name" in asked.get("required_claims", ()):
            claims["name"] = person.name
        return claims

    async def _verified(self, grant: Grant, response: httpx.Response) -> str:
        """PS-12: the AS's token is for this resource, agent and key, from that AS, and no
        broader than the resource token; a sub-agent's names its parent in ``act``, a chained
        one the agent upstream of the intermediary (AS-08)."""
        token = json_body(response).get("auth_token")
        if not isinstance(token, str):
            raise ServerError("the access server's 200 carries no auth_token")
        try:
            claims = await self._tokens.averify(AUTH_TOKEN, token)
            check_auth_receipt(
                claims,
                resource=grant.resource,
                agent=grant.subagent or grant.agent,
                agent_jkt=thumbprint(grant.cnf_jwk),
                issuer=grant.access_server,
                upstream_agent=_upstream_agent(grant),
                resource_scope=grant.scope,
            )
        except (InvalidToken, SignatureError) as exc:
            raise ServerError(
                f"the access server's auth token is not acceptable: {exc.description}"
            ) from None
        return token

    # -- the PS side ---------------------------------------------------------------------------

    async def begin(self, grant: Grant, person: Person | None) -> str | PendingRequest:
        """A pre-approved request: the AS's token at once, or a pending request that follows
        what the AS asks for. A refusal the AS answers at once is the agent's answer too."""
        outcome = await self._exchange(grant, person, None)
        assert outcome is not None
        if isinstance(outcome, str):
            return outcome
        if outcome.error is not None:
            raise ERRORS.get(outcome.error, ServerError)(outcome.detail or outcome.error)
        lifetime = min(self._pending_lifetime, grant.agent_exp - self._clock())
        if lifetime <= 0:
            raise ExpiredAgentToken("the agent token has expired")
        request = self._pending.create(
            grant.agent_iss,
            grant.agent,
            grant.to_json(),
            requirement="federation",
            with_code=True,
            lifetime=lifetime,
        )
        request = (
            self._pending.update(
                request.id, lambda r: replace(r, decided_by=None if person is None else person.id)
            )
            or request
        )
        self._save(request, outcome)
        return request

    def _save(self, request: PendingRequest, step: _Step) -> None:
        """Keep the step the AS now awaits, and wake whoever waits on the request (the
        person's page that sends them on to the AS, :mod:`aauth.person.relay`)."""
        record = self._store.get(_NS, request.id)
        value, keep = asdict(step), request.expires_at + 24 * 3600
        if record is None:
            self._store.create(_NS, request.id, value, keep)
        else:
            self._store.replace(_NS, request.id, value, record.version, keep)
        self._pending.update(request.id, lambda current: current)

    def started(self, request_id: str) -> bool:
        """Whether this PS has asked the AS (the person's own consent, if needed, is done)."""
        return self._store.get(_NS, request_id) is not None

    def person_step(self, request_id: str) -> tuple[str, str] | None:
        """The AS page (``url``, ``code``) the person must complete now, when the AS awaits
        one (its interaction or a payment); None otherwise."""
        step = self._load(request_id)
        if step is None or step.error is not None or step.requirement != "interaction":
            return None
        return (step.url, step.code) if step.url and step.code else None

    def _load(self, request_id: str) -> _Step | None:
        record = self._store.get(_NS, request_id)
        return None if record is None else _Step(**record.value)

    def waiting(self, request: PendingRequest, *, waited: bool) -> Reply:
        """The PS's own 202 for a federated request, on this PS's pending URL: an AS page
        the person must see relayed as this PS's own interaction URL and code, an AS
        question passed down."""
        step = self._load(request.id)
        if step is None:
            return self._endpoint.waiting(request, waited=waited)
        requirement: BuildableRequirement = ApprovalRequirement()
        if step.requirement == "interaction" and step.url and request.code:
            requirement = InteractionRequirement(self._endpoint.interaction_url, request.code)
        elif step.requirement == ClarificationRequirement.name:
            requirement = ClarificationRequirement()
        headers = build_challenge(
            requirement,
            location=self._endpoint.location(request.id),
            retry_after=0 if waited else self._interval,
            allow_loopback_http=self._loopback,
        )
        body: dict[str, Any] = {"status": str(step.body.get("status", "pending"))}
        if "clarification" in step.body:
            body["clarification"] = str(step.body["clarification"])
        if step.body.get("payment"):
            body["payment"] = {"amount": str(step.body.get("amount", ""))}
        return Reply(202, body, headers)

    async def poll(self, request_id: str, agent: AgentTokenClaims, wait: int) -> Reply:
        """GET on a federated request's PS pending URL: until the PS's person approved, the
        usual consent wait; then one exchange with the AS per poll."""
        request = self._endpoint.owned(request_id, agent)
        if request.state.terminal:
            return self._report(request)
        step = self._load(request_id)
        if step is None and request.decided_by is None:
            request = await self._consented(request, wait)
            if request.state.terminal:
                return self._report(request)
            if request.decided_by is None:
                return self._endpoint.waiting(request, waited=wait > 0)
        person = None if request.decided_by is None else self._people.get(request.decided_by)
        location = None if step is None else step.location
        grant = Grant.from_json(request.payload)
        outcome = await self._exchange(grant, person, location, wait)
        if outcome is not None:
            request = self._settle(request, outcome)
        if request.state.terminal:
            return self._report(request)
        return self.waiting(request, waited=wait > 0)

    async def _consented(self, request: PendingRequest, wait: int) -> PendingRequest:
        """Hold the poll up to ``wait`` s until the PS's person opens the page, asks the agent
        a question, or decides."""
        state, deadline = request.state, self._clock() + wait
        while open_question(request) is None and deadline > self._clock():
            request = await self._pending.wait_for_change(request, deadline - self._clock())
            if request.state is not state or request.decided_by is not None:
                break
        return request

    def _settle(self, request: PendingRequest, outcome: _Step | str) -> PendingRequest:
        if isinstance(outcome, str):
            result = {"auth_token": outcome}

            def done(current: PendingRequest) -> PendingRequest | None:
                if current.state.terminal:
                    return None
                return replace(current, state=PendingState.COMPLETED, result=result)

            return (
                self._pending.update(request.id, done) or self._pending.get(request.id) or request
            )
        self._save(request, outcome)
        if outcome.error is None:
            return request
        state = _STATES.get(ERRORS.get(outcome.error, ServerError), PendingState.FAILED)

        def failed(current: PendingRequest) -> PendingRequest | None:
            return None if current.state.terminal else replace(current, state=state)

        return self._pending.update(request.id, failed) or self._pending.get(request.id) or request

    def _report(self, request: PendingRequest) -> Reply:
        step = self._load(request.id)
        if step is None or step.error is None or request.reported:
            return report_outcome(self._pending, request.id, self._clock())
        self._pending.report(request.id)
        raise ERRORS.get(step.error, ServerError)(step.detail or step.error)

    async def answer(self, request_id: str, agent: AgentTokenClaims, raw_body: bytes) -> bool:
        """POST from the agent: a clarification answer, forwarded to the AS; what the AS
        answers is settled like a poll's answer. False when no AS question is outstanding (the
        PS's own rules then apply)."""
        request = self._endpoint.owned(request_id, agent)
        step = self._load(request_id)
        if (
            step is None
            or step.requirement != ClarificationRequirement.name
            or step.location is None
        ):
            return False
        body = parse_json_object(raw_body)
        answer = body.get("clarification_response")
        if not isinstance(answer, str) or body.get("action") != "clarification_response":
            raise InvalidRequest("answer with action 'clarification_response' (V-34)")
        forwarded = {"action": "clarification_response", "clarification_response": answer}
        grant = Grant.from_json(request.payload)
        person = None if request.decided_by is None else self._people.get(request.decided_by)
        outcome = await self._exchange(grant, person, step.location, answer=forwarded)
        if outcome is not None:
            self._settle(request, outcome)
        return True

    async def cancel(self, request_id: str, agent: AgentTokenClaims) -> None:
        """DELETE: end the PS request, and the AS request behind it (best effort)."""
        self._endpoint.cancel(request_id, agent)
        await self.withdraw(request_id)

    async def withdraw(self, request_id: str) -> None:
        """End the AS request behind ``request_id`` (best effort), which also ends a poll of
        it that is waiting: the PS request has ended here."""
        step = self._load(request_id)
        if step is not None and step.location is not None and step.error is None:
            with contextlib.suppress(AAuthError):
                await self._client.send("DELETE", step.location)


def _upstream_agent(grant: Grant) -> str | None:
    """Who the AS's token must name first in ``act``: a sub-agent's parent, or for a chained
    request the agent that called the intermediary."""
    if grant.subagent is not None:
        return grant.agent
    return None if grant.act is None else str(grant.act["agent"])
