"""Telling an agent what to present next: the 401 challenges and the resource tokens in them.

A challenge follows a request whose signature was fine but whose credential is not enough
(§F.1): no agent token (``requirement=agent-token``), or no or an insufficient auth token
(``requirement=auth-token`` with a fresh resource token). Challenges never carry
``Signature-Error``: nothing about the signature was wrong (§I.31).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from typing import Any, ClassVar

from ..errors import AAuthError, Forbidden, InvalidRequest, InvalidScope
from ..headers import (
    AgentTokenRequirement,
    AuthTokenRequirement,
    BuildableRequirement,
    MissionRef,
    build_challenge,
)
from ..tokens import Interaction, Signer, issue_resource_token, parse_scope
from .caller import VerifiedCaller

__all__ = [
    "AgentTokenRequired",
    "AuthTokenRequired",
    "Challenge",
    "ResourceTokenIssuer",
]


_LEGACY_KEYWORDS = frozenset({"resource_id", "resource_private_key", "resource_kid", "auth_server"})


class Challenge(AAuthError):
    """A 401 carrying ``AAuth-Requirement``; raise it, render it with ``error_response``."""

    status: ClassVar[int] = 401

    def __init__(self, requirement: BuildableRequirement, description: str) -> None:
        super().__init__(description)
        self.requirement = requirement

    def response_headers(self) -> dict[str, str]:
        return build_challenge(self.requirement)


class AgentTokenRequired(Challenge):
    """RS-01: sign with an agent token (``requirement=agent-token``, no parameters)."""

    code: ClassVar[str] = "agent_token_required"

    def __init__(self, description: str = "this resource requires an agent token") -> None:
        super().__init__(AgentTokenRequirement(), description)


class AuthTokenRequired(Challenge):
    """RS-02: get an auth token for the enclosed resource token (``requirement=auth-token``)."""

    code: ClassVar[str] = "auth_token_required"

    def __init__(self, resource_token: str, description: str) -> None:
        super().__init__(AuthTokenRequirement(resource_token), description)
        self.resource_token = resource_token


class ResourceTokenIssuer:
    """Mints this resource's resource tokens (§D.2) with its key set.

    ``access_server`` makes every token's ``aud`` that AS (4-party); otherwise ``aud`` is the
    agent token's ``ps`` (3-party, RS-05). ``scopes`` are the scopes the resource defines
    (its ``scope_descriptions`` keys) plus identity scopes its PSes support (RS-07).
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> ResourceTokenIssuer:
        """aauth 0.3's ``ResourceTokenIssuer(resource_id, resource_private_key, resource_kid,
        auth_server)`` builds its 0.3 form (:mod:`aauth.compat.resource`)."""
        if cls is ResourceTokenIssuer and (len(args) >= 3 or _LEGACY_KEYWORDS.intersection(kwargs)):
            from ..compat.resource import LegacyResourceTokenIssuer

            return object.__new__(LegacyResourceTokenIssuer)
        return object.__new__(cls)

    def __init__(
        self,
        resource: str,
        signer: Signer,
        *,
        access_server: str | None = None,
        scopes: Collection[str] | None = None,
        lifetime: int = 300,
        allow_loopback_http: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.resource = resource
        self.access_server = access_server
        self._signer = signer
        self._scopes = None if scopes is None else frozenset(scopes)
        self._lifetime = lifetime
        self._loopback = allow_loopback_http
        self._clock = clock

    def audience_for(self, ps: str | None) -> str:
        """Whom the agent must take the resource token to (RS-05)."""
        audience = self.access_server or ps
        if audience is None:
            raise Forbidden(
                "the agent token names no person server and this resource has no access server"
            )
        return audience

    def offerable(self, scopes: Collection[str]) -> tuple[str, ...]:
        """The subset of ``scopes`` this resource may put in a resource token (RS-07)."""
        allowed = self._scopes
        return tuple(s for s in scopes if allowed is None or s in allowed)

    def issue(
        self,
        *,
        agent: str,
        agent_jkt: str,
        scope: Collection[str],
        ps: str | None,
        mission: MissionRef | None = None,
        account: str | None = None,
        interaction: Interaction | None = None,
    ) -> str:
        """A resource token for ``agent``'s key ``agent_jkt`` asking for ``scope``."""
        return issue_resource_token(
            self._signer,
            iss=self.resource,
            aud=self.audience_for(ps),
            agent=agent,
            agent_jkt=agent_jkt,
            scope=tuple(scope),
            allowed_scopes=self._scopes,
            account=account,
            mission=mission,
            interaction=interaction,
            lifetime=self._lifetime,
            now=self._clock(),
            allow_loopback_http=self._loopback,
        )

    def authorize(self, caller: VerifiedCaller, body: Mapping[str, Any]) -> str:
        """Answer a proactive ``POST authorization_endpoint`` (§F.2): a resource token for
        the scope the agent asks for.

        RS-16: no ``scope`` → ``invalid_request``; a malformed or unoffered one →
        ``invalid_scope``. The request must be signed with an agent token, whose ``ps``
        (or this resource's AS) becomes the token's audience; a mission is copied (RS-08).
        """
        scope = body.get("scope")
        if scope is None or scope == "":
            raise InvalidRequest("the request has no 'scope'")
        if not isinstance(scope, str):
            raise InvalidRequest("'scope' must be a space-separated string")
        try:
            scopes = parse_scope(scope)
        except ValueError as exc:
            raise InvalidScope(str(exc)) from None
        agent = caller.agent_token
        if agent is None:
            raise AgentTokenRequired("the authorization endpoint requires an agent token")
        return self.issue(
            agent=agent.sub,
            agent_jkt=caller.thumbprint,
            scope=scopes,
            ps=agent.ps,
            mission=caller.mission,
        )
