"""Call chaining at the person server (protocol-10 §D.4, "Call Chaining"): a resource that
received an auth token from this PS asks, as an agent, for a token to a downstream resource.

The intermediary signs with its own agent token and hands the token it was called with as
``upstream_token``. That token must be one this PS issued (PS-16: the only issuer it extends),
still valid, and minted for the intermediary (its ``aud`` is the ``iss`` of the
intermediary's agent token), and not revoked by this PS since (§F.11: under a revoked agent
token or mission). The downstream token then records who delegated (``act``, PS-17)
and is bounded in depth; the person behind the upstream ``sub`` decides, and the downstream
token carries a ``sub`` directed at the downstream resource, never the upstream one (PS-18).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..errors import InvalidRequest
from ..keysource import KeySource
from ..resource.revocation import RevokedTokens
from ..tokens import AgentTokenClaims, AuthTokenClaims, TokenVerifier
from ..tokens.upstream import DEFAULT_MAX_CHAIN_DEPTH, verify_upstream_token
from .persons import Person
from .subjects import PairwiseSubjects

__all__ = ["DEFAULT_MAX_CHAIN_DEPTH", "Upstream", "UpstreamTokens"]


@dataclass(frozen=True)
class Upstream:
    """A verified ``upstream_token``: the downstream ``act`` claim and whose grant it extends.

    ``person`` is the person behind the upstream ``sub`` (None: the upstream grant named
    nobody, so only a rule can grant downstream).
    """

    claims: AuthTokenClaims
    act: dict[str, object]
    person: str | None


class UpstreamTokens:
    """Checks ``upstream_token`` parameters against this PS's own auth tokens."""

    def __init__(
        self,
        identifier: str,
        key_source: KeySource,
        subjects: PairwiseSubjects,
        people: Iterable[Person],
        *,
        max_depth: int = DEFAULT_MAX_CHAIN_DEPTH,
        revoked: RevokedTokens,
        allow_loopback_http: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_depth < 1:
            raise ValueError("max_depth must be at least 1")
        self._identifier = identifier
        self._revoked = revoked
        self._tokens = TokenVerifier(
            key_source,
            trusted_issuers=(identifier,),
            allow_loopback_http=allow_loopback_http,
            clock=clock,
        )
        self._subjects = subjects
        self._people = tuple(person.id for person in people)
        self._max_depth = max_depth

    async def verify(
        self, token: str, intermediary: AgentTokenClaims, *, for_subagent: bool = False
    ) -> Upstream:
        """PS-16 … PS-18 for ``token`` presented by ``intermediary``; InvalidRequest when the
        token fails, Forbidden when the chain would be deeper than allowed (``for_subagent``:
        with the intermediary, whom a sub-agent's ``act`` names too)."""
        verified = await verify_upstream_token(
            self._tokens,
            token,
            intermediary,
            max_depth=self._max_depth,
            who="person server",
            for_subagent=for_subagent,
        )
        claims = verified.claims
        if self._revoked.is_revoked(claims.iss, claims.jti):
            raise InvalidRequest("the upstream token was revoked by this person server (§F.11)")
        return Upstream(claims, verified.actor.claim(), self._person(claims))

    def _person(self, claims: AuthTokenClaims) -> str | None:
        """Who the upstream ``sub`` (directed at the intermediary) stands for; the value is
        only compared, never copied into a downstream token (PS-18)."""
        if claims.sub is None:
            return None
        for person in self._people:
            if self._subjects.subject(person, claims.aud) == claims.sub:
                return person
        raise InvalidRequest("the upstream token's subject is not a person of this PS")
