"""Minting the auth tokens a person server grants (3-party, protocol-10 §D.3).

The token names the resource token's ``iss`` as ``aud``, the agent and its key (``cnf.jwk``
from the agent token), the approved scope (never broader than the resource token's, PS-11),
and, when a person approved, their directed ``sub`` for that resource (plus ``name`` for the
``profile`` scope). It lives at most the configured lifetime, at most 1 h and never past the
agent token's ``exp`` (PS-10). A token for a sub-agent names the sub-agent as ``agent``, bound
to its key, with its parent as ``act.agent`` (§D.1 sub-agents). A token under a mission carries
its ``mission`` claim, never outlives the mission's ``expires_at``, and is written to the
mission's log. A chained grant carries its ``act`` chain (PS-17), under the parent's when a
sub-agent asks; its ``sub`` is derived for the downstream resource like any other, never taken
from the upstream token (PS-18).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .. import jwt
from ..errors import InvalidAgentToken
from ..headers.mission import MissionRef
from ..keys import KeySet
from ..resource.revocation import RevokedTokens
from ..tokens import Actor, issue_auth_token
from ..tokens.wire import PERSON_DWK
from .grant import Grant
from .issued_tokens import IssuedTokens
from .missions import Missions
from .persons import Person
from .subjects import PairwiseSubjects

__all__ = ["AuthTokenMinter", "token_response"]


def token_response(auth_token: str, now: float) -> dict[str, Any]:
    """The 200 body for an auth token: ``expires_in`` counts from ``now`` to its ``exp``."""
    exp = jwt.peek(auth_token)[1]["exp"]
    return {"auth_token": auth_token, "expires_in": max(0, int(exp - now))}


class AuthTokenMinter:
    """Issues this person server's auth tokens with its key set."""

    def __init__(
        self,
        identifier: str,
        keys: KeySet,
        subjects: PairwiseSubjects,
        *,
        lifetime: int,
        allow_loopback_http: bool = False,
        missions: Missions | None = None,
        issued: IssuedTokens | None = None,
        revoked: RevokedTokens | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._missions = missions
        self._issued = issued
        self._revoked = revoked
        self._identifier = identifier
        self._keys = keys
        self._subjects = subjects
        self._lifetime = lifetime
        self._loopback = allow_loopback_http
        self._clock = clock

    def lifetime_for(self, grant: Grant) -> int:
        """Seconds an auth token minted now for ``grant`` would live (shown at consent)."""
        return max(0, min(self._lifetime, int(grant.agent_exp - self._clock())))

    def _act(self, grant: Grant) -> Actor | None:
        """The upstream chain of a chained grant, below the parent of a sub-agent's."""
        upstream = None
        if grant.act is not None:
            upstream = Actor.from_claim(grant.act, "act", allow_loopback_http=self._loopback)
        return upstream if grant.subagent is None else Actor(grant.agent, upstream)

    def refuse_revoked(self, agent_iss: str, agent_jti: str | None) -> None:
        """InvalidAgentToken when its provider revoked this agent token (PS-24): a sub-agent's
        its parent presents, or one revoked while its request waited for the person."""
        if (
            self._revoked is not None
            and agent_jti is not None
            and self._revoked.is_revoked(agent_iss, agent_jti)
        ):
            raise InvalidAgentToken("this agent token was revoked by its agent provider (PS-24)")

    def mint(self, grant: Grant, person: Person | None) -> str:
        """An auth token for ``grant``; ``person`` is who approved (None: a rule did).

        Raises ExpiredAgentToken when the agent token has expired meanwhile, InvalidAgentToken
        when it was revoked meanwhile.
        """
        self.refuse_revoked(grant.agent_iss, grant.agent_jti)
        sub = extra = None
        if person is not None:
            sub = self._subjects.subject(person.id, grant.resource)
            extra = {"name": person.name} if "profile" in grant.scope else None
        now, lifetime, mission = self._clock(), self._lifetime, None
        if grant.mission is not None:
            mission = MissionRef(grant.mission["approver"], grant.mission["s256"])
            found = self._missions.get(mission.s256) if self._missions else None
            if found is not None and found.expires_at is not None:
                lifetime = max(1, min(lifetime, int(found.expires_at - now)))
        token = issue_auth_token(
            self._keys,
            iss=self._identifier,
            dwk=PERSON_DWK,
            aud=grant.resource,
            agent=grant.subagent or grant.agent,
            cnf_jwk=grant.cnf_jwk,
            agent_exp=grant.agent_exp,
            resource_scope=grant.scope,
            scope=grant.scope,
            sub=sub,
            act=self._act(grant),
            account=grant.account,
            lifetime=lifetime,
            now=now,
            extra_claims=extra,
            mission=mission,
            allow_loopback_http=self._loopback,
        )
        claims = jwt.peek(token)[1]
        if self._issued is not None and grant.agent_jti is not None:
            self._issued.record(grant.agent_iss, grant.agent_jti, claims)
        if mission is not None and self._missions is not None:
            self._missions.log(
                mission.s256,
                "token issued",
                jti=claims["jti"],
                resource=grant.resource,
                scope=" ".join(grant.scope),
                exp=claims["exp"],
                by=None if person is None else person.id,
            )
        return token
