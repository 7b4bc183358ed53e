"""Calling a downstream resource on a caller's behalf (protocol-10 §D.4, "Call Chaining").

The resource signs as its own agent (:class:`~aauth.resource.agent_identity.ResourceAgent`).
When the downstream resource asks for an auth token, the token request goes where the
caller's grant came from — the upstream token's ``mission.approver``, else its ``iss`` — with
that token as ``upstream_token``. The auth token that comes back must name this resource as
``agent`` and the caller as ``act.agent`` (AG-17). A person server that needs its person
answers 202: the call is then :class:`Deferred`, to be resumed one poll at a time (phase 9),
and the downstream interaction URL and code stay here, never shown to the caller.

Everything is a :data:`~aauth.agent.flow.Flow`, run on whatever client the caller drives.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from ..agent.flow import Flow
from ..agent.missions import person_server_metadata
from ..agent.poller import is_deferred, pending_location, terminal_error
from ..agent.token_client import (
    TokenRequest,
    post_signed,
    received_auth_token,
)
from ..callbacks import interaction_link
from ..errors import AAuthError, InvalidRequest, ServerError
from ..headers import (
    AuthTokenRequirement,
    HeaderError,
    InteractionRequirement,
    find_requirement,
)
from ..json_body import parse_json
from ..tokens import check_resource_challenge, decode_unverified
from ..tokens.verifier import AUTH_TOKEN, RESOURCE_TOKEN
from .agent_identity import ResourceAgent

__all__ = [
    "MAX_DOWNSTREAM_BODY",
    "ChainingClient",
    "Deferred",
    "DownstreamCall",
    "DownstreamError",
    "downstream_body",
]


class DownstreamError(AAuthError):
    """The downstream resource answered the authorized call with an error of its own."""

    code: ClassVar[str] = "downstream_error"
    status: ClassVar[int] = 502


@dataclass(frozen=True)
class DownstreamCall:
    """One request to the downstream resource: ``method``, absolute ``url``, JSON ``body``."""

    method: str
    url: str
    body: bytes | None = None

    @property
    def resource(self) -> str:
        """The downstream resource's identifier (its origin)."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc.lower()}"

    def to_json(self) -> dict[str, Any]:
        body = None if self.body is None else base64.b64encode(self.body).decode("ascii")
        return {"method": self.method, "url": self.url, "body": body}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DownstreamCall:
        body = data.get("body")
        return cls(str(data["method"]), str(data["url"]), base64.b64decode(body) if body else None)


@dataclass(frozen=True)
class Deferred:
    """A downstream token request a person must decide: where to poll, what the person must
    open downstream, and what the eventual auth token must look like."""

    call: DownstreamCall
    pending_url: str
    interaction_url: str
    interaction_code: str
    ps: str
    issuer: str
    upstream_agent: str
    resource_token: str

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["call"] = self.call.to_json()
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Deferred:
        return cls(**{**data, "call": DownstreamCall.from_json(data["call"])})

    def person_link(self, callback: str) -> str:
        """The downstream interaction URL with its code and this resource's callback."""
        return interaction_link(self.interaction_url, self.interaction_code, callback)


MAX_DOWNSTREAM_BODY = 1024 * 1024
"""The largest downstream answer relayed as JSON; a longer one is relayed as text."""


def downstream_body(response: httpx.Response) -> Any:
    """The downstream answer's body as strict JSON (:mod:`aauth.json_body`), None when empty:
    what the caller is relayed must be writable again (no ``NaN``, lone surrogates or
    runaway nesting). InvalidRequest for anything else."""
    if not response.content:
        return None
    return parse_json(response.content, what="the downstream answer", max_bytes=MAX_DOWNSTREAM_BODY)


def _body(response: httpx.Response) -> Any:
    try:
        return downstream_body(response)
    except InvalidRequest:
        return response.text[:1000]


class ChainingClient:
    """Makes downstream calls as ``agent``, extending callers' grants with ``upstream_token``.

    ``prefer_wait_cap`` bounds each long poll of a downstream pending URL.
    """

    def __init__(
        self, agent: ResourceAgent, *, prefer_wait_cap: int = 30, allow_loopback_http: bool = False
    ) -> None:
        self.agent = agent
        self._cap = prefer_wait_cap
        self._loopback = allow_loopback_http
        self._token_endpoints: dict[str, str] = {}

    def _route(self, upstream_token: str) -> tuple[str, str]:
        """``(ps, upstream agent)``: where the caller's grant came from (``mission.approver``,
        else ``iss``; never the caller's ``ps``), and who the caller is."""
        upstream = decode_unverified(AUTH_TOKEN, upstream_token, allow_loopback_http=self._loopback)
        ps = upstream.mission.approver if upstream.mission is not None else upstream.iss
        return ps, upstream.agent

    def _send(self, call: DownstreamCall, ps: str, token: str | None) -> httpx.Request:
        headers = {} if call.body is None else {"content-type": "application/json"}
        signer = self.agent.signer(ps)
        headers.update(signer.sign(call.method, call.url, headers, call.body, token=token))
        return httpx.Request(call.method, call.url, headers=headers, content=call.body)

    def _token_endpoint(self, ps: str) -> Flow[str]:
        endpoint = self._token_endpoints.get(ps)
        if endpoint is None:
            metadata = yield from person_server_metadata(ps, allow_loopback_http=self._loopback)
            endpoint = self._token_endpoints[ps] = metadata.token_endpoint
        return endpoint

    def call(
        self, call: DownstreamCall, upstream_token: str, *, interaction: bool
    ) -> Flow[httpx.Response | Deferred]:
        """Make ``call`` for the holder of ``upstream_token``; the downstream response, or
        :class:`Deferred` when a person must consent first. ``interaction`` says whether the
        caller can send a person to an interaction page (otherwise the PS answers
        ``user_unreachable``, which is raised)."""
        ps, upstream_agent = self._route(upstream_token)
        response = yield self._send(call, ps, None)
        assert response is not None
        if response.status_code != 401:
            return _checked(response)
        try:
            requirement = find_requirement(
                response.headers.multi_items(), allow_loopback_http=self._loopback
            )
        except HeaderError:
            requirement = None
        if not isinstance(requirement, AuthTokenRequirement):
            raise DownstreamError(f"{call.resource} refused this resource's agent token")
        signer = self.agent.signer(ps)
        challenge = decode_unverified(
            RESOURCE_TOKEN, requirement.resource_token, allow_loopback_http=self._loopback
        )
        check_resource_challenge(
            challenge,
            resource=call.resource,
            agent=self.agent.agent_id,
            agent_jkt=signer.thumbprint,
        )
        endpoint = yield from self._token_endpoint(ps)
        request = TokenRequest(
            requirement.resource_token,
            call.resource,
            capabilities=("interaction",) if interaction else (),
            upstream_token=upstream_token,
        )
        answer = yield from post_signed(endpoint, request.body(), signer, prefer_wait=None)
        if answer.status_code == 202:
            try:
                found = find_requirement(
                    answer.headers.multi_items(), allow_loopback_http=self._loopback
                )
            except HeaderError as exc:
                raise ServerError(f"{ps} deferred with a malformed requirement: {exc}") from None
            if not isinstance(found, InteractionRequirement) or found.url is None:
                raise ServerError(f"{ps} deferred without an interaction this resource can relay")
            return Deferred(
                call=call,
                pending_url=pending_location(answer),
                interaction_url=found.url,
                interaction_code=found.code,
                ps=ps,
                issuer=challenge.aud,
                upstream_agent=upstream_agent,
                resource_token=requirement.resource_token,
            )
        token, _ = received_auth_token(
            answer,
            request,
            signer,
            issuer=challenge.aud,
            upstream_agent=upstream_agent,
            allow_loopback_http=self._loopback,
        )
        final = yield self._send(call, ps, token)
        assert final is not None
        return _checked(final)

    def resume(self, deferred: Deferred, wait: int) -> Flow[httpx.Response | None]:
        """Poll the downstream pending URL once (held up to ``wait`` seconds): None while the
        person has not decided, the downstream response once they approved; their refusal
        (or the request's end) raises the pending URL's error (``denied``, ``expired`` …)."""
        signer = self.agent.signer(deferred.ps)
        wait = max(0, min(wait, self._cap))
        headers = {"prefer": f"wait={wait}"}
        headers.update(signer.sign("GET", deferred.pending_url, headers))
        answer = yield httpx.Request("GET", deferred.pending_url, headers=headers)
        assert answer is not None
        if answer.status_code in (202, 429, 503):
            return None
        if answer.status_code != 200:
            raise terminal_error(answer)
        request = TokenRequest(deferred.resource_token, deferred.call.resource)
        token, _ = received_auth_token(
            answer,
            request,
            signer,
            issuer=deferred.issuer,
            upstream_agent=deferred.upstream_agent,
            allow_loopback_http=self._loopback,
        )
        final = yield self._send(deferred.call, deferred.ps, token)
        assert final is not None
        return _checked(final)

    def cancel(self, deferred: Deferred) -> Flow[None]:
        """DELETE the downstream pending request (best effort: it also expires by itself)."""
        signer = self.agent.signer(deferred.ps)
        headers = signer.sign("DELETE", deferred.pending_url)
        try:
            yield httpx.Request("DELETE", deferred.pending_url, headers=headers)
        except httpx.TransportError:
            return


def _checked(response: httpx.Response) -> httpx.Response:
    """A downstream answer the caller may see: any 2xx; anything else is an error here.

    A downstream resource that defers to a person of its own (its own interaction chaining)
    is not relayed a second time: only one intermediary's interaction is chained.
    """
    where = response.request.url.copy_with(query=None)
    if is_deferred(response):
        raise DownstreamError(f"{where} asks for an interaction of its own; not relayed")
    if 200 <= response.status_code < 300:
        return response
    raise DownstreamError(f"{where} answered HTTP {response.status_code}: {_body(response)}")
