"""The JOSE facade for AAuth tokens: compact JWS JWTs with an explicit ``typ`` (protocol-10 §D).

Encoding goes through joserfc (header control, the RFC 9864 ``Ed25519`` alg). Verification
does not: :func:`parse` decodes the token once, strictly (duplicate members, non-finite numbers
and oversized tokens are refused, which joserfc's lenient ``json.loads`` would accept), and
the signature is checked with :class:`aauth_signing.VerifyingKey` over the JWS signing input
(ES256 in JWS is the same raw ``r||s`` the HTTP layer uses). That keeps a token check at one
JSON decode plus one raw signature verification, with no joserfc key objects to build or cache
per issuer key. Measured on an agent token with Ed25519: :func:`verify` costs about 1.2× a raw
Ed25519 verification; the same strict parse followed by joserfc's verify costs 1.3-1.5×
(a second header decode and its key wrapping on top of the same primitive).

The algorithm is pinned by the key (protocol-10 §H.2): the header ``alg`` must equal the
verifying key's own ``alg``, which must be on :data:`ALLOWED_ALGORITHMS`. ``EdDSA`` (the seed's
name for Ed25519) is accepted only when asked for, and only with an Ed25519 key.

>>> key = SigningKey.generate("Ed25519")
>>> token = encode({"exp": 2**31}, key, typ="aa-agent+jwt", kid="k1")
>>> verify(token, key.public_key(), typ="aa-agent+jwt")["exp"]
2147483648
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from aauth_signing import (
    InvalidSignature,
    SignatureError,
    SigningKey,
    VerifyingKey,
    b64url_decode,
)
from aauth_signing._cache import BoundedCache
from aauth_signing.jws import decode_segment
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey, RSAKey

from .errors import InvalidToken, TokenExpired

__all__ = [
    "ALLOWED_ALGORITHMS",
    "MAX_TOKEN_LENGTH",
    "ParsedJWT",
    "check_times",
    "encode",
    "parse",
    "peek",
    "peek_typ",
    "verify",
]

ALLOWED_ALGORITHMS = frozenset({"Ed25519", "ES256", "ES384", "PS256"})
"""The JWS algorithms AAuth tokens may use; never ``none``, ``HS*`` or ``EdDSA`` by default."""

MAX_TOKEN_LENGTH = 16 * 1024
"""Tokens travel in headers and small JSON bodies; anything larger is refused unparsed."""

_LEGACY_EDDSA = "EdDSA"
_RESERVED_HEADER = frozenset({"alg", "typ", "kid"})
_REGISTRY = jws.JWSRegistry(algorithms=sorted(ALLOWED_ALGORITHMS), strict_check_header=False)


class ParsedJWT(NamedTuple):
    """A decoded, not yet verified token: what :func:`verify` needs, decoded exactly once.

    ``header`` is read-only: it is shared by every token with the same encoded header. (A
    named tuple: immutable, and built in half the time of a frozen dataclass.)
    """

    header: Mapping[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes

    @property
    def alg(self) -> str:
        return self.header["alg"]  # type: ignore[no-any-return]  # checked by _header

    @property
    def typ(self) -> str:
        return self.header["typ"]  # type: ignore[no-any-return]

    @property
    def kid(self) -> str:
        return self.header["kid"]  # type: ignore[no-any-return]


_HEADERS: BoundedCache[str, Mapping[str, Any]] = BoundedCache(512)


def _header(segment: str) -> Mapping[str, Any]:
    """The checked JOSE header, read-only; an issuer's tokens share one, so it is decoded
    once (memo)."""
    cached = _HEADERS.get(segment)
    if cached is None:
        try:
            header = decode_segment(segment, "header")
        except SignatureError as exc:
            raise InvalidToken(exc.description) from None
        for name in ("alg", "typ", "kid"):
            if not isinstance(header.get(name), str) or not header[name]:
                raise InvalidToken(f"JWT header has no string {name!r}")
        if "crit" in header:
            raise InvalidToken("JWT header 'crit' names extensions this verifier does not support")
        cached = MappingProxyType(header)
        _HEADERS.put(segment, cached)
    return cached


def parse(token: str) -> ParsedJWT:
    """Decode a compact JWS without verifying it; InvalidToken when it is malformed.

    The header must carry string ``alg``, ``typ`` and ``kid`` (protocol-10 §D) and no ``crit``
    (no extension is understood here, so none may be required).
    """
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken(f"JWT must be a non-empty string of at most {MAX_TOKEN_LENGTH} chars")
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("JWT must have three dot-separated parts")
    header_b64, payload_b64, signature_b64 = parts
    header = _header(header_b64)
    try:
        claims = decode_segment(payload_b64, "payload")
        signature = b64url_decode(signature_b64)
    except SignatureError as exc:
        raise InvalidToken(exc.description) from None
    except ValueError:
        raise InvalidToken("JWT signature is not base64url") from None
    # both segments decoded as base64url, so the signing input is ASCII
    signing_input = token[: len(token) - len(signature_b64) - 1].encode("ascii")
    return ParsedJWT(header, claims, signing_input, signature)


def peek_typ(token: str) -> str:
    """The header ``typ`` of a token, UNVERIFIED: which verification it needs. Only the
    header is read (its checks and memo are :func:`parse`'s); InvalidToken if it is bad."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken(f"JWT must be a string of at most {MAX_TOKEN_LENGTH} chars")
    return _header(token.partition(".")[0])["typ"]  # type: ignore[no-any-return]


def peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(header, claims)`` of a token, UNVERIFIED: for routing (``iss``, ``kid``), never trust."""
    parsed = parse(token)
    return dict(parsed.header), parsed.claims


def _joserfc_key(key: SigningKey) -> OKPKey | ECKey | RSAKey:
    if key.algorithm.jose not in ALLOWED_ALGORITHMS:
        raise ValueError(f"{key.algorithm.jose} keys cannot sign AAuth tokens")
    family = key.algorithm.family
    if family == "okp":
        return OKPKey.import_key(key.key)  # type: ignore[arg-type]
    if family == "ec":
        return ECKey.import_key(key.key)  # type: ignore[arg-type]
    return RSAKey.import_key(key.key)  # type: ignore[arg-type]


def encode(
    claims: Mapping[str, Any],
    key: SigningKey,
    *,
    typ: str,
    kid: str,
    extra_header: Mapping[str, Any] | None = None,
) -> str:
    """Sign ``claims`` as a compact JWS; the header ``alg`` is the key's fully-specified alg.

    ``extra_header`` may add members but never replace ``alg``, ``typ`` or ``kid``.
    """
    header: dict[str, Any] = {"alg": key.algorithm.jose, "typ": typ, "kid": kid}
    if extra_header:
        clash = _RESERVED_HEADER.intersection(extra_header)
        if clash:
            raise ValueError(f"extra_header may not set {sorted(clash)}")
        header.update(extra_header)
    payload = json.dumps(dict(claims), separators=(",", ":"), allow_nan=False).encode("utf-8")
    try:
        return jws.serialize_compact(header, payload, _joserfc_key(key), registry=_REGISTRY)
    except JoseError as exc:
        raise ValueError(f"cannot sign token: {exc}") from None


_JSON_NUMBERS = (int, float)
"""What JSON numbers decode to: values of exactly these types need no further check."""


def _number(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if value.__class__ is bool or not isinstance(value, (int, float)):
        raise InvalidToken(f"JWT {name!r} is not a number")
    return value


def _check_alg(parsed: ParsedJWT, key: VerifyingKey, allow_eddsa: bool) -> None:
    key_alg = key.algorithm.jose
    if key_alg not in ALLOWED_ALGORITHMS:
        raise InvalidToken(f"keys with alg {key_alg} may not verify AAuth tokens")
    alg = parsed.alg
    if alg == key_alg:
        return
    if alg == _LEGACY_EDDSA and allow_eddsa and key_alg == "Ed25519":
        return
    raise InvalidToken(f"JWT alg {alg!r} does not match the issuer key's alg {key_alg}")


def check_times(claims: Mapping[str, Any], *, now: float, leeway: float) -> None:
    """``exp`` required and not passed, ``iat`` required and not in the future, ``nbf`` honoured.

    Each bound is relaxed by ``leeway`` seconds for clock skew.
    """
    exp, iat, nbf = claims.get("exp"), claims.get("iat"), claims.get("nbf")
    if exp.__class__ not in _JSON_NUMBERS or iat.__class__ not in _JSON_NUMBERS or nbf is not None:
        exp, iat, nbf = _number(claims, "exp"), _number(claims, "iat"), _number(claims, "nbf")
    if exp is None:
        raise InvalidToken("JWT has no 'exp'")
    if iat is None:
        raise InvalidToken("JWT has no 'iat'")
    if exp + leeway <= now:
        raise TokenExpired(f"JWT expired at {exp:.0f} (now {now:.0f})")
    if iat - leeway > now:
        raise InvalidToken(f"JWT 'iat' {iat:.0f} is in the future (now {now:.0f})")
    if nbf is not None and nbf - leeway > now:
        raise InvalidToken(f"JWT is not valid before {nbf:.0f} (now {now:.0f})")


def verify(
    token: str | ParsedJWT,
    key: VerifyingKey,
    *,
    typ: str,
    leeway: float = 60,
    now: float | None = None,
    allow_eddsa: bool = False,
) -> dict[str, Any]:
    """The claims of ``token`` once its ``typ``, ``alg``, signature and times check out.

    Raises TokenExpired when only the time is wrong after a good signature, InvalidToken for
    everything else. Claim semantics beyond time are the caller's (see :mod:`aauth.tokens`).
    """
    parsed = token if isinstance(token, ParsedJWT) else parse(token)
    header, key_alg = parsed.header, key.algorithm.jose
    if header["typ"] != typ:
        raise InvalidToken(f"JWT typ {parsed.typ!r} is not {typ!r}")
    if header["alg"] != key_alg or key_alg not in ALLOWED_ALGORITHMS:
        _check_alg(parsed, key, allow_eddsa)  # refuses, unless the EdDSA compatibility case
    try:
        key.verify(parsed.signature, parsed.signing_input)
    except InvalidSignature:
        raise InvalidToken("JWT signature does not verify") from None
    check_times(parsed.claims, now=time.time() if now is None else now, leeway=leeway)
    return parsed.claims
