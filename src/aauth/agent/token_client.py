"""Asking the agent's person server for an auth token (protocol-10 §F.3), as a flow.

The agent POSTs the resource token to its PS's ``token_endpoint``, signed with its agent
token, and either gets the auth token at once (200) or a deferred answer (202) that it
follows to the end. Before using the token it checks that it is for this resource, this
agent and this key (AG-17). A parent asks for one of its sub-agents (AG-34) by signing as
itself and sending the sub-agent's agent token as ``subagent_token``; the token it gets back
is the sub-agent's, with the parent as ``act.agent``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from ..errors import (
    AAuthError,
    ExpiredAgentToken,
    ExpiredResourceToken,
    Forbidden,
    InsufficientTrust,
    InteractionUnavailable,
    InvalidAgentToken,
    InvalidRequest,
    InvalidResourceToken,
    InvalidToken,
    MissionTerminated,
    PendingDenied,
    ServerError,
    UserUnreachable,
)
from ..json_body import parse_json, parse_json_object
from ..tokens import AuthTokenClaims, check_auth_receipt, decode_unverified
from ..tokens.verifier import AGENT_TOKEN, AUTH_TOKEN
from .flow import Flow
from .poller import DeferredCallbacks, PollSettings, follow_deferred
from .signer import AgentSigner

__all__ = [
    "TokenRequest",
    "decode_agent_id",
    "post_deferred",
    "post_signed",
    "problem_of",
    "received_auth_token",
    "request_auth_token",
]

_ERRORS: dict[str, type[AAuthError]] = {
    cls.code: cls
    for cls in (
        InvalidRequest,
        InsufficientTrust,
        PendingDenied,
        InvalidAgentToken,
        ExpiredAgentToken,
        InvalidResourceToken,
        ExpiredResourceToken,
        UserUnreachable,
        MissionTerminated,
        InteractionUnavailable,
        ServerError,
    )
}


@dataclass(frozen=True)
class TokenRequest:
    """One token request: the resource token and what the person should see with it."""

    resource_token: str
    resource: str
    justification: str | None = None
    capabilities: Sequence[str] = ()
    upstream_token: str | None = None
    subagent_token: str | None = None

    def body(self) -> bytes:
        payload: dict[str, Any] = {"resource_token": self.resource_token}
        if self.justification:
            payload["justification"] = self.justification
        if self.capabilities:
            payload["capabilities"] = list(self.capabilities)
        if self.upstream_token:
            payload["upstream_token"] = self.upstream_token
        if self.subagent_token:
            payload["subagent_token"] = self.subagent_token
        return json.dumps(payload, separators=(",", ":")).encode("utf-8")


def problem_of(response: httpx.Response) -> AAuthError:
    """The error a non-success PS response stands for (by its ``error`` member)."""
    try:
        body: Any = parse_json(response.content)
    except InvalidRequest:
        body = {}
    code = str(body.get("error", "")) if isinstance(body, dict) else ""
    detail = str(body.get("detail") or body.get("error_description") or code) if body else ""
    if response.status_code == 401 and "signature-error" in response.headers:
        return InvalidRequest(
            f"the PS refused the signature: {response.headers['signature-error']}"
        )
    error_cls = _ERRORS.get(code)
    if error_cls is None:
        error_cls = Forbidden if response.status_code == 403 else ServerError
    return error_cls(detail or f"token endpoint answered HTTP {response.status_code}")


def post_signed(
    endpoint: str, payload: bytes, signer: AgentSigner, *, prefer_wait: int | None
) -> Flow[httpx.Response]:
    """A signed JSON POST to a person-server endpoint; the raw answer (a 202 not followed)."""
    headers = {"content-type": "application/json"}
    if prefer_wait is not None:
        headers["prefer"] = f"wait={prefer_wait}"
    headers.update(signer.sign("POST", endpoint, headers, payload))
    response = yield httpx.Request("POST", endpoint, headers=headers, content=payload)
    assert response is not None
    return response


def post_deferred(
    endpoint: str,
    payload: bytes,
    signer: AgentSigner,
    settings: PollSettings,
    callbacks: DeferredCallbacks | None,
) -> Flow[httpx.Response]:
    """A signed JSON POST to a person-server endpoint, with ``Prefer: wait``; a 202 is
    followed to its end (AG-19). The final 200, or the error the PS answered with."""
    response = yield from post_signed(endpoint, payload, signer, prefer_wait=settings.prefer_wait)
    if response.status_code == 202:

        def sign(
            method: str, url: str, headers: dict[str, str], body: bytes | None
        ) -> dict[str, str]:
            return signer.sign(method, url, headers, body)

        response = yield from follow_deferred(response, sign, settings, callbacks)
    if response.status_code != 200:
        raise problem_of(response)
    return response


def received_auth_token(
    response: httpx.Response,
    request: TokenRequest,
    holder: AgentSigner,
    *,
    issuer: str,
    upstream_agent: str | None = None,
    allow_loopback_http: bool = False,
) -> tuple[str, AuthTokenClaims]:
    """The auth token of a final token-endpoint answer, checked (AG-17) against ``holder``,
    the signer it is for; the AAuthError the PS answered with otherwise. ``upstream_agent``
    is who must be named in ``act`` (the caller of a chained request, the parent of a
    sub-agent), None for a direct one."""
    if response.status_code != 200:
        raise problem_of(response)
    try:
        token = parse_json_object(response.content)["auth_token"]
    except (InvalidRequest, KeyError):
        raise ServerError("the token endpoint's 200 carries no auth_token") from None
    if not isinstance(token, str):
        raise ServerError("auth_token is not a string")
    claims = decode_unverified(AUTH_TOKEN, token, allow_loopback_http=allow_loopback_http)
    if holder.agent_token is None:
        raise InvalidToken("the signer has no agent token to check the auth token against")
    check_auth_receipt(
        claims,
        resource=request.resource,
        agent=decode_agent_id(holder.agent_token, allow_loopback_http),
        agent_jkt=holder.thumbprint,
        issuer=issuer,
        upstream_agent=upstream_agent,
    )
    return token, claims


def request_auth_token(
    token_endpoint: str,
    request: TokenRequest,
    signer: AgentSigner,
    *,
    issuer: str,
    settings: PollSettings | None = None,
    callbacks: DeferredCallbacks | None = None,
    allow_loopback_http: bool = False,
    subagent: AgentSigner | None = None,
) -> Flow[tuple[str, AuthTokenClaims]]:
    """The auth token (and its claims) for ``request``, from the PS at ``token_endpoint``.

    ``issuer`` is whom the token must come from (the resource token's ``aud``: this PS, or
    the AS it federates with). With ``subagent`` (the sub-agent's signer, whose agent token
    ``request.subagent_token`` is), ``signer`` is the parent and the token must be the
    sub-agent's, naming the parent in ``act``. Raises the AAuthError the PS answered with, or
    InvalidToken when the token it returned is not for this resource, agent and key.
    """
    settings = settings or PollSettings(allow_loopback_http=allow_loopback_http)
    response = yield from post_deferred(token_endpoint, request.body(), signer, settings, callbacks)
    upstream = None
    if subagent is not None and signer.agent_token is not None:
        upstream = decode_agent_id(signer.agent_token, allow_loopback_http)
    return received_auth_token(
        response,
        request,
        subagent or signer,
        issuer=issuer,
        upstream_agent=upstream,
        allow_loopback_http=allow_loopback_http,
    )


def decode_agent_id(agent_token: str, allow_loopback_http: bool) -> str:
    """The agent's own identifier, read from its agent token (it trusts its own AP)."""
    return decode_unverified(AGENT_TOKEN, agent_token, allow_loopback_http=allow_loopback_http).sub
