"""JWK ↔ key, with signature-key-08's algorithm rules, and RFC 7638 thumbprints.

The algorithm always comes from the JWK's ``alg`` and must be fully specified: a JWK without
``alg``, or with the polymorphic ``EdDSA``, is refused unless the caller opts into the seed's
legacy behaviour. ``kty``/``crv`` that disagree with ``alg`` are an ``invalid_key``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from ._cache import BoundedCache
from .algorithms import ALGORITHMS, Algorithm, SigningKey, VerifyingKey
from .errors import InvalidKey, UnsupportedAlgorithm

__all__ = [
    "b64url_decode",
    "b64url_encode",
    "jwk_from_public_key",
    "jwk_thumbprint",
    "public_key_from_jwk",
    "signing_key_from_jwk",
]

_REQUIRED: dict[str, tuple[str, ...]] = {
    "OKP": ("crv", "kty", "x"),
    "EC": ("crv", "kty", "x", "y"),
    "RSA": ("e", "kty", "n"),
}
_KEYS: BoundedCache[tuple[Any, ...], VerifyingKey] = BoundedCache(1024)
_THUMBPRINTS: BoundedCache[tuple[Any, ...], str] = BoundedCache(1024)
_B64URL_VALUE = {
    char: value
    for value, char in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
}
_TO_STANDARD = bytes.maketrans(b"-_+/=", b"+/***")
_PADDING = (b"", b"", b"==", b"=")
_UNUSED_BITS = (0, 0, 0x0F, 0x03)
"""By ``len % 4``: the padding a2b_base64 wants, and the low bits of the last character that
a canonical encoding leaves zero."""
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
_FORBIDDEN_ALGS = frozenset({"none", "HS256", "HS384", "HS512", "RSA1_5"})
_LEGACY_DEFAULT_ALG = {
    ("OKP", "Ed25519"): "Ed25519",
    ("EC", "P-256"): "ES256",
    ("EC", "P-384"): "ES384",
}
_EC_CURVES: dict[str, ec.EllipticCurve] = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1()}


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict unpadded base64url; raises ValueError on anything else.

    Strict means canonical too: the unused low bits of the last character must be zero, so
    every byte string has exactly one accepted encoding.
    """
    if not isinstance(text, str):
        raise ValueError("not unpadded base64url")
    remainder = len(text) & 3
    if remainder == 1:
        raise ValueError("not unpadded base64url")
    try:
        # '+', '/' and '=' become '*', which strict mode refuses like any character outside
        # the alphabet (whitespace included): one pass instead of three searches
        data = text.encode("ascii").translate(_TO_STANDARD) + _PADDING[remainder]
        decoded = binascii.a2b_base64(data, strict_mode=True)
    except (UnicodeEncodeError, binascii.Error):
        raise ValueError("not unpadded base64url") from None
    if remainder and _B64URL_VALUE[text[-1]] & _UNUSED_BITS[remainder]:
        raise ValueError("non-canonical base64url")
    return decoded


def _member(jwk: Mapping[str, Any], name: str) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidKey(f"JWK member {name!r} is missing or not a string")
    try:
        return b64url_decode(value)
    except ValueError:
        raise InvalidKey(f"JWK member {name!r} is not base64url") from None


def resolve_jwk_algorithm(jwk: Mapping[str, Any], *, allow_legacy: bool = False) -> Algorithm:
    """The fully-specified algorithm a JWK declares, checked against its ``kty``/``crv``."""
    if not isinstance(jwk, Mapping):
        raise InvalidKey("JWK is not a JSON object")
    kty = jwk.get("kty")
    if not isinstance(kty, str):
        raise InvalidKey("JWK has no 'kty'")
    alg_name = jwk.get("alg")
    if kty == "oct":
        raise UnsupportedAlgorithm("symmetric keys (kty 'oct') cannot be used with Signature-Key")
    if kty not in _REQUIRED:
        raise UnsupportedAlgorithm(f"key type {kty!r} is not supported")
    if alg_name is None or alg_name == "EdDSA":
        if not allow_legacy:
            if alg_name is None:
                raise UnsupportedAlgorithm("JWK has no 'alg'; a fully-specified one is required")
            raise UnsupportedAlgorithm("'EdDSA' is polymorphic; use 'Ed25519'")
        derived = _LEGACY_DEFAULT_ALG.get((kty, str(jwk.get("crv"))))
        if derived is None or (alg_name == "EdDSA" and derived != "Ed25519"):
            raise UnsupportedAlgorithm(f"no algorithm can be derived for this {kty} key")
        alg_name = derived
    if not isinstance(alg_name, str):
        raise InvalidKey("JWK 'alg' is not a string")
    if alg_name in _FORBIDDEN_ALGS:
        raise UnsupportedAlgorithm(f"algorithm {alg_name!r} is forbidden")
    alg = ALGORITHMS.get(alg_name)
    if alg is None or not alg.asymmetric:
        raise UnsupportedAlgorithm(f"algorithm {alg_name!r} is not supported")
    if alg.kty != kty:
        raise InvalidKey(f"'alg' {alg_name} does not match 'kty' {kty}")
    if alg.curve is not None and jwk.get("crv") != alg.curve:
        raise InvalidKey(f"'alg' {alg_name} requires 'crv' {alg.curve}, got {jwk.get('crv')!r}")
    return alg


def _memo_key(jwk: object, option: object) -> tuple[Any, ...] | None:
    """A JWK's members, exactly (names and values, in order), plus ``option``, as a memo key;
    None for a non-mapping (don't memo). A value that is a list or object makes the key
    unhashable: callers treat that as a miss. Only valid keys are ever stored, and a stored
    key's deciding members are strings, which equal nothing but the same string."""
    if isinstance(jwk, (dict, Mapping)):  # dict first: the ABC check is slow
        return (*jwk.items(), option)
    return None


def public_key_from_jwk(jwk: Mapping[str, Any], *, allow_legacy: bool = False) -> VerifyingKey:
    """A VerifyingKey from a public JWK.

    ``allow_legacy`` accepts what the seed emitted: no ``alg`` (derived from ``kty``/``crv``)
    and ``EdDSA`` for Ed25519 keys. Raises InvalidKey or UnsupportedAlgorithm. Keys seen
    recently come from a bounded memo: the same agent and issuer keys arrive on every request.
    """
    memo_key = _memo_key(jwk, allow_legacy)
    try:
        cached = _KEYS.get(memo_key) if memo_key is not None else None
    except TypeError:  # an unhashable member value: not a key we would accept anyway
        memo_key = cached = None
    if cached is not None:
        return cached
    key = _decode_public_key(jwk, allow_legacy)
    if memo_key is not None:
        _KEYS.put(memo_key, key)
    return key


def _decode_public_key(jwk: Mapping[str, Any], allow_legacy: bool) -> VerifyingKey:
    alg = resolve_jwk_algorithm(jwk, allow_legacy=allow_legacy)
    if any(m in jwk for m in _PRIVATE_MEMBERS):
        raise InvalidKey("a public JWK must not carry private key members")
    try:
        if alg.family == "okp":
            return VerifyingKey(ed25519.Ed25519PublicKey.from_public_bytes(_member(jwk, "x")), alg)
        if alg.family == "ec":
            size = alg.coordinate_size
            x, y = _member(jwk, "x"), _member(jwk, "y")
            if len(x) != size or len(y) != size:
                raise InvalidKey(f"{alg.curve} coordinates must be {size} bytes")
            numbers = ec.EllipticCurvePublicNumbers(
                int.from_bytes(x, "big"), int.from_bytes(y, "big"), _EC_CURVES[alg.curve or ""]
            )
            return VerifyingKey(numbers.public_key(), alg)
        n, e = _member(jwk, "n"), _member(jwk, "e")
        public = rsa.RSAPublicNumbers(int.from_bytes(e, "big"), int.from_bytes(n, "big"))
        return VerifyingKey(public.public_key(), alg)
    except ValueError as exc:
        raise InvalidKey(f"JWK does not describe a valid key: {exc}") from None


def jwk_from_public_key(key: VerifyingKey, *, kid: str | None = None) -> dict[str, str]:
    """The public JWK for ``key``, always with its fully-specified ``alg``."""
    public = key.key
    alg = key.algorithm
    jwk: dict[str, str]
    if isinstance(public, ed25519.Ed25519PublicKey):
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(public.public_bytes_raw())}
    elif isinstance(public, ec.EllipticCurvePublicKey):
        numbers = public.public_numbers()
        size = alg.coordinate_size
        jwk = {
            "kty": "EC",
            "crv": alg.curve or "",
            "x": b64url_encode(numbers.x.to_bytes(size, "big")),
            "y": b64url_encode(numbers.y.to_bytes(size, "big")),
        }
    elif isinstance(public, rsa.RSAPublicKey):
        rnumbers = public.public_numbers()
        jwk = {
            "kty": "RSA",
            "n": b64url_encode(rnumbers.n.to_bytes((rnumbers.n.bit_length() + 7) // 8, "big")),
            "e": b64url_encode(rnumbers.e.to_bytes((rnumbers.e.bit_length() + 7) // 8, "big")),
        }
    else:
        raise TypeError("HMAC secrets have no public JWK")
    jwk["alg"] = alg.jose
    if kid is not None:
        jwk["kid"] = kid
    return jwk


def signing_key_from_jwk(jwk: Mapping[str, Any]) -> SigningKey:
    """A SigningKey from a private JWK (OKP or EC with ``d``) carrying ``alg``."""
    alg = resolve_jwk_algorithm(jwk)
    d = _member(jwk, "d")
    key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
    try:
        if alg.family == "okp":
            key = ed25519.Ed25519PrivateKey.from_private_bytes(d)
        elif alg.family == "ec":
            key = ec.derive_private_key(int.from_bytes(d, "big"), _EC_CURVES[alg.curve or ""])
        else:
            raise UnsupportedAlgorithm("private RSA JWKs are not supported; load a PEM instead")
    except ValueError as exc:
        raise InvalidKey(f"JWK does not describe a valid private key: {exc}") from None
    signing = SigningKey(key, alg)
    public = jwk_from_public_key(signing.public_key())
    if any(public[name] != jwk.get(name) for name in ("x", "y") if name in public):
        raise InvalidKey("private JWK public members do not match 'd'")
    return signing


def jwk_thumbprint(jwk: Mapping[str, Any], hash_name: str = "sha-256") -> str:
    """RFC 7638 thumbprint (base64url) over the required members only.

    ``alg`` and ``kid`` are not part of the input, so the same key always has the same
    thumbprint whatever metadata travels with it.
    """
    memo_key = _memo_key(jwk, hash_name)
    try:
        cached = _THUMBPRINTS.get(memo_key) if memo_key is not None else None
    except TypeError:
        memo_key = cached = None
    if cached is not None:
        return cached
    thumbprint = _compute_thumbprint(jwk, hash_name)
    if memo_key is not None:
        _THUMBPRINTS.put(memo_key, thumbprint)
    return thumbprint


def _compute_thumbprint(jwk: Mapping[str, Any], hash_name: str) -> str:
    kty = jwk.get("kty") if isinstance(jwk, Mapping) else None
    members = _REQUIRED.get(kty) if isinstance(kty, str) else None
    if members is None:
        raise InvalidKey(f"cannot compute a thumbprint for key type {kty!r}")
    canonical: dict[str, str] = {}
    for name in members:
        value = jwk.get(name)
        if not isinstance(value, str):
            raise InvalidKey(f"JWK member {name!r} is missing")
        canonical[name] = value
    text = json.dumps(canonical, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidKey("JWK members are not valid Unicode") from None
    if hash_name == "sha-256":
        digest = hashlib.sha256(data).digest()
    elif hash_name == "sha-512":
        digest = hashlib.sha512(data).digest()
    else:
        raise ValueError(f"unsupported thumbprint hash {hash_name!r}")
    return b64url_encode(digest)
