"""Auth tokens (``aa-auth+jwt``, protocol-10 §D.3, §D.4): a grant to one agent key at one resource.

A PS (3-party, ``dwk`` ``aauth-person.json``) or an AS (4-party, ``aauth-access.json``) issues
them. The resource verifies with :meth:`~aauth.tokens.TokenVerifier.verify_auth_token`, ending
in :func:`check_auth_binding`; the agent (and a PS forwarding an AS token) runs
:func:`check_auth_receipt`; a PS or AS receiving one as ``upstream_token`` runs
:func:`check_upstream_token` and chains ``act`` with :func:`chained_actor`.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from typing import Any

from aauth_signing import VerifyingKey

from ..errors import ExpiredAgentToken, InvalidAuthToken, InvalidScope, InvalidToken
from ..headers.mission import MissionRef
from ..identifiers import is_agent_identifier, is_server_identifier
from .agent import confirmation_jwk
from .claims import Actor, AgentTokenClaims, AuthTokenClaims, format_scope, parse_scope
from .issuing import Signer, sign_token
from .wire import AUTH_DWKS, AUTH_JWT_TYP

__all__ = [
    "DEFAULT_AUTH_TOKEN_LIFETIME",
    "MAX_AUTH_TOKEN_LIFETIME",
    "chained_actor",
    "check_auth_binding",
    "check_auth_receipt",
    "check_upstream_token",
    "issue_auth_token",
]

MAX_AUTH_TOKEN_LIFETIME = 3600
"""Auth tokens MUST NOT outlive 1 h, nor the agent token they were issued against (§D.3)."""
DEFAULT_AUTH_TOKEN_LIFETIME = MAX_AUTH_TOKEN_LIFETIME


def _scope_set(scope: str | Collection[str]) -> tuple[str, ...]:
    return parse_scope(scope if isinstance(scope, str) else " ".join(scope))


def issue_auth_token(
    signer: Signer,
    *,
    iss: str,
    dwk: str,
    aud: str,
    agent: str,
    cnf_jwk: VerifyingKey | Mapping[str, Any],
    agent_exp: float,
    resource_scope: str | Collection[str],
    kid: str | None = None,
    sub: str | None = None,
    scope: str | Collection[str] | None = None,
    act: Actor | None = None,
    mission: MissionRef | None = None,
    account: str | None = None,
    tenant: str | None = None,
    lifetime: int = DEFAULT_AUTH_TOKEN_LIFETIME,
    now: float | None = None,
    extra_claims: Mapping[str, Any] | None = None,
    allow_loopback_http: bool = False,
) -> str:
    """Mint an auth token (PS-09 … PS-11, AS-05).

    ``aud`` is the resource (the resource token's ``iss``); ``agent``/``cnf_jwk`` the agent
    and key the resource token named; ``agent_exp`` the agent token's ``exp``, which caps the
    token's; ``resource_scope`` the resource token's ``scope``, which ``scope`` may not exceed.
    At least one of ``sub`` (a directed user id) and ``scope`` is required. ``extra_claims``
    carries identity claims (``email``, ``name`` …).
    """
    loop = allow_loopback_http
    if dwk not in AUTH_DWKS:
        raise ValueError(f"auth token dwk must be one of {sorted(AUTH_DWKS)}")
    for name, value in (("iss", iss), ("aud", aud)):
        if not is_server_identifier(value, allow_loopback_http=loop):
            raise ValueError(f"{name} {value!r} is not a server identifier")
    if not is_agent_identifier(agent, allow_loopback_http=loop):
        raise ValueError(f"agent {agent!r} is not an agent identifier")
    if agent_exp <= (time.time() if now is None else now):
        raise ExpiredAgentToken("the agent token has expired; no auth token can outlive it")
    scope_text: str | None = None
    if scope is not None:
        try:
            granted, offered = _scope_set(scope), _scope_set(resource_scope)
        except ValueError as exc:
            raise InvalidScope(str(exc)) from None
        broader = [s for s in granted if s not in offered]
        if broader:
            raise InvalidScope(f"scopes {broader} exceed the resource token's scope")
        scope_text = format_scope(granted)
    if sub is None and scope_text is None:
        raise ValueError("an auth token needs 'sub', 'scope' or both")
    claims = {
        "iss": iss,
        "dwk": dwk,
        "aud": aud,
        "agent": agent,
        "cnf": {"jwk": confirmation_jwk(cnf_jwk)},
        "sub": sub,
        "scope": scope_text,
        "act": None if act is None else act.claim(),
        "mission": None if mission is None else mission.to_claim(),
        "account": account,
        "tenant": tenant,
    }
    return sign_token(
        signer,
        kid=kid,
        typ=AUTH_JWT_TYP,
        claims=claims,
        lifetime=lifetime,
        max_lifetime=MAX_AUTH_TOKEN_LIFETIME,
        now=now,
        extra_claims=extra_claims,
        exp_cap=agent_exp,
    )


def check_auth_binding(
    claims: AuthTokenClaims, *, audience: str, agent: str | None, request_jkt: str | None
) -> None:
    """§D.3 request-context binding at the resource (RS-10, RS-12).

    ``audience`` is this resource's identifier; ``agent`` the agent of the signing context
    and ``request_jkt`` the thumbprint of the request-signing key, when the caller has them
    (when the auth token is itself the ``Signature-Key`` JWT, the request was verified with
    its ``cnf.jwk`` and both hold by construction).
    """
    if claims.aud != audience:
        raise InvalidAuthToken(f"auth token 'aud' {claims.aud!r} is not this resource")
    if agent is not None and claims.agent != agent:
        raise InvalidAuthToken(f"auth token 'agent' {claims.agent!r} is not the signing agent")
    if request_jkt is not None and claims.jkt != request_jkt:
        raise InvalidAuthToken("auth token 'cnf.jwk' is not the key that signed the request")


def check_auth_receipt(
    claims: AuthTokenClaims,
    *,
    resource: str,
    agent: str,
    agent_jkt: str,
    issuer: str | None = None,
    upstream_agent: str | None = None,
    resource_scope: str | Collection[str] | None = None,
) -> None:
    """AG-17 (and PS-12): an auth token handed to me is for my resource, my key and me.

    ``issuer`` is the server asked (the resource token's ``aud``). An ``act`` claim must name
    ``upstream_agent`` as the immediate upstream agent; with no upstream agent expected, any
    ``act`` is refused. ``resource_scope`` (for a PS forwarding an AS token) bounds ``scope``.
    """
    if issuer is not None and claims.iss != issuer:
        raise InvalidToken(f"auth token 'iss' {claims.iss!r} is not {issuer!r}")
    if claims.aud != resource:
        raise InvalidToken(f"auth token 'aud' {claims.aud!r} is not {resource!r}")
    if claims.agent != agent:
        raise InvalidToken(f"auth token 'agent' {claims.agent!r} is not {agent!r}")
    if claims.jkt != agent_jkt:
        raise InvalidToken("auth token 'cnf.jwk' is not the agent's key")
    upstream = None if claims.act is None else claims.act.agent
    if upstream != upstream_agent:
        raise InvalidToken(f"auth token 'act.agent' {upstream!r} is not {upstream_agent!r}")
    if resource_scope is not None:
        offered = _scope_set(resource_scope)
        broader = [s for s in claims.scope if s not in offered]
        if broader:
            raise InvalidToken(f"auth token scopes {broader} exceed the resource token's")


def check_upstream_token(upstream: AuthTokenClaims, *, intermediary: AgentTokenClaims) -> None:
    """PS-16: an ``upstream_token`` must have been minted for the intermediary presenting it.

    Its ``aud`` (the resource that now calls downstream) must equal the ``iss`` of that
    resource's own agent token; issuer trust is the verifier's ``trusted_issuers``.
    """
    if upstream.aud != intermediary.iss:
        raise InvalidToken(
            f"upstream token 'aud' {upstream.aud!r} is not the intermediary {intermediary.iss!r}"
        )


def chained_actor(upstream: AuthTokenClaims) -> Actor:
    """PS-17: the downstream ``act``: the agent that presented the upstream token (the
    immediate upstream of the intermediary now asking), nesting that token's own chain.

    The intermediary itself is the new token's ``agent`` and is not repeated in ``act``
    (-10 "Delegation Chain"; its "Upstream Token Verification" step 4 reads otherwise, but
    the chain definition, its examples and the agent's receipt check all agree with this).
    """
    return Actor(upstream.agent, upstream.act)
