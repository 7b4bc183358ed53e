"""Where token verifiers get issuer keys: the seam between tokens and discovery.

Token verification is pure once it has the issuer's key; finding that key is I/O
(metadata and JWKS fetches, cached). :class:`KeySource` is the one interface between them,
with a blocking and an awaitable method so one verifier serves both kinds of caller.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from aauth_signing import UnknownKey, VerifyingKey, select_jwk

__all__ = ["FetcherKeySource", "JwksFetcher", "KeySource", "StaticKeySource", "as_key_source"]

JwksFetcher = Callable[..., Mapping[str, Any] | None]
"""``fetcher(issuer, dwk, kid)`` (or fewer arguments) returning a JWKS document."""


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


class FetcherKeySource:
    """A :class:`~aauth.keysource.KeySource` over a ``jwks_fetcher`` callable.

    The callable receives ``(issuer, dwk, kid)``, ``(issuer, kid)`` or ``(issuer)``,
    whichever its signature accepts, and returns a JWKS document. It is the trust anchor:
    no metadata document is fetched, so no ``issuer`` check happens here.
    """

    def __init__(self, fetcher: JwksFetcher, *, allow_legacy: bool = False) -> None:
        self._fetcher = fetcher
        self._legacy = allow_legacy
        try:
            params = inspect.signature(fetcher).parameters.values()
            positional = [
                p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            ]
            varargs = any(p.kind is p.VAR_POSITIONAL for p in params)
        except (TypeError, ValueError):
            positional, varargs = [], True
        self._arity = 3 if varargs else min(max(len(positional), 1), 3)

    def _jwks(self, issuer: str, dwk: str, kid: str) -> Mapping[str, Any]:
        args = (issuer, dwk, kid) if self._arity == 3 else (issuer, kid)[: self._arity]
        jwks = self._fetcher(*args)
        if not isinstance(jwks, Mapping):
            raise UnknownKey(f"no JWKS for {issuer!r}")
        return jwks

    def get_key(self, issuer: str, dwk: str, kid: str) -> tuple[VerifyingKey, Mapping[str, Any]]:
        return select_jwk(self._jwks(issuer, dwk, kid), kid, allow_legacy=self._legacy)

    async def aget_key(
        self, issuer: str, dwk: str, kid: str
    ) -> tuple[VerifyingKey, Mapping[str, Any]]:
        return self.get_key(issuer, dwk, kid)


def as_key_source(keys: KeySource | JwksFetcher | None) -> KeySource:
    """A KeySource from a KeySource, a ``jwks_fetcher`` callable, or None (knows no keys)."""
    if keys is None:
        return StaticKeySource({})
    if hasattr(keys, "get_key") and hasattr(keys, "aget_key"):
        return keys
    return FetcherKeySource(keys)
