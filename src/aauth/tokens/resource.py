"""Resource tokens (``aa-resource+jwt``, protocol-10 §D.2): a resource's offer, sent via the agent.

The resource mints one in its ``requirement=auth-token`` challenge; the agent checks it is for
itself (:func:`check_resource_challenge`, AG-12) and takes it to its PS, which verifies it with
:meth:`~aauth.tokens.TokenVerifier.verify_resource_token` (ending in
:func:`check_resource_binding`). A PS maps the resulting ``InvalidToken`` to
``invalid_resource_token`` and ``TokenExpired`` to ``expired_resource_token`` (PS-04).
"""

from __future__ import annotations

from collections.abc import Collection

from ..errors import InvalidRequest, InvalidScope, InvalidToken
from ..headers.mission import MissionRef
from ..identifiers import is_agent_identifier, is_endpoint_url, is_server_identifier
from .claims import (
    Interaction,
    ResourceTokenClaims,
    format_scope,
    is_s256,
    parse_scope,
)
from .issuing import Signer, sign_token
from .wire import RESOURCE_DWK, RESOURCE_JWT_TYP

__all__ = [
    "DEFAULT_RESOURCE_TOKEN_LIFETIME",
    "check_resource_binding",
    "check_resource_challenge",
    "issue_resource_token",
]

DEFAULT_RESOURCE_TOKEN_LIFETIME = 300
"""Resource tokens SHOULD live at most 5 minutes (§D.8); longer ones are refused."""


def issue_resource_token(
    signer: Signer,
    *,
    iss: str,
    aud: str,
    agent: str,
    agent_jkt: str,
    scope: str | tuple[str, ...] | list[str],
    kid: str | None = None,
    allowed_scopes: Collection[str] | None = None,
    account: str | None = None,
    mission: MissionRef | None = None,
    interaction: Interaction | None = None,
    lifetime: int = DEFAULT_RESOURCE_TOKEN_LIFETIME,
    now: float | None = None,
    allow_loopback_http: bool = False,
) -> str:
    """Mint a resource token for ``agent``'s key ``agent_jkt`` (RS-03 … RS-08).

    ``aud`` is the resource's AS, or else the agent token's ``ps`` (RS-05, the caller's
    choice). ``allowed_scopes`` (the resource's ``scope_descriptions`` keys plus the PS's
    identity ``scopes_supported``) bounds ``scope`` when given (RS-07). ``mission`` is copied
    unchanged from ``AAuth-Mission`` (RS-08).
    """
    loop = allow_loopback_http
    for name, value in (("iss", iss), ("aud", aud)):
        if not is_server_identifier(value, allow_loopback_http=loop):
            raise ValueError(f"{name} {value!r} is not a server identifier")
    if not is_agent_identifier(agent, allow_loopback_http=loop):
        raise InvalidRequest(f"{agent!r} is not an agent identifier")
    if not is_s256(agent_jkt):
        raise ValueError("agent_jkt must be a base64url SHA-256 JWK thumbprint")
    if interaction is not None and not is_endpoint_url(interaction.url, allow_loopback_http=loop):
        raise ValueError("interaction url must be https without query or fragment")
    try:
        scope_text = format_scope(scope)
    except ValueError as exc:
        raise InvalidScope(str(exc)) from None
    if allowed_scopes is not None:
        unknown = [s for s in parse_scope(scope_text) if s not in allowed_scopes]
        if unknown:
            raise InvalidScope(f"scopes {unknown} are not offered by this resource")
    claims = {
        "iss": iss,
        "dwk": RESOURCE_DWK,
        "aud": aud,
        "agent": agent,
        "agent_jkt": agent_jkt,
        "scope": scope_text,
        "account": account,
        "mission": None if mission is None else mission.to_claim(),
        "interaction": None if interaction is None else interaction.claim(),
    }
    return sign_token(
        signer,
        kid=kid,
        typ=RESOURCE_JWT_TYP,
        claims=claims,
        lifetime=lifetime,
        max_lifetime=DEFAULT_RESOURCE_TOKEN_LIFETIME,
        now=now,
    )


def check_resource_binding(
    claims: ResourceTokenClaims,
    *,
    audience: str,
    agent: str,
    agent_jkt: str,
    approver: str | None,
) -> None:
    """§D.2 steps 4-7 at the PS/AS (PS-03, PS-05, AS-03).

    ``audience`` is the recipient's own identifier, ``agent`` the requesting agent (agent
    token ``sub``), ``agent_jkt`` the thumbprint of the key that signed the token request (or
    of ``subagent_token.cnf.jwk``), ``approver`` the PS handling the request. A ``mission``
    claim with no ``approver`` to compare against is refused.
    """
    if claims.aud != audience:
        raise InvalidToken(f"resource token 'aud' {claims.aud!r} is not {audience!r}")
    if claims.agent != agent:
        raise InvalidToken(f"resource token 'agent' {claims.agent!r} is not the requester")
    if claims.agent_jkt != agent_jkt:
        raise InvalidToken("resource token 'agent_jkt' is not the requester's key thumbprint")
    if claims.mission is not None and claims.mission.approver != approver:
        raise InvalidToken(
            f"resource token 'mission.approver' {claims.mission.approver!r} is not this PS"
        )


def check_resource_challenge(
    claims: ResourceTokenClaims, *, resource: str, agent: str, agent_jkt: str
) -> None:
    """AG-12: a challenge's resource token is from the resource called, for me and my key.

    ``exp`` was checked when ``claims`` were decoded or verified.
    """
    if claims.iss != resource:
        raise InvalidToken(f"resource token 'iss' {claims.iss!r} is not the resource called")
    if claims.agent != agent:
        raise InvalidToken(f"resource token 'agent' {claims.agent!r} is not this agent")
    if claims.agent_jkt != agent_jkt:
        raise InvalidToken("resource token 'agent_jkt' is not this agent's key thumbprint")
