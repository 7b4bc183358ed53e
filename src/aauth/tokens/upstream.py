"""Verifying an ``upstream_token`` (protocol-10 §D.4, "Call Chaining"): one check for every
issuer that extends a grant — the person server (PS-16 … PS-18) and the access server (AS-08).

An intermediary resource, acting as an agent with its own agent token, presents the auth token
it was called with. The token must verify (signature, ``typ``, ``exp``) from an issuer the
caller trusts (``trusted_issuers`` of the :class:`TokenVerifier`), have been minted for that
intermediary (``aud`` = the ``iss`` of its agent token), and the ``act`` chain it extends must
stay within ``max_depth`` agents and never name the intermediary twice. The downstream ``sub``
is the issuer's own business: nothing here hands the upstream one on.
"""

from __future__ import annotations

from dataclasses import dataclass

from aauth_signing import SignatureError

from ..errors import AAuthError, Forbidden, InvalidRequest, InvalidToken
from .auth import chained_actor, check_upstream_token
from .claims import Actor, AgentTokenClaims, AuthTokenClaims
from .verifier import AUTH_TOKEN, TokenVerifier

__all__ = ["DEFAULT_MAX_CHAIN_DEPTH", "VerifiedUpstream", "verify_upstream_token"]

DEFAULT_MAX_CHAIN_DEPTH = 3
"""How many agents an ``act`` chain may name: an agent and two intermediaries in front of it."""


@dataclass(frozen=True)
class VerifiedUpstream:
    """A verified upstream token and the ``act`` chain the downstream token carries."""

    claims: AuthTokenClaims
    actor: Actor


async def verify_upstream_token(
    tokens: TokenVerifier,
    token: str,
    intermediary: AgentTokenClaims,
    *,
    max_depth: int,
    who: str,
    for_subagent: bool = False,
) -> VerifiedUpstream:
    """§D.4 for ``token`` presented by ``intermediary``: InvalidRequest when the token fails,
    Forbidden when the chain would name the intermediary twice or more than ``max_depth``
    agents (``who`` names the server in that message). ``for_subagent``: the token asked for
    is a sub-agent's, whose ``act`` names the intermediary above the chain, so it counts."""
    try:
        claims = await tokens.averify(AUTH_TOKEN, token)
        check_upstream_token(claims, intermediary=intermediary)
    except (InvalidToken, SignatureError) as exc:
        raise InvalidRequest(f"upstream token: {exc.description}") from None
    except AAuthError as exc:
        raise InvalidRequest(f"upstream token cannot be verified: {exc.description}") from None
    actor = chained_actor(claims)
    if intermediary.sub in actor.chain:
        raise Forbidden(f"{intermediary.sub} already appears in this delegation chain")
    depth = len(actor.chain) + int(for_subagent)
    if depth > max_depth:
        raise Forbidden(
            f"the delegation chain would name {depth} agents; this {who} allows at most {max_depth}"
        )
    return VerifiedUpstream(claims, actor)
