"""The steps between an access server's token request and its auth token (protocol-10 §F.7).

A request that needs nothing is granted at once. Otherwise it becomes a pending request owned
by the person server that asked, and runs its steps in order on that one pending URL:
``payment`` (402 with ``Location``, AS-06), ``interaction`` (202, a person approves on this
AS's page), ``clarification`` and ``claims`` (202s the PS answers with a signed POST, AS-07).
The last step mints the token in the same atomic update that completes the request, which
wakes the PS's long poll; the token is then reported exactly once (V-33).

Person-facing steps get their own single-use code: once a step is done its code is
``invalid_code`` wherever it is presented again (V-37), and after its request expired it is
``expired`` (V-39). Everything is in the store, so a restarted server resumes every step.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from aauth_signing import b64url_encode

from ..callbacks import check_callback
from ..errors import (
    ExpiredAgentToken,
    Gone,
    InvalidCode,
    InvalidRequest,
    NotFound,
    PendingExpired,
)
from ..headers import (
    ClaimsRequirement,
    ClarificationRequirement,
    InteractionRequirement,
    build_challenge,
)
from ..interaction_code import generate_code, normalize_code
from ..json_body import parse_json_object
from ..pending import PendingRequest, PendingRequests, PendingState
from ..person.polling import Reply, report_outcome
from ..store.base import Store
from .config import AccessServerConfig
from .issuance import AccessTokenMinter
from .request import (
    CLAIMS,
    CLARIFICATION,
    INTERACTION,
    PAYMENT,
    PERSON_STEPS,
    AccessRequest,
)

__all__ = ["AccessFlow"]

_CODE_NS = "access-code"
_BILLING_NS = "access-billing"
_TOLD_NS = "access-told"
MAX_CLAIM = 256
MAX_ANSWER = 4000


class AccessFlow:
    """Runs the steps of this AS's pending token requests over ``store``."""

    def __init__(
        self,
        config: AccessServerConfig,
        store: Store,
        pending: PendingRequests,
        minter: AccessTokenMinter,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._config = config
        self._store = store
        self._pending = pending
        self._minter = minter
        self._clock = clock

    # -- starting ------------------------------------------------------------------------------

    def billed(self, ps: str) -> bool:
        """Whether ``ps`` has settled its billing here (the payment step is then skipped)."""
        return self._store.get(_BILLING_NS, ps) is not None

    def _steps(self, ps: str) -> tuple[str, ...]:
        config = self._config
        wanted = (
            (PAYMENT, config.payment is not None and not self.billed(ps)),
            (INTERACTION, config.interaction),
            (CLARIFICATION, config.clarification is not None),
            (CLAIMS, bool(config.required_claims)),
        )
        return tuple(step for step, needed in wanted if needed)

    def start(self, request: AccessRequest) -> str | PendingRequest:
        """The auth token at once, or the pending request whose first step is now awaited."""
        steps = self._steps(request.ps)
        if not steps:
            return self._minter.mint(request)
        lifetime = min(self._config.pending_lifetime, request.agent_exp - self._clock())
        if lifetime <= 0:
            raise ExpiredAgentToken("the agent token expires before the steps could complete")
        code = generate_code() if steps[0] in PERSON_STEPS else None
        request = replace(request, steps=steps, code=code)
        created = self._pending.create(
            request.ps, request.ps, request.to_json(), requirement=steps[0], lifetime=lifetime
        )
        self._remember_code(code, created)
        return created

    def _remember_code(self, code: str | None, request: PendingRequest) -> None:
        key = None if code is None else normalize_code(code)
        if key is not None:
            self._store.create(_CODE_NS, key, {"id": request.id}, request.expires_at)

    # -- the pending URL, for the person server ------------------------------------------------

    def location(self, request_id: str) -> str:
        return f"{self._config.identifier}/pending/{request_id}"

    def page(self, name: str) -> str:
        """Where people complete a step (``pay`` or ``interact``)."""
        return f"{self._config.identifier}/{name}"

    def waiting(self, pending: PendingRequest, *, waited: bool) -> Reply:
        """The answer while a step is awaited: 402 for payment, 202 for the others."""
        request = AccessRequest.from_json(pending.payload)
        retry = 0 if waited else self._config.poll_interval
        loop = self._config.allow_loopback_http
        location = self.location(pending.id)
        body: dict[str, Any] = {"status": "pending"}
        if request.step in PERSON_STEPS:
            assert request.code is not None
            page = self.page("pay" if request.step == PAYMENT else "interact")
            requirement = InteractionRequirement(page, request.code)
            headers = build_challenge(
                requirement, location=location, retry_after=retry, allow_loopback_http=loop
            )
            if pending.state is PendingState.INTERACTING:
                body["status"] = "interacting"
            if request.step == INTERACTION:
                return Reply(202, body, headers)
            offer = json.dumps({"amount": self._config.payment}).encode("utf-8")
            headers["WWW-Authenticate"] = (
                f'Payment id="{pending.id}", method="simulated", request="{b64url_encode(offer)}"'
            )
            return Reply(402, {**body, "amount": self._config.payment}, headers)
        if request.step == CLARIFICATION:
            body["clarification"] = self._config.clarification
            headers = build_challenge(
                ClarificationRequirement(), location=location, retry_after=retry
            )
            return Reply(202, body, headers)
        body["required_claims"] = ["sub", *(c for c in self._config.required_claims if c != "sub")]
        headers = build_challenge(ClaimsRequirement(), location=location, retry_after=retry)
        return Reply(202, body, headers)

    def _owned(self, request_id: str, ps: str) -> PendingRequest:
        request = self._pending.get(request_id)
        if request is None or not request.owned_by(ps, ps):
            raise NotFound("no such pending request")
        return request

    async def poll(self, request_id: str, ps: str, wait: int) -> Reply:
        """GET: the current answer, held up to ``wait`` seconds until the request changes.

        A poll is held only while the PS already knows the current step (the last answer
        it got named it) and that step awaits someone else: a step the PS has not seen yet,
        or one that awaits the PS itself (claims, clarification), is answered at once.
        """
        request = self._owned(request_id, ps)
        if self._told(request) != self._seen(request_id):
            wait = 0
        if AccessRequest.from_json(request.payload).step in (CLAIMS, CLARIFICATION):
            wait = 0
        seen, deadline = request.version, self._clock() + wait
        while not request.state.terminal and deadline > self._clock():
            request = await self._pending.wait_for_change(request, deadline - self._clock())
            if request.version != seen:
                break
        if not request.state.terminal:
            self._remember_told(request)
            return self.waiting(request, waited=wait > 0)
        return report_outcome(self._pending, request.id, self._clock())

    @staticmethod
    def _told(request: PendingRequest) -> str:
        access = AccessRequest.from_json(request.payload)
        return f"{access.step}:{access.code}:{request.state.value}"

    def _seen(self, request_id: str) -> str | None:
        record = self._store.get(_TOLD_NS, request_id)
        return None if record is None else str(record.value["told"])

    def _remember_told(self, request: PendingRequest) -> None:
        """Note what the PS was last told about ``request`` (see :meth:`poll`)."""
        told = {"told": self._told(request)}
        record = self._store.get(_TOLD_NS, request.id)
        if record is None:
            self._store.create(_TOLD_NS, request.id, told, request.expires_at)
        elif record.value != told:
            self._store.replace(_TOLD_NS, request.id, told, record.version, request.expires_at)

    def answer(self, request_id: str, ps: str, raw_body: bytes) -> None:
        """POST: the PS's claims (no ``action``, §I.28) or its clarification answer."""
        current = self._owned(request_id, ps)
        if current.state.terminal:
            raise Gone("this pending request has already ended")
        body = parse_json_object(raw_body)
        step = AccessRequest.from_json(current.payload).step
        if step == CLAIMS:
            claims = self._claims(body)
            self._advance(request_id, CLAIMS, lambda r: replace(r, claims=claims))
        elif step == CLARIFICATION:
            answer = body.get("clarification_response")
            if body.get("action") != "clarification_response" or not isinstance(answer, str):
                raise InvalidRequest("answer with action 'clarification_response' (V-34)")
            text = answer[:MAX_ANSWER]
            self._advance(
                request_id, CLARIFICATION, lambda r: replace(r, clarification_answer=text)
            )
        else:
            raise InvalidRequest("this request awaits no answer from the person server")

    def _claims(self, body: dict[str, Any]) -> dict[str, str]:
        if "action" in body:
            raise InvalidRequest("a claims POST carries only claims")
        wanted = {"sub", *self._config.required_claims}
        missing = sorted(c for c in wanted if not isinstance(body.get(c), str) or not body[c])
        if missing:
            raise InvalidRequest(f"the claims {missing} are required as strings")
        if any(len(body[c]) > MAX_CLAIM for c in wanted):
            raise InvalidRequest(f"claims are at most {MAX_CLAIM} characters")
        return {c: str(body[c]) for c in wanted}

    def cancel(self, request_id: str, ps: str) -> None:
        """DELETE: end the request; its URL answers 410 from now on."""
        self._owned(request_id, ps)
        self._pending.cancel(request_id)

    # -- the steps people complete -------------------------------------------------------------

    def find(self, code: str, step: str) -> tuple[PendingRequest, AccessRequest]:
        """The request whose current ``step`` the typed ``code`` belongs to."""
        key = normalize_code(code)
        record = self._store.get(_CODE_NS, key) if key else None
        pending = self._pending.get(str(record.value["id"])) if record else None
        if pending is None:
            raise InvalidCode("unknown code")
        if pending.state is PendingState.EXPIRED:
            raise PendingExpired("the request this code belongs to has expired")
        request = AccessRequest.from_json(pending.payload)
        current = normalize_code(request.code) if request.code else None
        if pending.state.terminal or request.step != step or current != key:
            raise InvalidCode("the code has already been used")
        return pending, request

    def callback(self, code: str, step: str, callback: str | None) -> str | None:
        """Where to send the person when ``step`` ends: ``callback`` when it is on the origin
        of the person server that asked (its per-flow callback, when it relays the step
        through its own pages); None without one; InvalidRequest for any other URL."""
        _, request = self.find(code, step)
        return check_callback(
            callback,
            endpoint=request.ps,
            localhost_allowed=False,
            any_path=True,
        )

    def pay(self, code: str) -> AccessRequest:
        """The simulated payment: the PS's billing is settled, the request moves on."""
        pending, request = self.find(code, PAYMENT)
        self._advance(pending.id, PAYMENT, lambda r: r)
        self._store.create(_BILLING_NS, request.ps, {"paid_at": self._clock()}, None)
        return request

    def review(self, code: str) -> AccessRequest:
        """A person opened the interaction page: the PS sees ``interacting``."""
        pending, request = self.find(code, INTERACTION)

        self._pending.interacting(pending.id)
        return request

    def decide(self, code: str, person_id: str, *, approve: bool) -> None:
        """A signed-in person's decision on the interaction page."""
        pending, _ = self.find(code, INTERACTION)
        if approve:
            self._advance(pending.id, INTERACTION, lambda r: replace(r, approved_by=person_id))
            return

        def deny(current: PendingRequest) -> PendingRequest | None:
            if current.state.terminal:
                return None
            return replace(current, state=PendingState.DENIED, decided_by=person_id)

        if self._pending.update(pending.id, deny) is None:
            raise InvalidCode("this request has already been decided")

    def _advance(
        self, request_id: str, step: str, change: Callable[[AccessRequest], AccessRequest]
    ) -> None:
        """Complete ``step`` atomically; the last step mints the token into the result."""
        codes: list[str | None] = []

        def apply(current: PendingRequest) -> PendingRequest | None:
            request = AccessRequest.from_json(current.payload)
            if current.state.terminal or request.step != step:
                return None
            following = request.steps[1] if len(request.steps) > 1 else None
            code = generate_code() if following in PERSON_STEPS else None
            request = change(request).advanced(code)
            codes.append(code)
            payload = request.to_json()
            if request.step is not None:
                return replace(
                    current, state=PendingState.PENDING, requirement=request.step, payload=payload
                )
            try:
                token = self._minter.mint(request)
            except ExpiredAgentToken:
                return replace(current, state=PendingState.EXPIRED, payload=payload)
            result = {"auth_token": token}
            return replace(current, state=PendingState.COMPLETED, payload=payload, result=result)

        updated = self._pending.update(request_id, apply)
        if updated is None:
            raise InvalidCode("this step is already complete")
        self._remember_code(codes[-1], updated)
