"""Minting the auth tokens an access server grants (4-party, protocol-10 §D.3, AS-05).

``dwk`` is ``aauth-access.json`` and ``iss`` this AS; ``aud`` is the resource, the agent and
its key come from the agent token, whose ``exp`` caps the token's (at most 1 h). ``sub`` is
this AS's own directed identifier for the person the PS vouched for: derived from the PS and
the PS's ``sub``, never copied, so two person servers can never collide on one ``sub``
(§H.4). Identity claims the AS asked for travel with it. A sub-agent's token names its parent
in ``act`` (AS-04); a chained request's carries the chain its upstream token extends (AS-08),
and never that token's ``sub``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..headers import MissionRef
from ..keys import KeySet
from ..person.subjects import PairwiseSubjects
from ..tokens import Actor, issue_auth_token
from ..tokens.wire import ACCESS_DWK
from .request import AccessRequest

__all__ = ["AccessTokenMinter"]


class AccessTokenMinter:
    """Issues this access server's auth tokens with its key set."""

    def __init__(
        self,
        identifier: str,
        keys: KeySet,
        subjects: PairwiseSubjects,
        *,
        lifetime: int,
        allow_loopback_http: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._identifier = identifier
        self._keys = keys
        self._subjects = subjects
        self._lifetime = lifetime
        self._loopback = allow_loopback_http
        self._clock = clock

    def mint(self, request: AccessRequest) -> str:
        """The auth token for a request whose steps are all done.

        Raises ExpiredAgentToken when the agent token expired while the steps ran.
        """
        claims = dict(request.claims)
        person_sub = claims.pop("sub", None)
        sub = None
        if person_sub is not None:
            sub = self._subjects.subject(f"{request.ps}\x00{person_sub}", request.resource)
        mission = request.mission
        return issue_auth_token(
            self._keys,
            iss=self._identifier,
            dwk=ACCESS_DWK,
            aud=request.resource,
            agent=request.agent,
            cnf_jwk=request.cnf_jwk,
            agent_exp=request.agent_exp,
            resource_scope=request.scope,
            scope=request.scope,
            sub=sub,
            account=request.account,
            mission=None if mission is None else MissionRef(mission["approver"], mission["s256"]),
            act=self._actor(request),
            lifetime=self._lifetime,
            now=self._clock(),
            extra_claims=claims or None,
            allow_loopback_http=self._loopback,
        )

    def _actor(self, request: AccessRequest) -> Actor | None:
        """The ``act`` claim: the upstream chain, below a sub-agent's parent when there is one
        (the person server nests them the same way)."""
        upstream = None
        if request.act is not None:
            upstream = Actor.from_claim(request.act, "act", allow_loopback_http=self._loopback)
        return upstream if request.parent_agent is None else Actor(request.parent_agent, upstream)
