"""The little JWS (RFC 7515 compact form) the signature layer needs on its own.

``jkt-jwt`` carries its verification key in the JWT header, so it can be checked without any
I/O or JOSE dependency. Richer token handling (typed claims, issuer trust) lives in ``aauth``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .algorithms import VerifyingKey
from .errors import InvalidJWT, InvalidSignature
from .jwk import b64url_decode

__all__ = ["CompactJWS", "decode_compact"]

MAX_TOKEN_LENGTH = 12 * 1024


@dataclass(frozen=True)
class CompactJWS:
    """A parsed but not yet verified compact JWS."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes

    def verify(self, key: VerifyingKey) -> None:
        """Raise InvalidJWT unless the JWS verifies with ``key`` under the header ``alg``.

        The header ``alg`` must equal the key's own algorithm: the algorithm is pinned by the
        key, never chosen by the token.
        """
        if self.header.get("alg") != key.algorithm.jose:
            raise InvalidJWT(
                f"JWT alg {self.header.get('alg')!r} does not match key alg {key.algorithm.jose}"
            )
        try:
            key.verify(self.signature, self.signing_input)
        except InvalidSignature:
            raise InvalidJWT("JWT signature does not verify") from None


def _json_part(part: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(b64url_decode(part))
    except (ValueError, RecursionError):  # RecursionError: hostile deeply nested JSON
        raise InvalidJWT(f"JWT {what} is not base64url JSON") from None
    if not isinstance(value, dict):
        raise InvalidJWT(f"JWT {what} is not a JSON object")
    return value


def decode_compact(token: str) -> CompactJWS:
    """Split and decode a compact JWS; raises InvalidJWT when it is malformed."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidJWT("JWT is not a string of acceptable length")
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidJWT("JWT must have three dot-separated parts")
    header = _json_part(parts[0], "header")
    payload = _json_part(parts[1], "payload")
    try:
        signature = b64url_decode(parts[2])
    except ValueError:
        raise InvalidJWT("JWT signature is not base64url") from None
    return CompactJWS(header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), signature)
