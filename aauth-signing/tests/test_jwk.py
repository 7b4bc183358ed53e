"""JWK ↔ key conversion under signature-key-08's algorithm rules, RFC 7638 thumbprints, and
the compact JWS reader, against the RFC 7638 / RFC 8037 vectors in ``vectors/jwk.json``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aauth_signing import (
    InvalidJWT,
    InvalidKey,
    SignatureError,
    SigningKey,
    UnsupportedAlgorithm,
    VerifyingKey,
    b64url_decode,
    b64url_encode,
    decode_compact,
    jwk_from_public_key,
    jwk_thumbprint,
    public_key_from_jwk,
    signing_key_from_jwk,
)
from cryptography.hazmat.primitives.asymmetric import ec, rsa


@pytest.fixture(scope="module")
def jwk_vectors() -> dict[str, Any]:
    from pathlib import Path

    path = Path(__file__).parent / "vectors" / "jwk.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _case(vectors: dict[str, Any], case_id: str) -> dict[str, Any]:
    case: dict[str, Any] = next(c for c in vectors["cases"] if c["id"] == case_id)
    return case


ED25519_CASE = "rfc8037-a.1-a.3-ed25519-key-and-thumbprint"


def test_rfc7638_rsa_thumbprint(jwk_vectors: dict[str, Any]) -> None:
    case = _case(jwk_vectors, "rfc7638-3.1-rsa-thumbprint")
    assert jwk_thumbprint(case["jwk"]) == case["thumbprint"]
    assert b64url_decode(case["thumbprint"]) == bytes(case["sha256_octets"])
    key = public_key_from_jwk(case["jwk"])
    assert key.algorithm.jose == "RS256"
    assert jwk_from_public_key(key, kid="2011-04-29") == case["jwk"]


def test_rfc8037_ed25519_thumbprint(jwk_vectors: dict[str, Any]) -> None:
    case = _case(jwk_vectors, ED25519_CASE)
    assert jwk_thumbprint(case["public_jwk"]) == case["thumbprint"]
    assert b64url_decode(case["thumbprint"]).hex() == case["sha256_octets_hex"]
    # alg and kid are not thumbprint input: the same key always has the same thumbprint.
    decorated = {**case["public_jwk"], "alg": "Ed25519", "kid": "k1"}
    assert jwk_thumbprint(decorated) == case["thumbprint"]
    assert jwk_thumbprint(decorated, "sha-512") != case["thumbprint"]


def test_derived_thumbprints_of_the_rfc9421_keys(
    jwk_vectors: dict[str, Any], rfc9421: dict[str, Any]
) -> None:
    for key_id, derived in jwk_vectors["derived_not_published"]["keys"].items():
        jwk = {
            k: v
            for k, v in rfc9421["keys"][key_id]["jwk"].items()
            if k in ("kty", "crv", "x", "y", "n", "e")
        }
        assert jwk_thumbprint(jwk) == derived["sha256_thumbprint"], key_id
    # The AAuth profile example (SIGNATURE-KEY.md §7.2) keys on this value.
    ed25519 = {"kty": "OKP", "crv": "Ed25519", "x": "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs"}
    assert jwk_thumbprint(ed25519) == "poqkLGiymh_W0uP6PZFw-dvez3QJT5SolqXBCW38r0U"


def test_rfc8037_jws_is_reproduced_by_the_private_jwk(jwk_vectors: dict[str, Any]) -> None:
    key_case = _case(jwk_vectors, ED25519_CASE)
    jws_case = _case(jwk_vectors, "rfc8037-a.4-a.5-ed25519-jws")
    signing = signing_key_from_jwk({**key_case["private_jwk"], "alg": "Ed25519"})
    signature = signing.sign(jws_case["signing_input"].encode("ascii"))
    assert b64url_encode(signature) == jws_case["signature_b64url"]
    header, payload, _ = jws_case["jws_compact"].split(".")
    assert f"{header}.{payload}" == jws_case["signing_input"]
    public = public_key_from_jwk({**key_case["public_jwk"], "alg": "Ed25519"})
    public.verify(b64url_decode(jws_case["signature_b64url"]), f"{header}.{payload}".encode())
    # A JWT whose header names the polymorphic EdDSA is refused by a key pinned to Ed25519,
    # although the signature bytes themselves are valid.
    claims = b64url_encode(b'{"sub":"x"}')
    token = f"{header}.{claims}"
    jws = decode_compact(f"{token}.{b64url_encode(signing.sign(token.encode()))}")
    assert jws.header == {"alg": "EdDSA"}
    public.verify(jws.signature, jws.signing_input)
    with pytest.raises(InvalidJWT):
        jws.verify(public)
    good = b64url_encode(b'{"alg":"Ed25519"}') + "." + claims
    decode_compact(f"{good}.{b64url_encode(signing.sign(good.encode()))}").verify(public)


def test_decode_compact_payload_must_be_an_object(jwk_vectors: dict[str, Any]) -> None:
    jws_case = _case(jwk_vectors, "rfc8037-a.4-a.5-ed25519-jws")
    with pytest.raises(InvalidJWT):
        decode_compact(jws_case["jws_compact"])  # payload is text, not a JSON object


ED_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
OKP = {"kty": "OKP", "crv": "Ed25519", "x": ED_X, "alg": "Ed25519"}


@pytest.mark.parametrize(
    ("jwk", "error"),
    [
        ({"kty": "OKP", "crv": "Ed25519", "x": ED_X}, UnsupportedAlgorithm),  # no alg
        ({**OKP, "alg": "EdDSA"}, UnsupportedAlgorithm),  # polymorphic
        ({**OKP, "alg": "none"}, UnsupportedAlgorithm),
        ({**OKP, "alg": "HS256"}, UnsupportedAlgorithm),
        ({**OKP, "alg": "ES512"}, UnsupportedAlgorithm),  # not implemented
        ({"kty": "oct", "k": "c2VjcmV0", "alg": "HS256"}, UnsupportedAlgorithm),
        ({"kty": "AKP", "alg": "ML-DSA-44", "pub": "AA"}, UnsupportedAlgorithm),
        ({**OKP, "alg": "ES256"}, InvalidKey),  # kty disagrees with alg
        ({**OKP, "crv": "Ed448"}, InvalidKey),  # crv disagrees with alg
        ({**OKP, "x": ED_X + "="}, InvalidKey),  # padded base64url
        ({**OKP, "x": ED_X[:-2]}, InvalidKey),  # wrong length
        ({**OKP, "x": ED_X.replace("_", "/")}, InvalidKey),  # not base64url
        ({**OKP, "x": 7}, InvalidKey),
        ({**OKP, "d": ED_X}, InvalidKey),  # a private key where a public one belongs
        ({**OKP, "alg": 1}, InvalidKey),
        ({"crv": "Ed25519", "x": ED_X, "alg": "Ed25519"}, InvalidKey),  # no kty
    ],
)
def test_jwk_algorithm_rules(jwk: dict[str, Any], error: type[SignatureError]) -> None:
    with pytest.raises(error):
        public_key_from_jwk(jwk)


def test_legacy_keys_are_opt_in() -> None:
    legacy = {"kty": "OKP", "crv": "Ed25519", "x": ED_X}
    assert public_key_from_jwk(legacy, allow_legacy=True).algorithm.jose == "Ed25519"
    assert public_key_from_jwk({**legacy, "alg": "EdDSA"}, allow_legacy=True).algorithm.jose == (
        "Ed25519"
    )


def _ec_jwk(curve: ec.EllipticCurve, alg: str) -> dict[str, str]:
    key = SigningKey(ec.generate_private_key(curve), alg)
    return jwk_from_public_key(key.public_key())


def test_ec_keys_check_curve_and_point() -> None:
    jwk = _ec_jwk(ec.SECP256R1(), "ES256")
    assert public_key_from_jwk(jwk).algorithm.jose == "ES256"
    with pytest.raises(InvalidKey):
        public_key_from_jwk({**jwk, "crv": "P-384"})  # ES256 with a P-384 crv
    with pytest.raises(InvalidKey):
        public_key_from_jwk({**jwk, "alg": "ES384"})
    off_curve = b64url_encode(
        (int.from_bytes(b64url_decode(jwk["y"]), "big") ^ 1).to_bytes(32, "big")
    )
    with pytest.raises(InvalidKey):
        public_key_from_jwk({**jwk, "y": off_curve})
    with pytest.raises(InvalidKey):
        public_key_from_jwk({**jwk, "y": b64url_encode(b"\x01" * 31)})


def test_short_rsa_keys_are_refused() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    numbers = small.public_numbers()
    jwk = {
        "kty": "RSA",
        "alg": "PS256",
        "n": b64url_encode(numbers.n.to_bytes(128, "big")),
        "e": b64url_encode(numbers.e.to_bytes(3, "big")),
    }
    with pytest.raises(InvalidKey):
        public_key_from_jwk(jwk)
    with pytest.raises(InvalidKey):
        public_key_from_jwk({**jwk, "e": "AA"})


@pytest.mark.parametrize("alg", ["Ed25519", "ES256", "ES384", "PS256", "RS256"])
def test_public_jwk_round_trip(alg: str) -> None:
    key = SigningKey.generate(alg)
    jwk = jwk_from_public_key(key.public_key(), kid="k")
    assert jwk["alg"] == alg
    assert jwk["kid"] == "k"
    again = public_key_from_jwk(jwk)
    again.verify(key.sign(b"data"), b"data")
    assert jwk_thumbprint(jwk) == jwk_thumbprint(jwk_from_public_key(again))


@pytest.mark.parametrize("alg", ["Ed25519", "ES256"])
def test_private_jwk_must_match_its_public_members(alg: str) -> None:
    key = SigningKey.generate(alg)
    jwk = dict(jwk_from_public_key(key.public_key()))
    other = jwk_from_public_key(SigningKey.generate(alg).public_key())
    if alg == "Ed25519":
        d = key.key.private_bytes_raw()  # type: ignore[union-attr]
    else:
        d = key.key.private_numbers().private_value.to_bytes(32, "big")  # type: ignore[union-attr]
    private = {**jwk, "d": b64url_encode(d)}
    assert signing_key_from_jwk(private).sign(b"x") is not None
    for member in ("x", "y"):
        if member in jwk:
            with pytest.raises(InvalidKey):
                signing_key_from_jwk({**private, member: other[member]})


def test_private_rsa_jwks_are_not_supported() -> None:
    with pytest.raises(UnsupportedAlgorithm):
        signing_key_from_jwk({"kty": "RSA", "alg": "PS256", "n": "AQAB", "e": "AQAB", "d": "AQAB"})


@pytest.mark.parametrize("text", ["YQ==", "YQ=", "Y", "YR", "a+b/", "a b", "\u00e9", ""])
def test_b64url_decode_is_strict(text: str) -> None:
    if text == "":
        assert b64url_decode(text) == b""
        return
    with pytest.raises(ValueError):
        b64url_decode(text)


def test_key_type_must_match_the_algorithm() -> None:
    ed = SigningKey.generate("Ed25519")
    with pytest.raises(InvalidKey):
        SigningKey(ed.key, "ES256")
    with pytest.raises(InvalidKey):
        VerifyingKey(b"secret", "Ed25519")
    with pytest.raises(UnsupportedAlgorithm):
        SigningKey(ed.key, "EdDSA")
    with pytest.raises(InvalidKey):
        SigningKey.from_pem(
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "Ed25519"
        )


def test_thumbprint_needs_the_required_members() -> None:
    with pytest.raises(InvalidKey):
        jwk_thumbprint({"kty": "OKP", "crv": "Ed25519"})
    with pytest.raises(InvalidKey):
        jwk_thumbprint({"kty": "oct", "k": "AA"})
    with pytest.raises(InvalidKey):
        jwk_thumbprint({"kty": "OKP", "crv": "Ed25519", "x": "\ud800"})


@pytest.mark.parametrize(
    "token",
    [
        "a.b",
        "a.b.c.d",
        "!!.e30.AA",
        "e30.e30.!!",
        b64url_encode(b"[]") + ".e30.AA",
        b64url_encode(b"[" * 8000) + ".e30.AA",  # deeply nested JSON
        "e30." + "A" * 20000 + ".AA",
        b64url_encode(b"\xff\xfe") + ".e30.AA",
    ],
)
def test_decode_compact_refuses_malformed_tokens(token: str) -> None:
    with pytest.raises(InvalidJWT):
        decode_compact(token)
