"""Where token verifiers get issuer keys: the seam between tokens and discovery.

Token verification is pure once it has the issuer's key; finding that key is I/O
(metadata and JWKS fetches, cached). :class:`KeySource` is the one interface between them,
with a blocking and an awaitable method so one verifier serves both kinds of caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from aauth_signing import UnknownKey, VerifyingKey, select_jwk

__all__ = ["KeySource", "StaticKeySource"]


class KeySource(Protocol):
    """Resolves ``(issuer, dwk, kid)`` to a verification key and its JWK.

    Implementations fetch ``{issuer}/.well-known/{dwk}``, check its ``issuer``, fetch its
    ``jwks_uri`` and select ``kid`` (refreshing once when it is unknown). They raise
    :class:`aauth_signing.SignatureError` subclasses: ``unknown_key``, ``issuer_missing``,
    ``issuer_mismatch``, ``invalid_key``.
    """

    def get_key(
        self, issuer: str, dwk: str, kid: str
    ) -> tuple[VerifyingKey, Mapping[str, Any]]: ...

    async def aget_key(
        self, issuer: str, dwk: str, kid: str
    ) -> tuple[VerifyingKey, Mapping[str, Any]]: ...


class StaticKeySource:
    """Keys configured up front: ``{issuer: jwks}``; no I/O, ``dwk`` is not consulted.

    For pinned trust relationships and for tests.
    """

    def __init__(self, jwks_by_issuer: Mapping[str, Mapping[str, Any]]) -> None:
        self._jwks = dict(jwks_by_issuer)

    def add(self, issuer: str, jwks: Mapping[str, Any]) -> None:
        self._jwks[issuer] = jwks

    def get_key(self, issuer: str, dwk: str, kid: str) -> tuple[VerifyingKey, Mapping[str, Any]]:
        jwks = self._jwks.get(issuer)
        if jwks is None:
            raise UnknownKey(f"no keys are configured for issuer {issuer!r}")
        return select_jwk(jwks, kid)

    async def aget_key(
        self, issuer: str, dwk: str, kid: str
    ) -> tuple[VerifyingKey, Mapping[str, Any]]:
        return self.get_key(issuer, dwk, kid)
