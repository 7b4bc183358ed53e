"""Chained calls whose downstream grant needs a person (protocol-10 "Interaction Chaining").

When the downstream person server answers 202 with an interaction, this resource answers its
own caller with its own 202: its own pending URL, its own interaction URL and code (RS-20);
the downstream URL, code and pending URL stay in the store. The person enters through this
resource's interaction endpoint, which consumes its code once and sends them downstream with a
per-flow callback back here. Every poll of this resource's pending URL polls the downstream
pending URL once (a long poll rides on a long poll); once the person approved, the downstream
call is made and its answer delivered here, exactly once. A refusal downstream — by poll or
by the callback's ``error`` — ends the request with the mapped error (PS-26 mapping), and a
cancel here cancels downstream too. Nothing lives only in memory, so a restart loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
from aauth_signing import SignatureError

from ..agent.flow import run_async
from ..callbacks import CALLBACK_ERRORS, check_callback, ended_with, with_error
from ..discovery import Discovery
from ..errors import (
    AAuthError,
    Gone,
    InvalidCode,
    InvalidRequest,
    NotFound,
    PendingAbandoned,
    PendingDenied,
    PendingExpired,
    ServerError,
)
from ..identifiers import agent_provider_of
from ..metadata import AgentProviderMetadata
from ..pending import (
    PendingRequest,
    PendingRequests,
    PendingState,
    outcome_error,
    waiting_answer,
)
from .caller import VerifiedCaller
from .chaining import (
    ChainingClient,
    Deferred,
    DownstreamCall,
    DownstreamError,
    downstream_body,
)

__all__ = ["Answer", "ChainedRequests", "Interstitial"]

_STATE_OF_ERROR: dict[type[AAuthError], PendingState] = {
    PendingDenied: PendingState.DENIED,
    PendingAbandoned: PendingState.ABANDONED,
    PendingExpired: PendingState.EXPIRED,
}


@dataclass(frozen=True)
class Answer:
    """A response for the caller: status, JSON body, headers."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Interstitial:
    """What the person sees here before continuing downstream: the code their agent showed
    (to compare), who will ask them, and the link that takes them there."""

    code: str
    person_server: str
    link: str


def _json(response: httpx.Response) -> Any:
    try:
        return downstream_body(response)
    except InvalidRequest:
        return {"text": response.text[:4000]}


class ChainedRequests:
    """Downstream calls on behalf of callers, and the pending state of deferred ones.

    ``http`` sends the downstream requests; ``discovery`` reads agent providers' metadata to
    check a callback an agent asks to be sent back to. A pending request here is owned by
    the caller's agent identifier and key thumbprint: only that pair may poll or cancel it.
    ``pending`` is where they are kept; ``client`` makes the downstream calls.
    """

    def __init__(
        self,
        resource: str,
        client: ChainingClient,
        pending: PendingRequests,
        http: httpx.AsyncClient,
        *,
        discovery: Discovery | None = None,
        poll_interval: int = 5,
        allow_loopback_http: bool = False,
    ) -> None:
        self.resource = resource
        self.client = client
        self.pending = pending
        self._http = http
        self._discovery = discovery
        self._interval = poll_interval
        self._loopback = allow_loopback_http
        self._busy: dict[str, tuple[asyncio.Lock, int]] = {}

    @property
    def interaction_url(self) -> str:
        return f"{self.resource}/interact"

    def location(self, request_id: str) -> str:
        return f"{self.resource}/pending/{request_id}"

    # -- the caller's side ---------------------------------------------------------------------

    async def call(
        self,
        caller: VerifiedCaller,
        upstream_token: str,
        call: DownstreamCall,
        *,
        interaction: bool,
    ) -> Answer:
        """Make ``call`` for ``caller`` (who presented ``upstream_token``): the downstream
        answer, or this resource's own 202 when a person must consent downstream first."""
        if caller.agent_id is None:
            raise InvalidRequest("a chained call needs an identified caller")
        flow = self.client.call(call, upstream_token, interaction=interaction)
        try:
            outcome = await run_async(flow, self._http)
        except httpx.TransportError as exc:
            raise DownstreamError(f"cannot reach {call.resource}: {type(exc).__name__}") from None
        except AAuthError as exc:
            if exc.status in (400, 401):
                # Not the caller's mistake: this resource or its downstream misbehaved.
                raise DownstreamError(f"downstream: {exc.code}: {exc.description}") from None
            raise
        if not isinstance(outcome, Deferred):
            return Answer(outcome.status_code, _json(outcome))
        request = self.pending.create(
            caller.agent_id,
            caller.thumbprint,
            {"deferred": outcome.to_json()},
            requirement="interaction",
            with_code=True,
        )
        return self._waiting(request, waited=False)

    def _waiting(self, request: PendingRequest, *, waited: bool) -> Answer:
        body, headers = waiting_answer(
            request,
            interaction_url=self.interaction_url,
            location=self.location(request.id),
            retry_after=0 if waited else self._interval,
            allow_loopback_http=self._loopback,
        )
        return Answer(202, body, headers)

    def _owned(self, request_id: str, caller: VerifiedCaller) -> PendingRequest:
        request = self.pending.get(request_id)
        if request is None or not request.owned_by(caller.agent_id or "", caller.thumbprint):
            raise NotFound("no such pending request")
        return request

    async def poll(self, request_id: str, caller: VerifiedCaller, wait: int) -> Answer:
        """GET on this resource's pending URL: one (long) poll downstream, then the answer."""
        self._owned(request_id, caller)
        async with self._exclusive(request_id):
            request = self.pending.get(request_id)
            assert request is not None
            if not request.state.terminal:
                deferred = Deferred.from_json(request.payload["deferred"])
                try:
                    outcome = await run_async(self.client.resume(deferred, wait), self._http)
                except httpx.TransportError:
                    return self._waiting(request, waited=False)  # downstream is unreachable
                except AAuthError as exc:
                    self._end(request_id, _STATE_OF_ERROR.get(type(exc), PendingState.FAILED), exc)
                else:
                    if outcome is None:
                        current = self.pending.get(request_id) or request
                        if not current.state.terminal:
                            return self._waiting(current, waited=wait > 0)
                    else:
                        result = {"status": outcome.status_code, "body": _json(outcome)}
                        self._end(request_id, PendingState.COMPLETED, None, result)
        return self._report(request_id)

    def _end(
        self,
        request_id: str,
        state: PendingState,
        error: AAuthError | None,
        result: dict[str, Any] | None = None,
    ) -> None:
        if error is not None:
            result = {"error": error.description}

        def end(current: PendingRequest) -> PendingRequest | None:
            if current.state.terminal:
                return None
            return replace(current, state=state, result=result)

        self.pending.update(request_id, end)

    def _report(self, request_id: str) -> Answer:
        reported = self.pending.report(request_id)
        if reported is None:
            raise Gone("this pending request has already ended")
        result = reported.result or {}
        if reported.state is PendingState.COMPLETED:
            # §F.4: 200 ends the poll, with the original request's success body.
            return Answer(200, result["body"], {"Cache-Control": "no-store"})
        if reported.state is PendingState.FAILED:
            raise ServerError(str(result.get("error") or "the downstream request failed"))
        raise outcome_error(reported.state)

    async def cancel(self, request_id: str, caller: VerifiedCaller) -> None:
        """DELETE on this resource's pending URL: end it here and downstream (410 after)."""
        request = self._owned(request_id, caller)
        self.pending.cancel(request_id)
        if not request.state.terminal:
            deferred = Deferred.from_json(request.payload["deferred"])
            await run_async(self.client.cancel(deferred), self._http)

    @contextlib.asynccontextmanager
    async def _exclusive(self, request_id: str) -> AsyncIterator[None]:
        """One downstream poll per request at a time, so two polls cannot both see (and
        race to record) the one answer the downstream pending URL gives."""
        lock, users = self._busy.get(request_id, (asyncio.Lock(), 0))
        self._busy[request_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._busy[request_id]
            if users == 1:
                del self._busy[request_id]
            else:
                self._busy[request_id] = (lock, users - 1)

    # -- the person's side ---------------------------------------------------------------------

    async def enter(self, code: str, callback: str | None) -> Interstitial:
        """The person arrives with this resource's code (RS-17): single use (V-37), then on
        to the downstream interaction with this resource's per-flow callback."""
        request = self.pending.redeem_code(code)
        target = await self._agent_callback(request, callback)

        def arrive(current: PendingRequest) -> PendingRequest | None:
            if current.state is not PendingState.PENDING:
                return None
            payload = {**current.payload, "callback": target}
            return replace(current, state=PendingState.INTERACTING, payload=payload)

        if self.pending.update(request.id, arrive) is None:
            raise InvalidCode("this code has already been used")
        deferred = Deferred.from_json(request.payload["deferred"])
        flow = httpx.QueryParams({"flow": request.interaction_id or ""})
        link = deferred.person_link(f"{self.client.agent.callback_endpoint}?{flow}")
        return Interstitial(request.code or code, deferred.ps, link)

    async def _agent_callback(self, request: PendingRequest, callback: str | None) -> str | None:
        """The agent's ``callback``, when its agent provider publishes it (§H.5)."""
        if not callback:
            return None
        if self._discovery is None:
            raise InvalidRequest("this resource cannot check callbacks")
        provider = agent_provider_of(request.owner_iss, allow_loopback_http=self._loopback)
        try:
            metadata = await self._discovery.aget_document(provider, AgentProviderMetadata)
        except (AAuthError, SignatureError):
            raise InvalidRequest("the agent's callback endpoint cannot be checked") from None
        return check_callback(
            callback,
            endpoint=metadata.callback_endpoint,
            localhost_allowed=metadata.localhost_callback_allowed,
        )

    def returned(self, flow_id: str, error: str | None) -> str | None:
        """The person is back from downstream; an ``error`` ends the request (mapped as
        PS-26 maps it). Returns the agent's callback to send them on to, if it gave one."""
        request = self.pending.by_interaction(flow_id)
        if request is None:
            raise NotFound("there is no such interaction")
        if error is not None:
            state = ended_with(error)
            reported = ServerError(f"the person server reported {error[:64]!r}")
            self._end(request.id, state, reported)
        target = request.payload.get("callback")
        if not isinstance(target, str):
            return None
        if error is None:
            return target
        return with_error(target, error if error in CALLBACK_ERRORS else "server_error")
