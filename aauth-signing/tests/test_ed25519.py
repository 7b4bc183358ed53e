"""Ed25519 through libsodium: RFC 8032's vectors, and the encodings libsodium refuses.

Each edge case is a signature that satisfies the cofactorless verification equation
[S]B = R + [h]A once its points are decoded leniently (y taken mod p) — a verifier that checks
only the equation accepts it. The OpenSSL path that ``cryptography`` uses accepts the
small-order and non-canonical-``A`` cases; libsodium, and therefore aauth-signing, refuses every
one (docs/signing.md, "Ed25519: what libsodium refuses"). The points are built here with a
few lines of textbook curve arithmetic (RFC 8032 §5.1), independent of either library.
"""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any

import pytest
from aauth_signing import (
    HttpRequest,
    Hwk,
    InvalidSignature,
    SigningKey,
    VerificationPolicy,
    VerifyingKey,
    b64url_encode,
    sign_request,
    verify_request,
)
from aauth_signing._rfc9421.base import signature_base
from aauth_signing._rfc9421.fields import parse_signature_input
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

# -- edwards25519, just enough to build the cases (RFC 8032 §5.1) ------------------------------

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
Point = tuple[int, int, int, int]  # extended coordinates (X, Y, Z, T)
IDENTITY: Point = (0, 1, 1, 0)


def _x(y: int, sign: int) -> int | None:
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P:
        return None
    return P - x if (x & 1) != sign else x


def _point(y: int, sign: int = 0) -> Point:
    x = _x(y % P, sign)
    assert x is not None
    return (x, y % P, 1, x * y % P)


def _add(p: Point, q: Point) -> Point:
    a, b = (p[1] - p[0]) * (q[1] - q[0]) % P, (p[1] + p[0]) * (q[1] + q[0]) % P
    c, d = 2 * p[3] * q[3] * D % P, 2 * p[2] * q[2] % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _mul(scalar: int, p: Point) -> Point:
    result = IDENTITY
    while scalar:
        if scalar & 1:
            result = _add(result, p)
        p, scalar = _add(p, p), scalar >> 1
    return result


def _encode(p: Point) -> bytes:
    inverse = pow(p[2], P - 2, P)
    x, y = p[0] * inverse % P, p[1] * inverse % P
    return (y | (x & 1) << 255).to_bytes(32, "little")


def _decode_leniently(data: bytes) -> Point | None:
    """A point from its encoding, reducing y mod p as a non-strict verifier would."""
    n = int.from_bytes(data, "little")
    y, sign = (n & ((1 << 255) - 1)) % P, n >> 255
    x = _x(y, sign)
    return None if x is None else (x, y, 1, x * y % P)


def _equal(p: Point, q: Point) -> bool:
    return (p[0] * q[2] - q[0] * p[2]) % P == 0 and (p[1] * q[2] - q[1] * p[2]) % P == 0


B = _point(4 * pow(5, P - 2, P))


def _h(r: bytes, a: bytes, message: bytes) -> int:
    return int.from_bytes(hashlib.sha512(r + a + message).digest(), "little") % L


def _equation_holds(public: bytes, message: bytes, signature: bytes) -> bool:
    """Cofactorless verification with no encoding or order checks at all."""
    r, s = signature[:32], int.from_bytes(signature[32:], "little")
    a_point, r_point = _decode_leniently(public), _decode_leniently(r)
    if a_point is None or r_point is None:
        return False
    return _equal(_mul(s, B), _add(r_point, _mul(_h(r, public, message), a_point)))


def _le(n: int) -> bytes:
    return n.to_bytes(32, "little")


# -- the cases ---------------------------------------------------------------------------------

SECRET = 0x0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDE % L
NONCE = 0x0FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210FEDCBA98765432 % L
PUBLIC = _encode(_mul(SECRET, B))
R_POINT = _encode(_mul(NONCE, B))
MESSAGE = b"aauth"
ENCODED_IDENTITY = _le(1)
NON_CANONICAL_IDENTITY = _le(P + 1)  # y = p + 1, which is 1 once reduced: the identity again
ORDER_2 = _encode(_point(P - 1))
ORDER_4 = _encode(_point(0))
ORDER_8 = _encode(_mul(L, _point(3)))  # the torsion part of a point: here of order 8


def _message_with_h_multiple_of(public: bytes, order: int) -> bytes:
    """A message whose h kills a small-order ``public`` (so [h]A is the identity)."""
    return next(m for i in range(4096) if _h(R_POINT, public, m := b"message %d" % i) % order == 0)


def _small_order_key(public: bytes, order: int) -> tuple[bytes, bytes, bytes]:
    """(A, M, R‖S) with S = r: valid for *every* such M, the key signs nothing in particular."""
    message = _message_with_h_multiple_of(public, order)
    return public, message, R_POINT + _le(NONCE)


def _with_r(r: bytes) -> tuple[bytes, bytes, bytes]:
    """(A, M, R‖S) for a chosen R equal to the identity: S = h·a satisfies the equation."""
    return PUBLIC, MESSAGE, r + _le(_h(r, PUBLIC, MESSAGE) * SECRET % L)


def _s(signature: bytes) -> int:
    return int.from_bytes(signature[32:], "little")


def _good() -> bytes:
    return R_POINT + _le((NONCE + _h(R_POINT, PUBLIC, MESSAGE) * SECRET) % L)


EDGE_CASES: dict[str, tuple[bytes, bytes, bytes]] = {
    "small-order A: identity": _small_order_key(ENCODED_IDENTITY, 1),
    "small-order A: order 2": _small_order_key(ORDER_2, 2),
    "small-order A: order 4": _small_order_key(ORDER_4, 4),
    "small-order A: order 8": _small_order_key(ORDER_8, 8),
    "small-order R: identity": _with_r(ENCODED_IDENTITY),
    "non-canonical S: S + L": (PUBLIC, MESSAGE, _good()[:32] + _le(_s(_good()) + L)),
    "non-canonical R: y = p + 1": _with_r(NON_CANONICAL_IDENTITY),
    "non-canonical A: y = p + 1": _small_order_key(NON_CANONICAL_IDENTITY, 1),
}


def _verifying_key(public: bytes) -> VerifyingKey:
    return VerifyingKey(Ed25519PublicKey.from_public_bytes(public), "Ed25519")


# -- RFC 8032 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("index", [0, 1, 2], ids=["TEST 1", "TEST 2", "TEST 3"])
def test_rfc8032_vector_signs_and_verifies(rfc8032: list[dict[str, Any]], index: int) -> None:
    case = rfc8032[index]
    private = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(case["secret_key"]))
    key = SigningKey(private, "Ed25519")
    message, signature = bytes.fromhex(case["message"]), bytes.fromhex(case["signature"])
    public = private.public_key().public_bytes_raw()
    assert public.hex() == case["public_key"]
    assert key.sign(message) == signature  # Ed25519 is deterministic: byte for byte
    _verifying_key(bytes.fromhex(case["public_key"])).verify(signature, message)


@pytest.mark.parametrize("index", [0, 1, 2], ids=["TEST 1", "TEST 2", "TEST 3"])
def test_rfc8032_vector_fails_once_changed(rfc8032: list[dict[str, Any]], index: int) -> None:
    case = rfc8032[index]
    public = _verifying_key(bytes.fromhex(case["public_key"]))
    message, signature = bytes.fromhex(case["message"]), bytes.fromhex(case["signature"])
    for position in (0, 31, 32, 63):
        altered = bytearray(signature)
        altered[position] ^= 0x01
        with pytest.raises(InvalidSignature):
            public.verify(bytes(altered), message)
    with pytest.raises(InvalidSignature):
        public.verify(signature, message + b"\x00")


# -- what libsodium refuses ----------------------------------------------------------------------


def test_the_construction_is_sound() -> None:
    """The helper's honest signature verifies everywhere, so the cases below are meaningful."""
    assert _equation_holds(PUBLIC, MESSAGE, _good())
    order_8 = _decode_leniently(ORDER_8)
    assert order_8 is not None
    assert _equal(_mul(8, order_8), IDENTITY)
    assert not _equal(_mul(4, order_8), IDENTITY)
    _verifying_key(PUBLIC).verify(_good(), MESSAGE)


@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_edge_case_satisfies_the_equation_but_is_refused(name: str) -> None:
    public, message, signature = EDGE_CASES[name]
    assert _equation_holds(public, message, signature)
    with pytest.raises(InvalidSignature):
        _verifying_key(public).verify(signature, message)


def test_small_order_key_signs_every_message_for_a_lenient_verifier() -> None:
    """Why small-order keys are refused: with A the identity, one signature fits any message."""
    public, _, signature = EDGE_CASES["small-order A: identity"]
    for message in (b"pay alice", b"pay mallory"):
        assert _equation_holds(public, message, signature)
        with pytest.raises(InvalidSignature):
            _verifying_key(public).verify(signature, message)


@pytest.mark.parametrize("length", [0, 63, 65])
def test_signature_of_the_wrong_length_is_refused(length: int) -> None:
    """libsodium reads signature and message as one buffer: a 63-byte signature must not
    borrow the message's first byte (here that would make a valid signature of MESSAGE)."""
    signature = _good()
    data = signature[length:] + MESSAGE if length < 64 else MESSAGE
    with pytest.raises(InvalidSignature, match="64 bytes"):
        _verifying_key(PUBLIC).verify((signature + b"\x00")[:length], data)


def test_small_order_hwk_key_is_refused_end_to_end() -> None:
    """An ``hwk`` request whose key is the identity point, with a signature that satisfies the
    equation over its real signature base, gets ``invalid_signature``."""
    signer = SigningKey.generate("Ed25519")
    x = b64url_encode(ENCODED_IDENTITY)
    hwk = Hwk({"kty": "OKP", "crv": "Ed25519", "x": x, "alg": "Ed25519"})
    url = "https://api.example/data"
    created = int(time.time())
    template = sign_request(HttpRequest("GET", url), signer, hwk, created=created)
    request = HttpRequest("GET", url, template)
    ((params, serialized),) = parse_signature_input(template["Signature-Input"]).values()
    base = signature_base(request, params, serialized)
    assert _equation_holds(ENCODED_IDENTITY, base, R_POINT + _le(NONCE))
    forged_value = base64.b64encode(R_POINT + _le(NONCE)).decode("ascii")
    forged = {**template, "Signature": f"sig=:{forged_value}:"}
    with pytest.raises(InvalidSignature) as caught:
        verify_request(HttpRequest("GET", url, forged), VerificationPolicy.generic())
    assert caught.value.code == "invalid_signature"
