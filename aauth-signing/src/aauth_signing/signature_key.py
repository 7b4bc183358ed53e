"""The ``Signature-Key`` header (draft-hardt-httpbis-signature-key-08).

Each scheme is a small immutable class that parses from, and serializes to, one dictionary
member. Schemes that need no I/O (``hwk``, ``jkt-jwt``) resolve to a key here; the others go
through a :class:`KeyResolver` the application supplies, so this package never touches the
network.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from http_sf.types import Token

from ._structured import BareItem, Params, parse_dictionary, serialize_params
from .algorithms import VerifyingKey
from .errors import (
    ExpiredJWT,
    InvalidJWT,
    InvalidKey,
    InvalidSignature,
    IssuerMismatch,
    IssuerMissing,
    UnknownKey,
    UnsupportedAlgorithm,
    UnsupportedScheme,
)
from .jwk import jwk_from_public_key, jwk_thumbprint, public_key_from_jwk
from .jws import decode_compact

__all__ = [
    "SCHEMES",
    "AsyncKeyResolver",
    "Cached",
    "Hwk",
    "JktJwt",
    "Jwks",
    "JwksUri",
    "Jwt",
    "KeyResolver",
    "ResolvedKey",
    "SignatureKeyHeader",
    "SignatureKeyMember",
    "UnknownScheme",
    "X509",
    "check_discovery_document",
    "select_jwk",
]

_HWK_MEMBERS = {
    "OKP": ("kty", "crv", "x"),
    "EC": ("kty", "crv", "x", "y"),
    "RSA": ("kty", "n", "e"),
}


def _string(params: Mapping[str, BareItem], name: str, scheme: str) -> str:
    value = params.get(name)
    if not isinstance(value, str):
        raise InvalidKey(f"{scheme} requires the string parameter {name!r}")
    return value


def _flag(params: Mapping[str, BareItem], name: str, scheme: str) -> bool:
    value = params.get(name, False)
    if not isinstance(value, bool):
        raise InvalidKey(f"{scheme} parameter {name!r} must be a boolean")
    return value


@dataclass(frozen=True)
class SignatureKeyMember:
    """Base of every scheme; ``serialize()`` gives the member value for the header."""

    scheme: ClassVar[str] = ""

    def params(self) -> Params:
        raise NotImplementedError

    def serialize(self) -> str:
        return self.scheme + serialize_params(self.params())

    @classmethod
    def from_params(cls, params: Mapping[str, BareItem]) -> SignatureKeyMember:
        raise NotImplementedError


@dataclass(frozen=True)
class Hwk(SignatureKeyMember):
    """An inline public key: the caller is known only by its key thumbprint."""

    scheme: ClassVar[str] = "hwk"
    jwk: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_public_key(cls, key: VerifyingKey) -> Hwk:
        return cls(jwk_from_public_key(key))

    @classmethod
    def from_params(cls, params: Mapping[str, BareItem]) -> Hwk:
        if "kid" in params:
            raise InvalidKey("hwk must not carry 'kid'")
        kty = _string(params, "kty", "hwk")
        names = _HWK_MEMBERS.get(kty)
        if names is None:
            raise UnsupportedAlgorithm(f"hwk key type {kty!r} is not supported")
        jwk = {name: _string(params, name, "hwk") for name in names}
        if "alg" in params:
            jwk["alg"] = _string(params, "alg", "hwk")
        return cls(jwk)

    def params(self) -> Params:
        kty = self.jwk.get("kty", "")
        names = (*_HWK_MEMBERS.get(kty, ("kty",)), "alg")
        return tuple((n, self.jwk[n]) for n in names if n in self.jwk)


@dataclass(frozen=True)
class JktJwt(SignatureKeyMember):
    """A JWT self-issued by a (hardware) key, delegating to an ephemeral request key."""

    scheme: ClassVar[str] = "jkt-jwt"
    jwt: str = ""
    cache: bool = False

    @classmethod
    def from_params(cls, params: Mapping[str, BareItem]) -> JktJwt:
        return cls(_string(params, "jwt", "jkt-jwt"), _flag(params, "cache", "jkt-jwt"))

    def params(self) -> Params:
        return (("jwt", self.jwt), ("cache", True)) if self.cache else (("jwt", self.jwt),)


@dataclass(frozen=True)
class JwksUri(SignatureKeyMember):
    """An identified signer: key ``kid`` in the JWKS its ``{id}/.well-known/{dwk}`` names."""

    scheme: ClassVar[str] = "jwks_uri"
    id: str = ""
    dwk: str = ""
    kid: str = ""

    @classmethod
    def from_params(cls, params: Mapping[str, BareItem]) -> JwksUri:
        return cls(*(_string(params, n, "jwks_uri") for n in ("id", "dwk", "kid")))

    def params(self) -> Params:
        return (("id", self.id), ("dwk", self.dwk), ("kid", self.kid))


@dataclass(frozen=True)
class Jwks(SignatureKeyMember):
    """Key ``kid`` in the JWKS at ``url``; the URL itself is the signer's identity."""

    scheme: ClassVar[str] = "jwks"
    url: str = ""
    kid: str = ""

    @classmethod
    def from_params(cls, params: Mapping[str, BareItem]) -> Jwks:
        return cls(_string(params, "url", "jwks"), _string(params, "kid", "jwks"))

    def params(self) -> Params:
        return (("url", self.url), ("kid", self.kid))


@dataclass(frozen=True)
class Jwt(SignatureKeyMember):
    """A JWT whose ``cnf.jwk`` is the request key (AAuth's agent and auth tokens)."""

    scheme: ClassVar[str] = "jwt"
    jwt: str = ""
    cache: bool = False

    @classmethod
    def from_params(cls, params: Mapping[str, BareItem]) -> Jwt:
        return cls(_string(params, "jwt", "jwt"), _flag(params, "cache", "jwt"))

    def params(self) -> Params:
        return (("jwt", self.jwt), ("cache", True)) if self.cache else (("jwt", self.jwt),)


@dataclass(frozen=True)
class X509(SignatureKeyMember):
    """A certificate chain at ``x5u`` whose end-entity SHA-256 is ``x5t``."""

    scheme: ClassVar[str] = "x509"
    x5u: str = ""
    x5t: bytes = b""

    @classmethod
    def from_params(cls, params: Mapping[str, BareItem]) -> X509:
        x5t = params.get("x5t")
        if not isinstance(x5t, bytes) or len(x5t) != 32:
            raise InvalidKey("x509 requires 'x5t' as a 32-byte byte sequence")
        return cls(_string(params, "x5u", "x509"), x5t)

    def params(self) -> Params:
        return (("x5u", self.x5u), ("x5t", self.x5t))


@dataclass(frozen=True)
class Cached(SignatureKeyMember):
    """A reference to an assertion the verifier cached earlier (``Signature-Key-Cache``)."""

    scheme: ClassVar[str] = "cached"
    cid: str = ""

    @classmethod
    def from_params(cls, params: Mapping[str, BareItem]) -> Cached:
        return cls(_string(params, "cid", "cached"))

    def params(self) -> Params:
        return (("cid", self.cid),)


@dataclass(frozen=True)
class UnknownScheme(SignatureKeyMember):
    """A member whose scheme this library does not implement; kept so it can be ignored."""

    name: str = ""
    raw_params: Params = ()

    def params(self) -> Params:
        return self.raw_params

    def serialize(self) -> str:
        return self.name + serialize_params(self.raw_params)


SCHEMES: dict[str, type[SignatureKeyMember]] = {
    cls.scheme: cls for cls in (Hwk, JktJwt, JwksUri, Jwks, Jwt, X509, Cached)
}
"""Scheme name → member class; verification dispatches through this registry."""


class SignatureKeyHeader:
    """A parsed ``Signature-Key`` dictionary; members are decoded only when selected.

    A member for a label the verifier does not use is never validated, so an unknown scheme
    on another label cannot make a request fail (signature-key-08 §2).
    """

    __slots__ = ("_raw",)

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self._raw = raw

    @classmethod
    def parse(cls, text: str) -> SignatureKeyHeader:
        return cls(parse_dictionary(text, "Signature-Key", InvalidSignature))

    @property
    def labels(self) -> list[str]:
        return list(self._raw)

    def member(self, label: str, accepted: tuple[str, ...] | None = None) -> SignatureKeyMember:
        """The typed member for ``label``; unknown schemes come back as UnknownScheme.

        With ``accepted``, a scheme outside it is UnsupportedScheme before its parameters
        are looked at, so a malformed member of a refused scheme reports the refusal.
        """
        if label not in self._raw:
            raise InvalidSignature(f"Signature-Key has no member for label {label!r}")
        entry = self._raw[label]
        value, params = entry if isinstance(entry, tuple) else (entry, {})
        if not isinstance(value, Token):
            raise InvalidSignature(f"Signature-Key member {label!r} is not a scheme token")
        scheme = str(value)
        if accepted is not None and scheme not in accepted:
            raise UnsupportedScheme(f"Signature-Key scheme {scheme!r} is not accepted", accepted)
        member_cls = SCHEMES.get(scheme)
        if member_cls is None:
            return UnknownScheme(scheme, tuple(params.items()))
        return member_cls.from_params(params)

    @staticmethod
    def serialize(members: Mapping[str, SignatureKeyMember]) -> str:
        return ", ".join(f"{label}={member.serialize()}" for label, member in members.items())


@dataclass(frozen=True)
class ResolvedKey:
    """The outcome of resolving a ``Signature-Key`` member.

    ``signer`` is the identity the scheme vouches for (``id`` for jwks_uri, ``url`` for jwks,
    the JWT ``iss`` for jwt/jkt-jwt) and None for hwk, whose caller is only ``thumbprint``.
    ``claims`` holds a verified JWT's payload for the JWT-based schemes.
    """

    key: VerifyingKey
    member: SignatureKeyMember
    jwk: Mapping[str, Any]
    thumbprint: str
    signer: str | None = None
    claims: Mapping[str, Any] | None = None

    @property
    def scheme(self) -> str:
        return self.member.scheme


class KeyResolver(Protocol):
    """Resolves the schemes that need I/O or token trust (jwks_uri, jwks, jwt, x509, cached).

    Implementations raise :class:`~aauth_signing.errors.SignatureError` subclasses
    (``unknown_key``, ``issuer_mismatch``, ``invalid_jwt`` …) when they cannot.
    """

    def resolve(self, member: SignatureKeyMember) -> ResolvedKey: ...


class AsyncKeyResolver(Protocol):
    """The asynchronous twin of :class:`KeyResolver`."""

    async def resolve(self, member: SignatureKeyMember) -> ResolvedKey: ...


def _jkt_jwt(member: JktJwt, now: float, leeway: int) -> ResolvedKey:
    jws = decode_compact(member.jwt)
    typ = jws.header.get("typ")
    hash_name = {"jkt-s256+jwt": "sha-256", "jkt-s512+jwt": "sha-512"}.get(str(typ))
    if hash_name is None:
        raise InvalidJWT(f"jkt-jwt typ must be jkt-s256+jwt or jkt-s512+jwt, got {typ!r}")
    header_jwk = jws.header.get("jwk")
    if not isinstance(header_jwk, dict):
        raise InvalidJWT("jkt-jwt header has no 'jwk'")
    issuer_key = public_key_from_jwk(header_jwk)
    expected_iss = f"urn:jkt:{hash_name}:{jwk_thumbprint(header_jwk, hash_name)}"
    if jws.payload.get("iss") != expected_iss:
        raise InvalidJWT("jkt-jwt 'iss' is not the thumbprint of the header key")
    jws.verify(issuer_key)
    claims = jws.payload
    _check_times(claims, now, leeway)
    cnf = claims.get("cnf")
    cnf_jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
    if not isinstance(cnf_jwk, dict):
        raise InvalidJWT("jkt-jwt has no 'cnf.jwk'")
    if member.cache and "jti" not in claims:
        raise InvalidJWT("a jkt-jwt sent with 'cache' must carry 'jti'")
    key = public_key_from_jwk(cnf_jwk)
    return ResolvedKey(key, member, cnf_jwk, jwk_thumbprint(cnf_jwk), expected_iss, claims)


def _check_times(claims: Mapping[str, Any], now: float, leeway: int) -> None:
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int) or isinstance(exp, bool):
        raise InvalidJWT("JWT has no integer 'exp'")
    if exp + leeway <= now:
        raise ExpiredJWT("JWT has expired")
    if iat is not None and (not isinstance(iat, int) or iat - leeway > now):
        raise InvalidJWT("JWT 'iat' is invalid or in the future")


def resolve_locally(
    member: SignatureKeyMember,
    *,
    allow_legacy: bool = False,
    now: float | None = None,
    leeway: int = 60,
) -> ResolvedKey | None:
    """Resolve the schemes that need no I/O (hwk, jkt-jwt); None for the others."""
    if isinstance(member, Hwk):
        key = public_key_from_jwk(member.jwk, allow_legacy=allow_legacy)
        return ResolvedKey(key, member, member.jwk, jwk_thumbprint(member.jwk))
    if isinstance(member, JktJwt):
        return _jkt_jwt(member, time.time() if now is None else now, leeway)
    return None


def check_discovery_document(document: Any, identifier: str) -> str:
    """The ``jwks_uri`` of a discovery document, after the ``issuer`` checks.

    ``issuer`` absent → IssuerMissing; not byte-equal to ``identifier`` → IssuerMismatch.
    """
    if not isinstance(document, Mapping):
        raise InvalidKey("discovery document is not a JSON object")
    issuer = document.get("issuer")
    if issuer is None:
        raise IssuerMissing(f"discovery document for {identifier} has no 'issuer'")
    if issuer != identifier:
        raise IssuerMismatch(f"discovery 'issuer' {issuer!r} is not {identifier!r}")
    jwks_uri = document.get("jwks_uri")
    if not isinstance(jwks_uri, str):
        raise InvalidKey(f"discovery document for {identifier} has no 'jwks_uri'")
    return jwks_uri


def select_jwk(
    jwks: Any, kid: str, *, allow_legacy: bool = False
) -> tuple[VerifyingKey, Mapping[str, Any]]:
    """The key ``kid`` of a JWKS; other members are never inspected (they may be unusable).

    Raises UnknownKey when no member has that ``kid``.
    """
    # ``type(...) is dict`` first: a JWKS is decoded JSON, and the ABC check costs more.
    keys = jwks.get("keys") if type(jwks) is dict or isinstance(jwks, Mapping) else None
    if not isinstance(keys, list):
        raise InvalidKey("JWKS has no 'keys' array")
    for candidate in keys:
        if (type(candidate) is dict or isinstance(candidate, Mapping)) and candidate.get(
            "kid"
        ) == kid:
            return public_key_from_jwk(candidate, allow_legacy=allow_legacy), candidate
    raise UnknownKey(f"no key with kid {kid!r} in the JWKS")


def require_supported(member: SignatureKeyMember, accepted: tuple[str, ...]) -> None:
    """UnsupportedScheme unless ``member``'s scheme is implemented and accepted."""
    if isinstance(member, UnknownScheme) or member.scheme not in accepted:
        name = member.name if isinstance(member, UnknownScheme) else member.scheme
        raise UnsupportedScheme(f"Signature-Key scheme {name!r} is not accepted", accepted)
