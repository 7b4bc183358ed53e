"""What an attacker does to a captured request, as plain functions the security tests share.

Nothing here is protocol logic: these helpers only rewrite bytes the way an attack run did.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from aauth_signing import HttpRequest, SigningKey, b64url_encode, parse_signature

__all__ = ["CURVE_ORDERS", "edit", "flip_s", "forge_jwt", "malleate", "malleated"]

CURVE_ORDERS = {
    "ES256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "ES384": int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
        "C7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
        16,
    ),
}
"""The group order n of P-256 and P-384: ``(r, n - s)`` verifies wherever ``(r, s)`` does."""


def flip_s(signature: bytes, algorithm: str) -> bytes:
    """The other valid encoding of an ECDSA ``r || s`` signature: ``r || (n - s)``."""
    order = CURVE_ORDERS[algorithm]
    size = len(signature) // 2
    r, s = signature[:size], int.from_bytes(signature[size:], "big")
    return r + (order - s).to_bytes(size, "big")


def malleate(headers: Mapping[str, str], algorithm: str) -> dict[str, str]:
    """``headers`` with every signature in ``Signature`` rewritten to ``(r, n - s)``."""
    rewritten = dict(headers)
    name = next(n for n in headers if n.lower() == "signature")
    members = parse_signature(headers[name])
    rewritten[name] = ", ".join(
        f"{label}=:{base64.b64encode(flip_s(value, algorithm)).decode()}:"
        for label, value in members.items()
    )
    return rewritten


def malleated(request: HttpRequest, algorithm: str = "ES256") -> HttpRequest:
    """A captured request as the attacker resends it: same bytes, signature (r, n - s)."""
    headers = malleate(dict(request.headers.items()), algorithm)
    return HttpRequest(request.method, request.target_uri, headers, request.body)


def edit(request: HttpRequest, **fields: str | None) -> HttpRequest:
    """``request`` with header fields set (``signature_input=…``, an attacker may add or
    reformat fields) or removed (None)."""
    changes = {name.replace("_", "-"): value for name, value in fields.items()}
    kept = [(n, v) for n, v in request.headers.items() if n.lower() not in changes]
    kept += [(n, v) for n, v in changes.items() if v is not None]
    return HttpRequest(request.method, request.target_uri, kept, request.body)


def _segment(part: Mapping[str, Any] | bytes) -> str:
    raw = part if isinstance(part, bytes) else json.dumps(part).encode()
    return b64url_encode(raw)


def forge_jwt(
    key: SigningKey | None,
    header: Mapping[str, Any] | bytes,
    claims: Mapping[str, Any] | bytes,
    *,
    signature: bytes | None = None,
) -> str:
    """A compact JWS of exactly these header and claims (objects, or raw bytes for malformed
    JSON), signed by ``key`` (or carrying ``signature`` as given, or none)."""
    signing_input = f"{_segment(header)}.{_segment(claims)}"
    if signature is None and key is not None:
        signature = key.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature or b'')}"
