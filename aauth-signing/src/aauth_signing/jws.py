"""The little JWS (RFC 7515 compact form) the signature layer needs on its own.

``jkt-jwt`` carries its verification key in the JWT header, so it can be checked without any
I/O or JOSE dependency. Richer token handling (typed claims, issuer trust) lives in ``aauth``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .algorithms import VerifyingKey
from .errors import InvalidJWT, InvalidSignature
from .jwk import b64url_decode

__all__ = ["STRICT_JSON", "CompactJWS", "decode_compact", "decode_segment"]

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


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)  # built in C; a duplicate shows as a shorter dict
    if len(obj) != len(pairs):
        names = [name for name, _ in pairs]
        duplicate = next(name for name in names if names.count(name) > 1)
        raise ValueError(f"duplicate member {duplicate!r}")
    return obj


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


STRICT_JSON = json.JSONDecoder(
    object_pairs_hook=_unique_object, parse_float=_finite_float, parse_constant=_reject_constant
)
"""A JSON decoder that raises ValueError on duplicate member names, ``NaN``/``Infinity`` and
numbers that overflow to infinity; one definition for JWS segments and (in ``aauth``) bodies."""


# the C scanner JSONDecoder.__init__ builds (typeshed does not declare the attribute)
_scan_value: Callable[[str, int], tuple[Any, int]] = STRICT_JSON.scan_once  # type: ignore[attr-defined]


def _strict_json(text: str) -> Any:
    """``STRICT_JSON.decode(text)``, calling the C scanner directly for the usual compact text
    (no whitespace around the value), which skips decode()'s two regex passes. Anything else
    takes the full decoder, so what is accepted and every error are the same."""
    try:
        value, end = _scan_value(text, 0)
    except StopIteration:  # leading whitespace, or no value at all
        return STRICT_JSON.decode(text)
    return value if end == len(text) else STRICT_JSON.decode(text)


def decode_segment(segment: str, what: str) -> dict[str, Any]:
    """A JWS header or payload segment as a JSON object, strictly: canonical base64url,
    UTF-8, no duplicate members (two parsers must never see two different claims), no
    NaN/Infinity, no lone surrogate escape (``"\\ud800"``, which no UTF-8 encoder can write
    back, so a claim stored or logged from it would poison the reader). Raises InvalidJWT
    naming ``what``."""
    try:
        text = b64url_decode(segment).decode("utf-8")
        value = _strict_json(text)
        if "\\" in text:  # only an escape can spell a surrogate (valid UTF-8 has none)
            json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidJWT(f"JWT {what} has a lone surrogate escape") from None
    except (ValueError, RecursionError) as exc:  # RecursionError: hostile deep nesting
        raise InvalidJWT(f"JWT {what} is not strict base64url JSON: {exc}") from None
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
    header = decode_segment(parts[0], "header")
    payload = decode_segment(parts[1], "payload")
    try:
        signature = b64url_decode(parts[2])
    except ValueError:
        raise InvalidJWT("JWT signature is not base64url") from None
    return CompactJWS(header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), signature)
