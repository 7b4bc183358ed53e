"""The JOSE facade: encoding, strict parsing, alg pinning, typ and time checks."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from aauth_signing import SigningKey, b64url_encode
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given
from hypothesis import strategies as st

from aauth import jwt
from aauth.errors import InvalidToken, TokenExpired

NOW = 1_767_225_600
TYP = "aa-agent+jwt"
CLAIMS = {"iss": "https://ap.example", "iat": NOW, "exp": NOW + 300}


def raw_token(key: SigningKey | None, header: Any, payload: str | bytes) -> str:
    """A JWS with exactly these bytes; ``key`` None leaves the signature empty."""
    head = b64url_encode(
        json.dumps(header).encode() if not isinstance(header, str) else header.encode()
    )
    body = b64url_encode(payload if isinstance(payload, bytes) else payload.encode())
    signature = b"" if key is None else key.sign(f"{head}.{body}".encode())
    return f"{head}.{body}.{b64url_encode(signature)}"


def header(key: SigningKey, **extra: Any) -> dict[str, Any]:
    return {"alg": key.algorithm.jose, "typ": TYP, "kid": "k1", **extra}


@pytest.fixture(scope="module")
def ed() -> SigningKey:
    return SigningKey.generate("Ed25519")


@pytest.fixture(scope="module")
def es() -> SigningKey:
    return SigningKey.generate("ES256")


def test_encode_sets_fully_specified_alg_typ_and_kid(ed: SigningKey) -> None:
    token = jwt.encode(CLAIMS, ed, typ=TYP, kid="k1", extra_header={"x5t": "abc"})
    head, claims = jwt.peek(token)
    assert head == {"alg": "Ed25519", "typ": TYP, "kid": "k1", "x5t": "abc"}
    assert claims == CLAIMS


def test_peek_typ_reads_the_header_alone(ed: SigningKey) -> None:
    """Which verification a token needs is its header ``typ``; the payload is not decoded
    (a bad one fails the verification that follows)."""
    assert jwt.peek_typ(jwt.encode(CLAIMS, ed, typ=TYP, kid="k1")) == TYP
    assert jwt.peek_typ(raw_token(ed, header(ed), "[1, 2]")) == TYP


@pytest.mark.parametrize(
    "token",
    [7, None, "", "x" * (jwt.MAX_TOKEN_LENGTH + 1), "not base64!.e30.sig", "e30.e30.sig"],
)
def test_peek_typ_refuses_what_has_no_checked_header(token: Any) -> None:
    with pytest.raises(InvalidToken):
        jwt.peek_typ(token)


@pytest.mark.parametrize("name", ["alg", "typ", "kid"])
def test_encode_refuses_extra_header_replacing_protocol_members(ed: SigningKey, name: str) -> None:
    with pytest.raises(ValueError, match="extra_header"):
        jwt.encode(CLAIMS, ed, typ=TYP, kid="k1", extra_header={name: "x"})


def test_encode_refuses_keys_outside_the_allow_list() -> None:
    with pytest.raises(ValueError, match="cannot sign"):
        jwt.encode(CLAIMS, SigningKey.generate("HS256"), typ=TYP, kid="k1")


def test_encode_refuses_non_json_claims(ed: SigningKey) -> None:
    with pytest.raises(ValueError):
        jwt.encode({"exp": float("nan")}, ed, typ=TYP, kid="k1")


@pytest.mark.parametrize("alg", ["Ed25519", "ES256", "ES384"])
def test_round_trip_for_each_curve(alg: str) -> None:
    key = SigningKey.generate(alg)
    token = jwt.encode(CLAIMS, key, typ=TYP, kid="k1")
    assert jwt.peek(token)[0]["alg"] == alg
    assert jwt.verify(token, key.public_key(), typ=TYP, now=NOW) == CLAIMS


def test_round_trip_ps256() -> None:
    key = SigningKey(rsa.generate_private_key(public_exponent=65537, key_size=2048), "PS256")
    token = jwt.encode(CLAIMS, key, typ=TYP, kid="k1")
    assert jwt.verify(token, key.public_key(), typ=TYP, now=NOW) == CLAIMS


def test_verify_accepts_a_parsed_token(ed: SigningKey) -> None:
    parsed = jwt.parse(jwt.encode(CLAIMS, ed, typ=TYP, kid="k1"))
    assert (parsed.alg, parsed.typ, parsed.kid) == ("Ed25519", TYP, "k1")
    assert jwt.verify(parsed, ed.public_key(), typ=TYP, now=NOW) == CLAIMS


# -- algorithms (V-28, §H.2) --------------------------------------------------------------------


def test_v28_alg_none_is_rejected(ed: SigningKey) -> None:
    token = raw_token(None, {"alg": "none", "typ": TYP, "kid": "k1"}, json.dumps(CLAIMS))
    with pytest.raises(InvalidToken, match="alg"):
        jwt.verify(token, ed.public_key(), typ=TYP, now=NOW)


def test_v28_hs256_alg_confusion_is_rejected(ed: SigningKey) -> None:
    # The classic confusion: HMAC keyed with the public key bytes.
    secret = ed.public_key().key.public_bytes_raw()  # type: ignore[union-attr]
    forged = raw_token(
        SigningKey(secret, "HS256"), header(SigningKey(secret, "HS256")), json.dumps(CLAIMS)
    )
    with pytest.raises(InvalidToken, match="alg"):
        jwt.verify(forged, ed.public_key(), typ=TYP, now=NOW)


def test_v28_eddsa_is_rejected_by_default(ed: SigningKey) -> None:
    token = raw_token(ed, header(ed, alg="EdDSA"), json.dumps(CLAIMS))
    with pytest.raises(InvalidToken, match="alg"):
        jwt.verify(token, ed.public_key(), typ=TYP, now=NOW)


def test_eddsa_is_accepted_for_ed25519_keys_only_when_allowed(
    ed: SigningKey, es: SigningKey
) -> None:
    token = raw_token(ed, header(ed, alg="EdDSA"), json.dumps(CLAIMS))
    assert jwt.verify(token, ed.public_key(), typ=TYP, now=NOW, allow_eddsa=True) == CLAIMS
    es_token = raw_token(es, header(es, alg="EdDSA"), json.dumps(CLAIMS))
    with pytest.raises(InvalidToken, match="alg"):
        jwt.verify(es_token, es.public_key(), typ=TYP, now=NOW, allow_eddsa=True)


def test_alg_is_pinned_by_the_key_not_the_header(ed: SigningKey, es: SigningKey) -> None:
    es_token = jwt.encode(CLAIMS, es, typ=TYP, kid="k1")
    with pytest.raises(InvalidToken, match="does not match"):
        jwt.verify(es_token, ed.public_key(), typ=TYP, now=NOW)
    lying = raw_token(ed, header(ed, alg="ES256"), json.dumps(CLAIMS))
    with pytest.raises(InvalidToken, match="does not match"):
        jwt.verify(lying, ed.public_key(), typ=TYP, now=NOW)


def test_keys_outside_the_allow_list_cannot_verify() -> None:
    key = SigningKey(rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256")
    token = raw_token(key, header(key), json.dumps(CLAIMS))
    with pytest.raises(InvalidToken, match="RS256"):
        jwt.verify(token, key.public_key(), typ=TYP, now=NOW)


def test_bad_signature_is_rejected(ed: SigningKey) -> None:
    other = SigningKey.generate("Ed25519")
    token = jwt.encode(CLAIMS, other, typ=TYP, kid="k1")
    with pytest.raises(InvalidToken, match="signature"):
        jwt.verify(token, ed.public_key(), typ=TYP, now=NOW)


def test_es256_signature_of_wrong_length_is_rejected(es: SigningKey) -> None:
    head, body, _ = jwt.encode(CLAIMS, es, typ=TYP, kid="k1").split(".")
    with pytest.raises(InvalidToken, match="signature"):
        jwt.verify(f"{head}.{body}.{b64url_encode(b'x' * 70)}", es.public_key(), typ=TYP, now=NOW)


# -- typ and times ------------------------------------------------------------------------------


def test_typ_must_equal_the_expected_value(ed: SigningKey) -> None:
    token = jwt.encode(CLAIMS, ed, typ="aa-auth+jwt", kid="k1")
    with pytest.raises(InvalidToken, match="typ"):
        jwt.verify(token, ed.public_key(), typ=TYP, now=NOW)


def verify_claims(ed: SigningKey, claims: dict[str, Any], now: float = NOW) -> dict[str, Any]:
    return jwt.verify(jwt.encode(claims, ed, typ=TYP, kid="k1"), ed.public_key(), typ=TYP, now=now)


def test_exp_is_required(ed: SigningKey) -> None:
    with pytest.raises(InvalidToken, match="'exp'"):
        verify_claims(ed, {"iat": NOW})


def test_iat_is_required(ed: SigningKey) -> None:
    with pytest.raises(InvalidToken, match="'iat'"):
        verify_claims(ed, {"exp": NOW + 10})


@pytest.mark.parametrize("value", ["soon", True, None, [1], {"a": 1}])
def test_exp_must_be_a_number(ed: SigningKey, value: Any) -> None:
    with pytest.raises(InvalidToken, match="exp"):
        verify_claims(ed, {"iat": NOW, "exp": value})


def test_expired_token_raises_token_expired(ed: SigningKey) -> None:
    with pytest.raises(TokenExpired) as info:
        verify_claims(ed, {"iat": NOW - 400, "exp": NOW - 61})
    assert info.value.expired


def test_leeway_tolerates_small_skew(ed: SigningKey) -> None:
    assert verify_claims(ed, {"iat": NOW + 59, "exp": NOW - 59})["exp"] == NOW - 59
    with pytest.raises(TokenExpired):
        jwt.verify(
            jwt.encode({"iat": NOW, "exp": NOW - 1}, ed, typ=TYP, kid="k1"),
            ed.public_key(),
            typ=TYP,
            now=NOW,
            leeway=0,
        )


def test_iat_in_the_future_is_rejected(ed: SigningKey) -> None:
    with pytest.raises(InvalidToken, match="future"):
        verify_claims(ed, {"iat": NOW + 61, "exp": NOW + 600})


def test_nbf_is_honoured(ed: SigningKey) -> None:
    with pytest.raises(InvalidToken, match="not valid before"):
        verify_claims(ed, {"iat": NOW, "nbf": NOW + 120, "exp": NOW + 600})
    assert verify_claims(ed, {"iat": NOW, "nbf": NOW - 5, "exp": NOW + 600})["nbf"] == NOW - 5


def test_default_now_is_the_wall_clock(ed: SigningKey) -> None:
    token = jwt.encode({"iat": NOW, "exp": NOW + 1}, ed, typ=TYP, kid="k1")
    with pytest.raises(TokenExpired):
        jwt.verify(token, ed.public_key(), typ=TYP)


# -- strict parsing -----------------------------------------------------------------------------


def test_duplicate_claims_are_rejected(ed: SigningKey) -> None:
    token = raw_token(ed, header(ed), f'{{"exp": {NOW + 9}, "iat": {NOW}, "exp": {NOW + 99}}}')
    with pytest.raises(InvalidToken, match="duplicate"):
        jwt.verify(token, ed.public_key(), typ=TYP, now=NOW)


def test_duplicate_nested_members_are_rejected(ed: SigningKey) -> None:
    token = raw_token(ed, header(ed), '{"cnf": {"jwk": 1, "jwk": 2}}')
    with pytest.raises(InvalidToken, match="duplicate"):
        jwt.peek(token)


def test_duplicate_header_members_are_rejected(ed: SigningKey) -> None:
    text = '{"alg": "Ed25519", "typ": "aa-agent+jwt", "kid": "a", "kid": "b"}'
    with pytest.raises(InvalidToken, match="duplicate"):
        jwt.peek(raw_token(ed, text, json.dumps(CLAIMS)))


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_are_rejected(ed: SigningKey, literal: str) -> None:
    token = raw_token(ed, header(ed), f'{{"iat": {NOW}, "exp": {literal}}}')
    with pytest.raises(InvalidToken):
        jwt.peek(token)


@pytest.mark.parametrize(
    "head",
    [
        {"typ": TYP, "kid": "k1"},
        {"alg": "Ed25519", "kid": "k1"},
        {"alg": "Ed25519", "typ": TYP},
        {"alg": "Ed25519", "typ": TYP, "kid": 7},
        {"alg": "Ed25519", "typ": TYP, "kid": ""},
        {"alg": ["Ed25519"], "typ": TYP, "kid": "k1"},
        {"alg": "Ed25519", "typ": TYP, "kid": "k1", "crit": ["exp"]},
        ["alg", "Ed25519"],
    ],
)
def test_header_must_be_an_object_with_string_alg_typ_kid_and_no_crit(
    ed: SigningKey, head: Any
) -> None:
    with pytest.raises(InvalidToken):
        jwt.peek(raw_token(ed, head, json.dumps(CLAIMS)))


@pytest.mark.parametrize(
    "token",
    [
        "",
        "a.b",
        "a.b.c.d",
        "!!!.e30.AA",
        "eyJhbGciOiJFZDI1NTE5In0=.e30.AA",
        "x" * (jwt.MAX_TOKEN_LENGTH + 1),
    ],
)
def test_malformed_tokens_are_rejected(token: str) -> None:
    with pytest.raises(InvalidToken):
        jwt.parse(token)


def test_non_string_tokens_are_rejected() -> None:
    with pytest.raises(InvalidToken):
        jwt.parse(b"a.b.c")  # type: ignore[arg-type]


def test_payload_must_be_a_json_object(ed: SigningKey) -> None:
    with pytest.raises(InvalidToken, match="object"):
        jwt.peek(raw_token(ed, header(ed), "[1, 2]"))


def test_payload_must_be_utf8(ed: SigningKey) -> None:
    with pytest.raises(InvalidToken):
        jwt.peek(raw_token(ed, header(ed), b'{"a": "\xff"}'))


@pytest.mark.parametrize(
    "payload",
    ['{"jti": "\\ud800"}', '{"jti": "x\\udfff"}', '{"\\udc00": 1}', '{"a": ["\\ud83d"]}'],
)
def test_lone_surrogate_escapes_are_rejected(ed: SigningKey, payload: str) -> None:
    """No UTF-8 encoder can write such a claim back: stored or logged, it breaks the reader."""
    with pytest.raises(InvalidToken, match="surrogate"):
        jwt.peek(raw_token(ed, header(ed), payload))
    text = '{"alg": "Ed25519", "typ": "aa-agent+jwt", "kid": "\\ud800"}'
    with pytest.raises(InvalidToken, match="surrogate"):
        jwt.peek(raw_token(ed, text, json.dumps(CLAIMS)))


def test_escapes_that_spell_no_lone_surrogate_are_kept(ed: SigningKey) -> None:
    payload = '{"pair": "\\ud83d\\ude00", "text": "\\\\ud800", "e": "\\u00e9"}'
    claims = jwt.peek(raw_token(ed, header(ed), payload))[1]
    assert claims == {"pair": "\U0001f600", "text": "\\ud800", "e": "\u00e9"}


def test_deeply_nested_payload_is_rejected_not_crashing(ed: SigningKey) -> None:
    payload = '{"a":' * 3000 + "1" + "}" * 3000
    with pytest.raises(InvalidToken):
        jwt.peek(raw_token(ed, header(ed), payload))


def test_signature_must_be_base64url(ed: SigningKey) -> None:
    head, body, _ = jwt.encode(CLAIMS, ed, typ=TYP, kid="k1").split(".")
    with pytest.raises(InvalidToken, match="signature"):
        jwt.parse(f"{head}.{body}.++")


@given(st.text(max_size=300))
def test_peek_raises_only_invalid_token_on_arbitrary_text(text: str) -> None:
    with contextlib.suppress(InvalidToken):
        jwt.peek(text)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(
    st.one_of(_json, st.binary(max_size=60)),
    st.one_of(_json, st.binary(max_size=60)),
    st.binary(max_size=80),
)
def test_peek_raises_only_invalid_token_on_arbitrary_segments(
    head: Any, body: Any, signature: bytes
) -> None:
    def segment(value: Any) -> str:
        raw = value if isinstance(value, bytes) else json.dumps(value).encode()
        return b64url_encode(raw)

    try:
        header_out, claims_out = jwt.peek(
            f"{segment(head)}.{segment(body)}.{b64url_encode(signature)}"
        )
    except InvalidToken:
        return
    assert isinstance(header_out["alg"], str)
    assert isinstance(claims_out, dict)


@given(st.dictionaries(st.text(max_size=8), _json, max_size=6))
def test_verify_raises_only_invalid_token_on_arbitrary_signed_claims(
    claims: dict[str, Any],
) -> None:
    key = _HYPOTHESIS_KEY
    try:
        token = raw_token(key, header(key), json.dumps(claims))
        jwt.verify(token, key.public_key(), typ=TYP, now=NOW)
    except InvalidToken:
        pass


_HYPOTHESIS_KEY = SigningKey.generate("Ed25519")
