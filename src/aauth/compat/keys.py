"""aauth 0.3's key helpers and its JWKS fetcher, over :mod:`aauth_signing`'s key types.

Keys are the ``cryptography`` objects 0.3 callers hold. Converting one to a
:class:`~aauth_signing.SigningKey` (and building what hangs off it) happens once per key
object, in :class:`PerKey`, not once per call.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic, Protocol, TypeVar

from aauth_signing import (
    SignatureError,
    SigningKey,
    VerifyingKey,
    jwk_from_public_key,
    jwk_thumbprint,
    public_key_from_jwk,
)
from cryptography.hazmat.primitives.asymmetric import ed25519

from ..egress import AsyncEgressClient, EgressPolicy
from ..metadata import check_issuer, well_known_url
from .errors import JWKSError

__all__ = [
    "DefaultHTTPClient",
    "JWKSCache",
    "JWKSFetcher",
    "PerKey",
    "calculate_jwk_thumbprint",
    "generate_ed25519_keypair",
    "generate_jwks",
    "jwk_to_public_key",
    "public_key_to_jwk",
    "signing_key",
]

K = TypeVar("K")
T = TypeVar("T")


class PerKey(Generic[K, T]):
    """``build(key)`` memoised per key object (identity, bounded LRU): 0.3 callers pass the
    same key on every call, and rebuilding what derives from it would dominate the cost."""

    __slots__ = ("_build", "_entries", "_size")

    def __init__(self, build: Callable[[K], T], size: int = 64) -> None:
        self._build = build
        self._size = size
        self._entries: OrderedDict[int, tuple[K, T]] = OrderedDict()

    def get(self, key: K) -> T:
        entry = self._entries.get(id(key))
        if entry is not None and entry[0] is key:
            return entry[1]
        value = self._build(key)
        self._entries[id(key)] = (key, value)  # the strong ref keeps id(key) from being reused
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return value


def _to_signing_key(private_key: Any) -> SigningKey:
    if isinstance(private_key, SigningKey):
        return private_key
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return SigningKey(private_key, "Ed25519")
    raise TypeError(f"expected an Ed25519 private key, got {type(private_key).__name__}")


_SIGNING_KEYS: PerKey[Any, SigningKey] = PerKey(_to_signing_key)


def signing_key(private_key: Any) -> SigningKey:
    """The SigningKey for a 0.3 caller's private key (built once per key object)."""
    return _SIGNING_KEYS.get(private_key)


def verifying_key(public_key: Any) -> VerifyingKey:
    if isinstance(public_key, VerifyingKey):
        return public_key
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return VerifyingKey(public_key, "Ed25519")
    raise TypeError(f"expected an Ed25519 public key, got {type(public_key).__name__}")


def generate_ed25519_keypair() -> tuple[ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey]:
    """A fresh Ed25519 key pair as ``cryptography`` objects."""
    private = ed25519.Ed25519PrivateKey.generate()
    return private, private.public_key()


def public_key_to_jwk(public_key: Any, kid: str | None = None) -> dict[str, Any]:
    """The public JWK, with protocol-10's fully-specified ``alg`` (``Ed25519``)."""
    return jwk_from_public_key(verifying_key(public_key), kid=kid)


def jwk_to_public_key(jwk: dict[str, Any]) -> ed25519.Ed25519PublicKey:
    """The Ed25519 public key of a JWK; 0.3's JWKs (``EdDSA`` or no ``alg``) are accepted.
    ValueError for anything that is not an Ed25519 key."""
    try:
        key = public_key_from_jwk(jwk, allow_legacy=True).key
    except SignatureError as exc:
        raise ValueError(f"JWK must be Ed25519 (OKP, Ed25519): {exc.description}") from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise ValueError("JWK must be Ed25519 (OKP, Ed25519)")
    return key


def calculate_jwk_thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint (base64url); ``alg`` and ``kid`` do not enter it."""
    return jwk_thumbprint(jwk)


def generate_jwks(keys: list[dict[str, Any]]) -> dict[str, Any]:
    """A JWKS document holding ``keys``."""
    return {"keys": list(keys)}


class HTTPClient(Protocol):
    def fetch_json(self, url: str) -> Awaitable[dict[str, Any]]: ...


class DefaultHTTPClient:
    """Fetches JSON through the egress policy (https only, no private addresses, size and
    time caps); ``aauth.compat.keys.EGRESS`` is the policy it uses."""

    async def fetch_json(self, url: str) -> dict[str, Any]:
        try:
            async with AsyncEgressClient(EGRESS) as client:
                document, _ = await client.fetch_json(url)
        except Exception as exc:  # 0.3 reported every fetch failure as JWKSError
            raise JWKSError(f"Failed to fetch JWKS from {url}: {exc}", jwks_uri=url) from exc
        return document


EGRESS = EgressPolicy()
"""The egress policy :class:`DefaultHTTPClient` (and the 0.3 metadata fetchers) use."""


class JWKSCache:
    """JWKS documents by URL, fresh for ``ttl`` seconds (never beyond ``max_age``)."""

    def __init__(self, ttl: int = 3600, max_age: int = 86400) -> None:
        self._cache: dict[str, tuple[dict[str, Any], float]] = {}
        self._ttl = min(ttl, max_age)

    def get(self, url: str) -> dict[str, Any] | None:
        entry = self._cache.get(url)
        if entry is None:
            return None
        if time.time() - entry[1] > self._ttl:
            del self._cache[url]
            return None
        return entry[0]

    def set(self, url: str, jwks: dict[str, Any]) -> None:
        self._cache[url] = (jwks, time.time())

    def invalidate(self, url: str) -> None:
        self._cache.pop(url, None)

    def clear(self) -> None:
        self._cache.clear()


class JWKSFetcher:
    """Metadata, then its ``jwks_uri``, cached; an unknown ``kid`` refetches at most once per
    ``min_fetch_interval`` seconds. The metadata's ``issuer`` must equal ``identifier``
    (protocol-10 §B.3; 0.3 did not check it)."""

    def __init__(
        self,
        http_client: HTTPClient | None = None,
        cache: JWKSCache | None = None,
        cache_ttl: int = 3600,
        min_fetch_interval: int = 60,
    ) -> None:
        self._http = http_client or DefaultHTTPClient()
        self._cache = cache or JWKSCache(ttl=cache_ttl)
        self._interval = min_fetch_interval
        self._last_fetch: dict[str, float] = {}

    async def fetch(
        self, identifier: str, kid: str | None = None, metadata_path: str = "aauth-agent.json"
    ) -> dict[str, Any]:
        """The JWKS of ``identifier``; JWKSError when it cannot be had."""
        url = well_known_url(identifier, metadata_path)
        try:
            metadata = await self._http.fetch_json(url)
            check_issuer(metadata, identifier, allow_loopback_http=EGRESS.allow_loopback_http)
        except JWKSError:
            raise
        except Exception as exc:
            raise JWKSError(f"Failed to fetch metadata from {url}: {exc}", jwks_uri=url) from exc
        jwks_uri = metadata.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri:
            raise JWKSError(f"No jwks_uri in metadata from {url}", jwks_uri=url)
        cached = self._cache.get(jwks_uri)
        if cached is not None and (kid is None or self.get_key_by_kid(cached, kid)):
            return cached
        last = self._last_fetch.get(identifier)
        if last is not None and time.time() - last < self._interval:
            if cached is not None:
                return cached
            raise JWKSError(f"Rate limited: cannot fetch JWKS for {identifier}", jwks_uri=jwks_uri)
        jwks = await self._http.fetch_json(jwks_uri)
        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
            raise JWKSError(f"Invalid JWKS structure from {jwks_uri}", jwks_uri=jwks_uri)
        self._cache.set(jwks_uri, jwks)
        self._last_fetch[identifier] = time.time()
        return jwks

    def get_key_by_kid(self, jwks: Mapping[str, Any], kid: str) -> dict[str, Any] | None:
        """The JWK with ``kid``, or None."""
        for key in jwks.get("keys", []):
            if isinstance(key, dict) and key.get("kid") == kid:
                return key
        return None
