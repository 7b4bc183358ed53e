"""The verified caller a resource hands to its application code."""

from __future__ import annotations

from typing import NamedTuple

from aauth_signing import Jwt, VerifiedSignature

from ..headers import MissionRef
from ..tokens import AgentTokenClaims, AuthTokenClaims

__all__ = ["VerifiedCaller"]


class VerifiedCaller(NamedTuple):
    """Who signed a request and what they presented, after every check passed (immutable).

    ``thumbprint`` always identifies the signing key. ``agent_id`` is set for identified
    callers: from the agent token's ``sub``, or the auth token's ``agent``. ``access_token``
    is an ``Authorization: AAuth`` credential (signature-bound; the application validates
    its own session tokens). ``mission`` comes from ``AAuth-Mission`` or the auth token.
    A named tuple: one is built per request, and it costs far less than a frozen dataclass.
    """

    signature: VerifiedSignature
    scheme: str
    thumbprint: str
    agent_id: str | None = None
    agent_token: AgentTokenClaims | None = None
    auth_token: AuthTokenClaims | None = None
    access_token: str | None = None
    mission: MissionRef | None = None

    @property
    def scopes(self) -> frozenset[str]:
        """Scopes granted by the auth token (empty without one)."""
        return frozenset(self.auth_token.scope) if self.auth_token else frozenset()

    @property
    def subject(self) -> str | None:
        """The person (directed ``sub``) behind an auth token, if it names one."""
        return self.auth_token.sub if self.auth_token else None

    @property
    def presented_token(self) -> str | None:
        """The JWT the request was signed under (``Signature-Key`` scheme ``jwt``), as sent:
        with an auth token, what a resource calling onward passes as ``upstream_token``."""
        resolved = self.signature.signature_key
        return resolved.member.jwt if resolved and isinstance(resolved.member, Jwt) else None

    @property
    def issuer(self) -> str | None:
        """The PS/AS that issued the auth token, or the AP that issued the agent token."""
        if self.auth_token:
            return self.auth_token.iss
        return self.agent_token.iss if self.agent_token else None
