"""Signature algorithms, named both ways: JOSE (``Ed25519``) and RFC 9421 (``ed25519``).

AAuth takes the algorithm from the key's JWK ``alg`` (RFC 9421 §3.3.7), so keys here always
carry their algorithm: a key/algorithm mismatch is refused when the key is built, not when a
signature happens to fail.

Ed25519 signs and verifies through libsodium (PyNaCl), the cheapest operation every AAuth
request pays for; ``cryptography`` does everything else (ECDSA, RSA, key formats). Each key
is converted once, when it is built, into the form its library wants (libsodium: the raw
32-byte public key, the 64-byte seed‖public secret key). libsodium is strict where OpenSSL
may not be: a small-order or non-canonically encoded public key or ``R``, and an ``S`` not
below the group order, never verify (docs/signing.md, "Ed25519").
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.exceptions import UnsupportedAlgorithm as _CryptoUnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from nacl._sodium import ffi as _ffi
from nacl._sodium import lib as _sodium
from nacl.bindings import crypto_sign_seed_keypair

from .errors import InvalidKey, InvalidSignature, UnsupportedAlgorithm

__all__ = [
    "ALGORITHMS",
    "HTTP_SIGNATURE_ALGORITHMS",
    "Algorithm",
    "PrivateKey",
    "PublicKey",
    "SigningKey",
    "VerifyingKey",
]

PrivateKey: TypeAlias = (
    ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | bytes
)
PublicKey: TypeAlias = (
    ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey | bytes
)

_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


@dataclass(frozen=True)
class Algorithm:
    """One signature algorithm.

    ``family`` is ``okp``, ``ec``, ``rsa-pss``, ``rsa`` or ``hmac``; ``curve`` names the JWK
    ``crv`` for OKP/EC algorithms; ``http_name`` is the RFC 9421 registry name when one exists.
    """

    jose: str
    http_name: str | None
    family: str
    hash_name: str
    curve: str | None = None
    coordinate_size: int = 0

    @property
    def kty(self) -> str:
        return {"okp": "OKP", "ec": "EC", "rsa-pss": "RSA", "rsa": "RSA", "hmac": "oct"}[
            self.family
        ]

    @property
    def asymmetric(self) -> bool:
        return self.family != "hmac"


ALGORITHMS: dict[str, Algorithm] = {
    a.jose: a
    for a in (
        Algorithm("Ed25519", "ed25519", "okp", "sha512", "Ed25519"),
        Algorithm("ES256", "ecdsa-p256-sha256", "ec", "sha256", "P-256", 32),
        Algorithm("ES384", "ecdsa-p384-sha384", "ec", "sha384", "P-384", 48),
        Algorithm("PS256", None, "rsa-pss", "sha256"),
        Algorithm("PS384", None, "rsa-pss", "sha384"),
        Algorithm("PS512", "rsa-pss-sha512", "rsa-pss", "sha512"),
        Algorithm("RS256", "rsa-v1_5-sha256", "rsa", "sha256"),
        Algorithm("RS384", None, "rsa", "sha384"),
        Algorithm("RS512", None, "rsa", "sha512"),
        Algorithm("HS256", "hmac-sha256", "hmac", "sha256"),
    )
}
"""Every algorithm this library implements, by JOSE name."""

HTTP_SIGNATURE_ALGORITHMS: dict[str, Algorithm] = {
    a.http_name: a for a in ALGORITHMS.values() if a.http_name is not None
}
"""The RFC 9421 registry names, for the ``alg`` signature parameter."""

_CURVES: dict[str, type[ec.EllipticCurve]] = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1}
MIN_RSA_BITS = 2048


def lookup(name: str) -> Algorithm:
    """The algorithm for a JOSE or RFC 9421 name; UnsupportedAlgorithm when unknown."""
    alg = ALGORITHMS.get(name) or HTTP_SIGNATURE_ALGORITHMS.get(name)
    if alg is None:
        raise UnsupportedAlgorithm(f"algorithm {name!r} is not supported")
    return alg


def _check_key_matches(alg: Algorithm, key: PrivateKey | PublicKey) -> None:
    """InvalidKey unless ``key`` is of the type and curve ``alg`` requires."""
    if alg.family == "okp":
        ok = isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey)
    elif alg.family == "ec":
        ok = isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) and (
            isinstance(key.curve, _CURVES[alg.curve or ""])
        )
    elif alg.family in ("rsa", "rsa-pss"):
        ok = isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey)
        if ok and key.key_size < MIN_RSA_BITS:  # type: ignore[union-attr]
            raise InvalidKey(f"RSA keys must have at least {MIN_RSA_BITS} bits")
    else:
        ok = isinstance(key, bytes) and len(key) > 0
    if not ok:
        raise InvalidKey(f"key of type {type(key).__name__} cannot be used with {alg.jose}")


def _pss(alg: Algorithm) -> padding.PSS:
    digest = _HASHES[alg.hash_name]()
    return padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)


_ED25519_SIGNATURE_BYTES = 64
_UNCLEARED = _ffi.new_allocator(should_clear_after_alloc=False)


def _ed25519_verifier(public: bytes) -> Callable[[bytes, bytes], None]:
    """libsodium's verify for one raw 32-byte public key.

    ``crypto_sign_open`` is called through PyNaCl's own cffi handle rather than its Python
    wrapper: the wrapper allocates and zeroes buffers nobody reads and adds a call frame,
    about 2% of a verification. The output buffer is never read here, so it is not cleared.
    It takes signature and message as one buffer, so the length is
    checked first: a short signature must not borrow bytes of the message.
    """
    open_signed, null, new = _sodium.crypto_sign_open, _ffi.NULL, _UNCLEARED

    def verify_ed25519(signature: bytes, data: bytes) -> None:
        if len(signature) != _ED25519_SIGNATURE_BYTES:
            raise InvalidSignature("Ed25519 signatures are 64 bytes")
        signed = signature + data
        size = len(signed)
        if open_signed(new("unsigned char[]", size), null, signed, size, public) != 0:
            raise InvalidSignature("signature does not verify")

    return verify_ed25519


def _ed25519_signer(private: ed25519.Ed25519PrivateKey) -> Callable[[bytes], bytes]:
    """libsodium's sign with the secret key derived once from ``private``'s seed.

    ``crypto_sign`` writes signature and message into one buffer; only the signature is
    copied out of it (PyNaCl's wrapper would copy both, then slice).
    """
    secret = crypto_sign_seed_keypair(private.private_bytes_raw())[1]
    sign, null, new, view = _sodium.crypto_sign, _ffi.NULL, _UNCLEARED, _ffi.buffer

    def sign_ed25519(data: bytes) -> bytes:
        signed = new("unsigned char[]", len(data) + _ED25519_SIGNATURE_BYTES)
        if sign(signed, null, data, len(data), secret) != 0:  # pragma: no cover - cannot fail
            raise InvalidSignature("libsodium could not sign")
        signature: bytes = view(signed, _ED25519_SIGNATURE_BYTES)[:]
        return signature

    return sign_ed25519


def _make_verifier(alg: Algorithm, key: PublicKey) -> Callable[[bytes, bytes], None]:
    """The raw verify operation for ``key``, chosen once.

    It raises InvalidSignature, or cryptography's error (which :meth:`VerifyingKey.verify`
    translates).
    """
    if isinstance(key, ed25519.Ed25519PublicKey):
        return _ed25519_verifier(key.public_bytes_raw())
    if isinstance(key, ec.EllipticCurvePublicKey):
        size, ecdsa = alg.coordinate_size, ec.ECDSA(_HASHES[alg.hash_name]())

        def verify_ec(signature: bytes, data: bytes) -> None:
            if len(signature) != 2 * size:
                raise InvalidSignature(f"{alg.jose} signatures are {2 * size} bytes (r||s)")
            r = int.from_bytes(signature[:size], "big")
            s = int.from_bytes(signature[size:], "big")
            key.verify(encode_dss_signature(r, s), data, ecdsa)

        return verify_ec
    if isinstance(key, rsa.RSAPublicKey):
        pad: padding.AsymmetricPadding = (
            _pss(alg) if alg.family == "rsa-pss" else padding.PKCS1v15()
        )
        digest = _HASHES[alg.hash_name]()
        return lambda signature, data: key.verify(signature, data, pad, digest)
    secret, hash_name = key, alg.hash_name

    def verify_hmac(signature: bytes, data: bytes) -> None:
        expected = hmac.new(secret, data, getattr(hashlib, hash_name)).digest()
        if not hmac.compare_digest(expected, signature):
            raise InvalidSignature("HMAC does not match")

    return verify_hmac


class VerifyingKey:
    """A public key (or HMAC secret) bound to one algorithm."""

    __slots__ = ("_verify", "algorithm", "key")

    def __init__(self, key: PublicKey, algorithm: str | Algorithm) -> None:
        alg = algorithm if isinstance(algorithm, Algorithm) else lookup(algorithm)
        _check_key_matches(alg, key)
        self.key = key
        self.algorithm = alg
        self._verify = _make_verifier(alg, key)

    def verify(self, signature: bytes, data: bytes) -> None:
        """Raise InvalidSignature unless ``signature`` is valid for ``data``."""
        try:
            self._verify(signature, data)
        except _CryptoInvalidSignature:
            raise InvalidSignature("signature does not verify") from None

    def public_bytes_pem(self) -> bytes:
        if isinstance(self.key, bytes):
            raise TypeError("an HMAC secret has no public form")
        return self.key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def __repr__(self) -> str:
        return f"VerifyingKey({self.algorithm.jose})"


class SigningKey:
    """A private key (or HMAC secret) bound to one algorithm.

    >>> key = SigningKey.generate("Ed25519")
    >>> key.public_key().verify(key.sign(b"data"), b"data")
    """

    __slots__ = ("_public", "_sign", "algorithm", "key")

    def __init__(self, key: PrivateKey, algorithm: str | Algorithm) -> None:
        alg = algorithm if isinstance(algorithm, Algorithm) else lookup(algorithm)
        _check_key_matches(alg, key)
        self.key = key
        self.algorithm = alg
        self._public: VerifyingKey | None = None
        self._sign = self._make_signer()

    def _make_signer(self) -> Callable[[bytes], bytes]:
        alg, key = self.algorithm, self.key
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return _ed25519_signer(key)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            size, digest = alg.coordinate_size, _HASHES[alg.hash_name]

            def sign_ec(data: bytes) -> bytes:
                r, s = decode_dss_signature(key.sign(data, ec.ECDSA(digest())))
                return r.to_bytes(size, "big") + s.to_bytes(size, "big")

            return sign_ec
        if isinstance(key, rsa.RSAPrivateKey):
            pad: padding.AsymmetricPadding = (
                _pss(alg) if alg.family == "rsa-pss" else padding.PKCS1v15()
            )
            rsa_digest = _HASHES[alg.hash_name]
            return lambda data: key.sign(data, pad, rsa_digest())
        secret, hash_name = key, alg.hash_name
        return lambda data: hmac.new(secret, data, getattr(hashlib, hash_name)).digest()

    @classmethod
    def generate(cls, algorithm: str = "Ed25519") -> SigningKey:
        """A fresh key for ``algorithm`` (Ed25519, ES256, ES384, PS*, RS*)."""
        alg = lookup(algorithm)
        key: PrivateKey
        if alg.family == "okp":
            key = ed25519.Ed25519PrivateKey.generate()
        elif alg.family == "ec":
            key = ec.generate_private_key(_CURVES[alg.curve or ""]())
        elif alg.family in ("rsa", "rsa-pss"):
            key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
        else:
            key = secrets.token_bytes(32)
        return cls(key, alg)

    @classmethod
    def from_pem(cls, pem: bytes, algorithm: str, password: bytes | None = None) -> SigningKey:
        """Load a PEM private key (PKCS#8, or PKCS#1 for RSA) for ``algorithm``."""
        try:
            key = serialization.load_pem_private_key(pem, password=password)
        except (ValueError, TypeError, _CryptoUnsupportedAlgorithm) as exc:
            raise InvalidKey(f"cannot load private key: {exc}") from None
        if not isinstance(
            key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
        ):
            raise InvalidKey(f"unsupported private key type {type(key).__name__}")
        return cls(key, algorithm)

    def sign(self, data: bytes) -> bytes:
        """The raw signature over ``data`` (ECDSA as r||s, never DER)."""
        return self._sign(data)

    def public_key(self) -> VerifyingKey:
        if self._public is None:
            key = self.key
            public: PublicKey = key if isinstance(key, bytes) else key.public_key()
            self._public = VerifyingKey(public, self.algorithm)
        return self._public

    def private_bytes_pem(self) -> bytes:
        """PKCS#8 PEM, unencrypted; keep it out of logs."""
        if isinstance(self.key, bytes):
            raise TypeError("an HMAC secret has no PEM form")
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def __repr__(self) -> str:
        return f"SigningKey({self.algorithm.jose})"
