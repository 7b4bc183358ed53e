"""Keys for AAuth participants: generate, load, convert, and rotate an issuer's signing keys.

Conversions and thumbprints are :mod:`aauth_signing`'s, re-exported here so the protocol layer
has one place to import them from. What this module adds is private-key export (for
persistence) and :class:`KeySet`, an issuer's signing keys with rotation.

Key ids default to the key's RFC 7638 SHA-256 thumbprint: unique without coordination,
derivable from the public key alone, and stable across restarts, so a verifier's cached JWKS
never maps one ``kid`` to two keys.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aauth_signing import (
    InvalidKey,
    SignatureError,
    SigningKey,
    UnknownKey,
    VerifyingKey,
    b64url_encode,
    jwk_from_public_key,
    jwk_thumbprint,
    public_key_from_jwk,
    signing_key_from_jwk,
)
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

__all__ = [
    "GENERATED_ALGORITHMS",
    "KeySet",
    "default_kid",
    "generate_key",
    "jwk_from_public_key",
    "jwk_thumbprint",
    "load_private_pem",
    "load_public_pem",
    "private_jwk",
    "public_key_from_jwk",
    "signing_key_from_jwk",
    "thumbprint",
    "write_secret",
]

GENERATED_ALGORITHMS = ("Ed25519", "ES256", "ES384")
"""What :func:`generate_key` makes: ``Ed25519`` (MUST, protocol-10 §C.4) and the EC curves."""

_EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384"}


def generate_key(algorithm: str = "Ed25519") -> SigningKey:
    """A fresh signing key: ``Ed25519`` by default, or ``ES256``/``ES384``."""
    if algorithm not in GENERATED_ALGORITHMS:
        raise ValueError(f"cannot generate {algorithm!r}; choose one of {GENERATED_ALGORITHMS}")
    return SigningKey.generate(algorithm)


def _algorithm_for(key: object, algorithm: str | None) -> str:
    """The JOSE alg for a loaded key: given explicitly, or implied by an Ed25519/EC key."""
    if algorithm is not None:
        return algorithm
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "Ed25519"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        implied = _EC_ALGORITHMS.get(key.curve.name)
        if implied is not None:
            return implied
    raise InvalidKey(f"cannot infer an algorithm for a {type(key).__name__}; pass algorithm=")


def load_private_pem(
    pem: bytes, algorithm: str | None = None, *, password: bytes | None = None
) -> SigningKey:
    """A SigningKey from PKCS#8 (or PKCS#1 RSA) PEM; ``algorithm`` is implied except for RSA."""
    try:
        key = serialization.load_pem_private_key(pem, password=password)
    except (ValueError, TypeError) as exc:
        raise InvalidKey(f"cannot load private key: {exc}") from None
    if not isinstance(
        key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    ):
        raise InvalidKey(f"unsupported private key type {type(key).__name__}")
    return SigningKey(key, _algorithm_for(key, algorithm))


def load_public_pem(pem: bytes, algorithm: str | None = None) -> VerifyingKey:
    """A VerifyingKey from SubjectPublicKeyInfo PEM; ``algorithm`` is implied except for RSA."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise InvalidKey(f"cannot load public key: {exc}") from None
    if not isinstance(key, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise InvalidKey(f"unsupported public key type {type(key).__name__}")
    return VerifyingKey(key, _algorithm_for(key, algorithm))


def private_jwk(key: SigningKey, *, kid: str | None = None) -> dict[str, str]:
    """The private JWK (public members plus ``d``) of an Ed25519 or EC key; keep it secret."""
    jwk = jwk_from_public_key(key.public_key(), kid=kid)
    private = key.key
    if isinstance(private, ed25519.Ed25519PrivateKey):
        jwk["d"] = b64url_encode(private.private_bytes_raw())
    elif isinstance(private, ec.EllipticCurvePrivateKey):
        size = key.algorithm.coordinate_size
        jwk["d"] = b64url_encode(private.private_numbers().private_value.to_bytes(size, "big"))
    else:
        raise InvalidKey(f"{key.algorithm.jose} keys have no private JWK form here; use PEM")
    return jwk


def thumbprint(key: SigningKey | VerifyingKey | Mapping[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint (base64url) of a key or JWK: ``agent_jkt``'s value."""
    if isinstance(key, SigningKey):
        key = key.public_key()
    if isinstance(key, VerifyingKey):
        key = jwk_from_public_key(key)
    return jwk_thumbprint(key)


def default_kid(key: SigningKey | VerifyingKey) -> str:
    """The ``kid`` a key gets when none is chosen: its thumbprint (see the module docstring)."""
    return thumbprint(key)


def write_secret(path: str | os.PathLike[str], text: str, *, overwrite: bool = True) -> None:
    """Write ``text`` readable by the owner only (0600): atomically replacing any old file,
    or, with ``overwrite=False``, only if nothing is there (FileExistsError otherwise)."""
    target = Path(path)
    if not overwrite:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        return
    try:
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    except FileNotFoundError as exc:  # name the file asked for, not the temporary one
        raise FileNotFoundError(exc.errno, exc.strerror, os.fspath(path)) from None
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class KeySet:
    """An issuer's signing keys by ``kid``: one current key signs, all are published.

    Rotation without breaking verifiers: :meth:`rotate` adds a key and makes it current, the
    previous keys stay in :meth:`jwks` (tokens they signed still verify) until :meth:`remove`
    drops them once those tokens have expired. Not thread-safe for concurrent mutation;
    reads (:attr:`current`, :meth:`select`, :meth:`jwks`) are.

    >>> keys = KeySet.generate()
    >>> old = keys.current_kid
    >>> new = keys.rotate()
    >>> sorted(k["kid"] for k in keys.jwks()["keys"]) == sorted([old, new])
    True
    """

    def __init__(self, keys: Mapping[str, SigningKey], current_kid: str) -> None:
        if current_kid not in keys:
            raise UnknownKey(f"current kid {current_kid!r} is not in the key set")
        for kid, key in keys.items():
            if not isinstance(kid, str) or not kid:
                raise InvalidKey("every key needs a non-empty string kid")
            if not key.algorithm.asymmetric:
                raise InvalidKey("a key set holds asymmetric keys only")
        self._keys = dict(keys)
        self._current = current_kid

    @classmethod
    def generate(cls, algorithm: str = "Ed25519", *, kid: str | None = None) -> KeySet:
        """A key set with one fresh key, current."""
        key = generate_key(algorithm)
        kid = kid or default_kid(key)
        return cls({kid: key}, kid)

    @property
    def current(self) -> SigningKey:
        return self._keys[self._current]

    @property
    def current_kid(self) -> str:
        return self._current

    @property
    def kids(self) -> tuple[str, ...]:
        """Published key ids, oldest first."""
        return tuple(self._keys)

    def select(self, kid: str) -> SigningKey:
        """The key ``kid`` (current or retired); UnknownKey when it is not published."""
        key = self._keys.get(kid)
        if key is None:
            raise UnknownKey(f"no key with kid {kid!r} in the key set")
        return key

    def add(self, key: SigningKey, *, kid: str | None = None, make_current: bool = False) -> str:
        """Publish ``key`` (so verifiers can fetch it before it signs anything); its kid."""
        kid = kid or default_kid(key)
        if kid in self._keys:
            raise InvalidKey(f"kid {kid!r} is already in the key set")
        if not key.algorithm.asymmetric:
            raise InvalidKey("a key set holds asymmetric keys only")
        self._keys[kid] = key
        if make_current:
            self._current = kid
        return kid

    def make_current(self, kid: str) -> None:
        """Sign with ``kid`` from now on; the previous key stays published."""
        self.select(kid)
        self._current = kid

    def rotate(self, algorithm: str = "Ed25519", *, kid: str | None = None) -> str:
        """Generate a key, make it current, keep the old ones published; the new kid."""
        return self.add(generate_key(algorithm), kid=kid, make_current=True)

    def remove(self, kid: str) -> None:
        """Stop publishing a retired key; tokens it signed stop verifying once caches refresh."""
        self.select(kid)
        if kid == self._current:
            raise InvalidKey("the current key cannot be removed; rotate first")
        del self._keys[kid]

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public JWKS document: every published key with ``kid`` and ``alg`` (AP-07)."""
        return {
            "keys": [
                jwk_from_public_key(key.public_key(), kid=kid) for kid, key in self._keys.items()
            ]
        }

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the private keys as JSON, atomically, readable by the owner only (0600)."""
        document = {
            "current": self._current,
            "keys": [private_jwk(key, kid=kid) for kid, key in self._keys.items()],
        }
        write_secret(path, json.dumps(document, indent=2))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> KeySet:
        """Read a key set written by :meth:`save`; InvalidKey when the file is malformed."""
        try:
            document = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidKey(f"cannot read key set {os.fspath(path)!r}: {exc}") from None
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise InvalidKey("key set file is not {'current': kid, 'keys': [private JWKs]}")
        keys: dict[str, SigningKey] = {}
        for jwk in document["keys"]:
            if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
                raise InvalidKey("every key in a key set file needs a string 'kid'")
            if jwk["kid"] in keys:
                raise InvalidKey(f"kid {jwk['kid']!r} appears twice in the key set file")
            keys[jwk["kid"]] = signing_key_from_jwk(jwk)
        current = document.get("current")
        if not isinstance(current, str):
            raise InvalidKey("key set file has no string 'current'")
        return cls(keys, current)

    @classmethod
    def load_or_generate(cls, path: str | os.PathLike[str] | None) -> KeySet:
        """A server's signing keys: read from ``path``, or generated and saved there (0600) so
        that a restart keeps the ``kid`` verifiers have cached. No path: fresh keys for this
        process. ``ValueError`` when the file exists but is not a key set."""
        if path is None:
            return cls.generate()
        if Path(path).exists():
            try:
                return cls.load(path)
            except SignatureError as exc:
                raise ValueError(exc.description) from None
        keys = cls.generate()
        keys.save(path)
        return keys
