"""Agent tokens (``aa-agent+jwt``, protocol-10 §D.1): issued by an Agent Provider.

The AP vouches that ``sub`` is one of its agents and that it signs with ``cnf.jwk``. Verifiers
run :meth:`~aauth.tokens.TokenVerifier.verify_agent_token`, which ends in
:func:`check_agent_binding`: the token is only the agent's if the HTTP request was signed by
that key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aauth_signing import SignatureError, VerifyingKey, jwk_from_public_key, public_key_from_jwk

from ..errors import InvalidRequest, InvalidToken
from ..identifiers import (
    is_agent_identifier,
    is_server_identifier,
    is_subagent_of,
    server_host,
)
from .claims import AgentTokenClaims
from .issuing import Signer, sign_token
from .wire import AGENT_DWK, AGENT_JWT_TYP

__all__ = [
    "DEFAULT_AGENT_TOKEN_LIFETIME",
    "MAX_AGENT_TOKEN_LIFETIME",
    "check_agent_binding",
    "confirmation_jwk",
    "issue_agent_token",
]

DEFAULT_AGENT_TOKEN_LIFETIME = 3600
MAX_AGENT_TOKEN_LIFETIME = 24 * 3600
"""Agent tokens SHOULD NOT outlive 24 h (§D.1); issuing a longer one is refused."""


def confirmation_jwk(key: VerifyingKey | Mapping[str, Any]) -> dict[str, str]:
    """The ``cnf.jwk`` for an agent key: public members and a fully-specified ``alg`` only.

    Raises InvalidRequest for a private, incomplete, alg-less or otherwise unusable JWK.
    """
    if isinstance(key, VerifyingKey):
        return jwk_from_public_key(key)
    try:
        return jwk_from_public_key(public_key_from_jwk(key))
    except SignatureError as exc:
        raise InvalidRequest(f"agent key is not usable: {exc.description}") from exc


def issue_agent_token(
    signer: Signer,
    *,
    iss: str,
    sub: str,
    cnf_jwk: VerifyingKey | Mapping[str, Any],
    kid: str | None = None,
    ps: str | None = None,
    parent_agent: str | None = None,
    lifetime: int = DEFAULT_AGENT_TOKEN_LIFETIME,
    now: float | None = None,
    extra_claims: Mapping[str, Any] | None = None,
    allow_loopback_http: bool = False,
) -> str:
    """Mint an agent token for ``sub`` bound to ``cnf_jwk`` (AP-02 … AP-06).

    ``sub`` must be an agent of ``iss``; a top-level agent's local part has no ``+``, a
    sub-agent's is its parent's plus ``+`` and a discriminator, and the parent must itself be
    top-level (single level of sub-agents).

    >>> token = issue_agent_token(key_set, iss="https://ap.example",
    ...     sub="aauth:bot@ap.example", cnf_jwk=agent_key.public_key())
    """
    loop = allow_loopback_http
    if not is_server_identifier(iss, allow_loopback_http=loop):
        raise ValueError(f"iss {iss!r} is not a server identifier")
    if not is_agent_identifier(sub, allow_loopback_http=loop):
        raise InvalidRequest(f"{sub!r} is not an agent identifier")
    if sub.rpartition("@")[2] != server_host(iss):
        raise InvalidRequest(f"{sub!r} is not an agent of {iss}")
    if ps is not None and not is_server_identifier(ps, allow_loopback_http=loop):
        raise InvalidRequest(f"ps {ps!r} is not a server identifier")
    local = sub.removeprefix("aauth:").rpartition("@")[0]
    if parent_agent is None:
        if "+" in local:
            raise InvalidRequest("a top-level agent's local part must not contain '+'")
    elif not is_subagent_of(sub, parent_agent):
        raise InvalidRequest(
            f"{sub!r} is not a sub-agent of {parent_agent!r}, or the parent is itself a sub-agent"
        )
    claims = {
        "iss": iss,
        "dwk": AGENT_DWK,
        "sub": sub,
        "cnf": {"jwk": confirmation_jwk(cnf_jwk)},
        "ps": ps,
        "parent_agent": parent_agent,
    }
    return sign_token(
        signer,
        kid=kid,
        typ=AGENT_JWT_TYP,
        claims=claims,
        lifetime=lifetime,
        max_lifetime=MAX_AGENT_TOKEN_LIFETIME,
        now=now,
        extra_claims=extra_claims,
    )


def check_agent_binding(claims: AgentTokenClaims, *, expected_jkt: str | None) -> None:
    """V-27: the HTTP request must be signed by the agent token's ``cnf.jwk``.

    ``expected_jkt`` is the thumbprint of the key that verified the request signature; None
    skips the check for callers that do not hold a request (e.g. a ``subagent_token`` body
    parameter, whose key is checked against the resource token's ``agent_jkt`` instead).
    """
    if expected_jkt is not None and claims.jkt != expected_jkt:
        raise InvalidToken("agent token 'cnf.jwk' is not the key that signed the request")
