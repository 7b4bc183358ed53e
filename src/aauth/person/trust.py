"""Which agent providers a person server takes agent tokens from.

The check sits in front of key discovery, so no metadata or JWKS is ever fetched for an agent
provider that would be refused anyway. A refused issuer is reported as ``invalid_jwt``, which
the token endpoint answers as ``invalid_agent_token`` (PS-02).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from aauth_signing import InvalidJWT, VerifyingKey

from ..keysource import KeySource
from ..tokens.wire import AGENT_DWK

__all__ = ["TrustedAgentProviders"]


class TrustedAgentProviders:
    """A :class:`~aauth.keysource.KeySource` that resolves agent-token keys only for
    ``trusted`` issuers (None: every issuer); other lookups pass through to ``inner``."""

    def __init__(self, inner: KeySource, trusted: Collection[str] | None) -> None:
        self._inner = inner
        self._trusted = None if trusted is None else frozenset(trusted)

    def _check(self, issuer: str, dwk: str) -> None:
        if dwk == AGENT_DWK and self._trusted is not None and issuer not in self._trusted:
            raise InvalidJWT(f"agent provider {issuer[:100]!r} is not trusted by this PS")

    def get_key(self, issuer: str, dwk: str, kid: str) -> tuple[VerifyingKey, Mapping[str, Any]]:
        self._check(issuer, dwk)
        return self._inner.get_key(issuer, dwk, kid)

    async def aget_key(
        self, issuer: str, dwk: str, kid: str
    ) -> tuple[VerifyingKey, Mapping[str, Any]]:
        self._check(issuer, dwk)
        return await self._inner.aget_key(issuer, dwk, kid)
