"""Negative matrix, signatures: every ``Signature-Error`` code, and forged, wrong-key, stale,
future, under-covering, mislabelled, algorithm-confused and oversized signatures (§C.6).

Each row signs a genuine request, then does one thing an attacker would do to it.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from aauth_signing import (
    Cached,
    CacheMiss,
    HttpRequest,
    Hwk,
    InvalidInput,
    InvalidJWT,
    InvalidKey,
    InvalidRequest,
    InvalidSignature,
    IssuerMismatch,
    IssuerMissing,
    JktJwt,
    KeyResolver,
    ResolvedKey,
    SignatureKeyMember,
    SigningKey,
    UnknownKey,
    UnsupportedAlgorithm,
    UnsupportedScheme,
    VerificationPolicy,
    b64url_encode,
    check_discovery_document,
    content_digest,
    jwk_from_public_key,
    jwk_thumbprint,
    parse_signature_input,
    select_jwk,
    sign_request,
    signature_base,
    verify_request,
)
from aauth_signing._rfc9421.components import ComponentError
from aauth_signing.errors import ExpiredJWT

from .attacks import edit, forge_jwt
from .matrix import Case, assert_refused, cases

NOW = 1_767_225_600
URL = "https://api.example/items?page=2"
BODY = b'{"text": "hello"}'
JSON = {"content-type": "application/json"}
ED = SigningKey.generate("Ed25519")
ES = SigningKey.generate("ES256")
OTHER = SigningKey.generate("Ed25519")
AAUTH = VerificationPolicy.aauth(accepted_schemes=("hwk", "jkt-jwt"), clock=lambda: NOW)
GENERIC = VerificationPolicy.generic(clock=lambda: NOW)


def hwk(key: SigningKey = ED, **changes: Any) -> Hwk:
    """The ``hwk`` member for ``key``, with JWK members changed (None drops one)."""
    jwk = {**jwk_from_public_key(key.public_key()), **changes}
    return Hwk({k: v for k, v in jwk.items() if v is not None})


def signed(
    method: str = "POST",
    url: str = URL,
    body: bytes | None = BODY,
    *,
    key: SigningKey = ED,
    member: SignatureKeyMember | None = None,
    headers: dict[str, str] | None = None,
    **options: Any,
) -> HttpRequest:
    """A genuinely signed request (``options`` go to ``sign_request``: components, created…)."""
    options.setdefault("created", NOW)
    request = HttpRequest(method, url, {**JSON, **(headers or {})}, body)
    return request.with_headers(sign_request(request, key, member or hwk(key), **options))


def resend(request: HttpRequest, method: str | None = None, url: str | None = None,
           body: bytes | None = None) -> HttpRequest:  # fmt: skip
    """The same signed headers on a different request line or body."""
    return HttpRequest(
        method or request.method,
        url or request.target_uri,
        request.headers.items(),
        request.body if body is None else body,
    )


def header(request: HttpRequest, name: str) -> str:
    value = request.headers.get(name)
    assert value is not None
    return value


def verifying(request: HttpRequest | Callable[[], HttpRequest], policy: VerificationPolicy = AAUTH
              ) -> Callable[[], object]:  # fmt: skip
    def attack() -> object:
        message = request() if callable(request) else request
        return verify_request(message, policy)

    return attack


def with_signature(request: HttpRequest, raw: bytes) -> HttpRequest:
    return edit(request, signature=f"sig=:{base64.b64encode(raw).decode()}:")


def signed_with_input(signature_input: str, *, key: SigningKey = ED) -> HttpRequest:
    """A request whose Signature-Input is exactly ``signature_input`` and whose Signature is
    a real signature over the base that input describes."""
    request = HttpRequest("POST", URL, JSON, BODY)
    request = request.with_headers({"Signature-Key": f"sig={hwk(key).serialize()}"})
    request = request.with_headers({"Content-Digest": content_digest(BODY)})
    params, serialized = parse_signature_input(signature_input)["sig"]
    raw = key.sign(signature_base(request, params, serialized))
    return request.with_headers(
        {"Signature-Input": signature_input, "Signature": f"sig=:{base64.b64encode(raw).decode()}:"}
    )


BAD = (InvalidSignature, "invalid_signature", 401)
"""The refusal most forgeries meet: 401 ``Signature-Error: error=invalid_signature``."""
ALL = '("@method" "@authority" "@path" "@query" "content-type" "content-digest" "signature-key")'
GOOD = signed()


def jkt_jwt(claims: dict[str, Any], header: dict[str, Any] | None = None) -> JktJwt:
    """A ``jkt-jwt`` member: an enrolment key vouching for ED as the signing key."""
    enrolment = SigningKey.generate("Ed25519")
    jwk = jwk_from_public_key(enrolment.public_key())
    head = {"alg": "Ed25519", "typ": "jkt-s256+jwt", "jwk": jwk, **(header or {})}
    body = {
        "iss": f"urn:jkt:sha-256:{jwk_thumbprint(jwk)}",
        "iat": NOW,
        "exp": NOW + 60,
        "cnf": {"jwk": jwk_from_public_key(ED.public_key())},
    }
    return JktJwt(forge_jwt(enrolment, head, {**body, **claims}))


def _resigned(token: str) -> str:
    """``token`` with its signature replaced by another key's over the same input."""
    head, body, _ = token.split(".")
    return f"{head}.{body}.{b64url_encode(OTHER.sign(f'{head}.{body}'.encode()))}"


def duplicate_labels() -> HttpRequest:
    one = signed()
    return edit(one, signature_input=f"{header(one, 'signature-input')}, sig={ALL};created=1")


def two_signature_key_members() -> HttpRequest:
    one = signed()
    return edit(one, signature_key=f"{header(one, 'signature-key')}, sig=hwk;kty=\"OKP\"")


ROWS = [
    # -- the headers are there (invalid_request under AAuth, invalid_signature under -08) --
    Case("no signature headers at all", verifying(HttpRequest("POST", URL, JSON, BODY)),
         InvalidRequest, "invalid_request", 401, "V-01"),
    Case("Signature missing", verifying(edit(GOOD, signature=None)),
         InvalidRequest, "invalid_request", 401, "V-01"),
    Case("Signature-Input missing", verifying(edit(GOOD, signature_input=None)),
         InvalidRequest, "invalid_request", 401, "V-01"),
    Case("Signature-Key missing", verifying(edit(GOOD, signature_key=None)),
         InvalidRequest, "invalid_request", 401, "V-01"),
    Case("generic profile: missing headers are invalid_signature",
         verifying(edit(GOOD, signature=None), GENERIC), *BAD),
    # -- malformed signature headers --
    Case("Signature-Input is not a dictionary", verifying(edit(GOOD, signature_input="sig=(((")),
         *BAD),
    Case("Signature is not a byte sequence", verifying(edit(GOOD, signature='sig="abc"')),
         *BAD),
    Case("Signature is not base64", verifying(edit(GOOD, signature="sig=:%%%:")),
         *BAD),
    Case("labels of Signature-Input and Signature differ",
         verifying(edit(GOOD, signature="other=:AAAA:")), *BAD),
    Case("extra label in Signature", verifying(
         edit(GOOD, signature=header(GOOD, "signature") + ", two=:AAAA:")),
         *BAD),
    Case("empty Signature-Input", verifying(edit(GOOD, signature_input="")),
         *BAD),
    Case("second member for a label overrides the first and does not verify",
         verifying(duplicate_labels),
         *BAD),
    Case("second Signature-Key member for a label overrides the first",
         verifying(two_signature_key_members),
         InvalidKey, "invalid_key", 401),
    Case("Signature-Key member is not a scheme token",
         verifying(edit(GOOD, signature_key='sig="hwk"')), *BAD),
    Case("Signature-Key has no member for the label",
         verifying(edit(GOOD, signature_key=f"other={hwk().serialize()}")),
         *BAD),
    Case("covered component listed twice", verifying(edit(GOOD, signature_input=(
         'sig=("@method" "@method" "@authority" "@path" "signature-key");created=1767225600'))),
         *BAD),
    Case("@signature-params covered", verifying(edit(GOOD, signature_input=(
         'sig=("@method" "@authority" "@path" "signature-key" "@signature-params")'
         ";created=1767225600"))), *BAD),
    Case("created is a string", verifying(edit(GOOD, signature_input=f'sig={ALL};created="now"')),
         *BAD),
    Case("nonce is an integer", verifying(edit(
         GOOD, signature_input=f"sig={ALL};created=1767225600;nonce=7")),
         *BAD),
    # -- forged or wrong-key signatures --
    Case("forged signature (random bytes)", verifying(with_signature(GOOD, bytes(range(64)))),
         *BAD, "V-15"),
    Case("signature by another key than Signature-Key names",
         verifying(lambda: edit(signed(key=OTHER), signature_key=header(GOOD, "signature-key"))),
         *BAD, "V-15"),
    Case("Signature-Key swapped to the attacker's key",
         verifying(edit(GOOD, signature_key=f"sig={hwk(OTHER).serialize()}")),
         *BAD, "V-03"),
    Case("ES256 signature of the wrong length", verifying(
         with_signature(signed(key=ES), b"\x01" * 63)), *BAD),
    Case("ES256 signature with r = 0", verifying(
         with_signature(signed(key=ES), b"\x00" * 64)), *BAD),
    Case("empty signature", verifying(edit(GOOD, signature="sig=::")),
         *BAD),
    # -- the signed request, changed --
    Case("method changed", verifying(resend(GOOD, method="DELETE")),
         *BAD, "V-15"),
    Case("path changed", verifying(resend(GOOD, url="https://api.example/admin?page=2")),
         *BAD, "V-15"),
    Case("authority changed", verifying(resend(GOOD, url="https://evil.example/items?page=2")),
         *BAD, "V-15"),
    Case("query changed", verifying(resend(GOOD, url="https://api.example/items?page=3")),
         *BAD, "V-15"),
    Case("body changed, digest kept", verifying(resend(GOOD, body=b'{"text": "bye"}')),
         *BAD, "V-47"),
    Case("body and digest changed together", verifying(edit(
         resend(GOOD, body=b"{}"), content_digest=content_digest(b"{}"))),
         *BAD, "V-47"),
    Case("digest with an unsupported algorithm", verifying(lambda: edit(
         signed(), content_digest="md5=:AAAA:")), *BAD, "V-47"),
    Case("covered content-type changed", verifying(edit(GOOD, content_type="text/plain")),
         *BAD),
    Case("line break smuggled into a covered field", verifying(lambda: edit(
         signed(components=["@method", "@authority", "@path", "@query", "content-type",
                            "content-digest", "signature-key"]),
         content_type="application/json\r\nx: y")), ComponentError, "invalid_signature", 401),
    # -- created / expires --
    Case("created older than the window", verifying(lambda: signed(created=NOW - 61)),
         *BAD, "V-05"),
    Case("created in the future", verifying(lambda: signed(created=NOW + 61)),
         *BAD, "V-05"),
    Case("created an hour old", verifying(lambda: signed(created=NOW - 3600)),
         *BAD, "V-05"),
    Case("expires in the past", verifying(lambda: signed(expires=NOW - 1)),
         *BAD, "V-06"),
    Case("created omitted", verifying(lambda: signed(created=-1)),
         *BAD, "V-05"),
    # -- coverage (invalid_input) --
    Case("@method not covered", verifying(lambda: signed(
         components=["@authority", "@path", "@query", "content-digest", "signature-key"])),
         InvalidInput, "invalid_input", 401, "V-02"),
    Case("@authority not covered", verifying(lambda: signed(
         components=["@method", "@path", "@query", "content-digest", "signature-key"])),
         InvalidInput, "invalid_input", 401, "V-02"),
    Case("@path not covered", verifying(lambda: signed(
         components=["@method", "@authority", "@query", "content-digest", "signature-key"])),
         InvalidInput, "invalid_input", 401, "V-02"),
    Case("signature-key not covered", verifying(lambda: signed(
         components=["@method", "@authority", "@path", "@query", "content-digest"])),
         InvalidInput, "invalid_input", 401, "V-03"),
    Case("signature-key not covered, even under a permissive policy", verifying(lambda: signed(
         components=["@method", "@authority", "@path", "@query", "content-digest"]),
         VerificationPolicy.generic(required_components=(), clock=lambda: NOW)),
         InvalidInput, "invalid_input", 401, "V-03"),
    Case("@query not covered", verifying(lambda: signed(
         components=["@method", "@authority", "@path", "content-digest", "signature-key"])),
         InvalidInput, "invalid_input", 401),
    Case("content-digest not covered", verifying(lambda: signed(
         components=["@method", "@authority", "@path", "@query", "signature-key"])),
         InvalidInput, "invalid_input", 401),
    Case("authorization sent but not covered", verifying(lambda: signed(
         components=["@method", "@authority", "@path", "@query", "content-digest",
                     "signature-key"], headers={"authorization": "AAuth abc"})),
         InvalidInput, "invalid_input", 401, "RS-14"),
    Case("aauth-mission sent but not covered", verifying(lambda: signed(
         components=["@method", "@authority", "@path", "@query", "content-digest",
                     "signature-key"], headers={"aauth-mission": 'approver="https://ps.example"'})),
         InvalidInput, "invalid_input", 401),
    Case("signature-key covered only as one member (;key)", verifying(lambda: signed(
         components=["@method", "@authority", "@path", "@query", "content-digest",
                     '"signature-key";key="sig"'])),
         InvalidInput, "invalid_input", 401, "V-03"),
    Case("server-required extra component not covered", verifying(
         GOOD, AAUTH.with_components("x-request-id")),
         InvalidInput, "invalid_input", 401, "V-04", "V-46"),
    # -- algorithm and key --
    Case("alg parameter appended after signing (-08 profile)", verifying(lambda: edit(
         GOOD, signature_input=header(GOOD, "signature-input") + ';alg="ecdsa-p256-sha256"'),
         GENERIC), *BAD),
    Case("alg parameter signed and contradicting the key", verifying(lambda: signed_with_input(
         f'sig={ALL};created=1767225600;alg="rsa-pss-sha512"'), GENERIC),
         *BAD),
    Case("keyid names another key", verifying(lambda: signed_with_input(
         f'sig={ALL};created=1767225600;keyid="someone-else"')),
         InvalidKey, "invalid_key", 401, "V-08"),
    Case("hwk JWK without alg", verifying(lambda: signed(member=hwk(alg=None))),
         UnsupportedAlgorithm, "unsupported_algorithm", 401, "V-12"),
    Case("hwk JWK with polymorphic EdDSA", verifying(lambda: signed(member=hwk(alg="EdDSA"))),
         UnsupportedAlgorithm, "unsupported_algorithm", 401, "V-12"),
    Case("hwk JWK with alg none", verifying(lambda: signed(member=hwk(alg="none"))),
         UnsupportedAlgorithm, "unsupported_algorithm", 401, "V-13"),
    Case("hwk JWK with HS256", verifying(lambda: signed(member=hwk(alg="HS256"))),
         UnsupportedAlgorithm, "unsupported_algorithm", 401, "V-13"),
    Case("hwk symmetric oct key", verifying(lambda: signed(
         member=Hwk({"kty": "oct", "k": "c2VjcmV0", "alg": "HS256"}))),
         UnsupportedAlgorithm, "unsupported_algorithm", 401, "V-13"),
    Case("hwk alg ES256 on an OKP key", verifying(lambda: signed(member=hwk(alg="ES256"))),
         InvalidKey, "invalid_key", 401, "V-11"),
    Case("hwk crv P-256 on an Ed25519 key", verifying(lambda: signed(member=hwk(crv="P-256"))),
         InvalidKey, "invalid_key", 401, "V-11"),
    Case("hwk x not base64url", verifying(lambda: signed(member=hwk(x="***"))),
         InvalidKey, "invalid_key", 401, "V-11"),
    Case("hwk x of the wrong length", verifying(lambda: signed(member=hwk(x="AAAA"))),
         InvalidKey, "invalid_key", 401, "V-11"),
    Case("hwk EC point not on the curve", verifying(lambda: signed(
         key=ES, member=hwk(ES, y=b64url_encode(b"\x00" * 31 + b"\x01")))),
         InvalidKey, "invalid_key", 401, "V-11"),
    Case("ES384 is not an AAuth algorithm", verifying(lambda: signed(
         key=SigningKey.generate("ES384"))),
         UnsupportedAlgorithm, "unsupported_algorithm", 401, "V-12"),
    Case("unknown JWK key type", verifying(edit(GOOD, signature_key='sig=hwk;kty="XYZ"')),
         UnsupportedAlgorithm, "unsupported_algorithm", 401, "V-12"),
    Case("hwk carrying a kid", verifying(edit(GOOD, signature_key=header(
         GOOD, "signature-key") + ';kid="k1"')), InvalidKey, "invalid_key", 401),
    # -- schemes --
    Case("x509 is not accepted by an AAuth route", verifying(edit(
         GOOD, signature_key='sig=x509;x5u="https://a.example/c.pem";x5t="AA"')),
         UnsupportedScheme, "unsupported_scheme", 401, "V-09"),
    Case("unknown scheme", verifying(edit(GOOD, signature_key='sig=magic;x="1"')),
         UnsupportedScheme, "unsupported_scheme", 401, "V-09"),
    Case("jwt scheme with no resolver configured", verifying(edit(
         GOOD, signature_key='sig=jwt;jwt="a.b.c"'), VerificationPolicy.aauth(clock=lambda: NOW)),
         UnsupportedScheme, "unsupported_scheme", 401, "V-09"),
    Case("hwk on the AAuth jwt-only profile", verifying(
         GOOD, VerificationPolicy.aauth(clock=lambda: NOW)),
         UnsupportedScheme, "unsupported_scheme", 401, "V-09"),
    Case("cached member this verifier cannot resolve", lambda: _cache_miss(),
         CacheMiss, "cache_miss", 401),
    Case("jkt-jwt token not a JWT", verifying(lambda: signed(member=JktJwt("not-a-jwt"))),
         InvalidJWT, "invalid_jwt", 401, "V-14"),
    Case("jkt-jwt expired", verifying(lambda: signed(
         member=jkt_jwt({"exp": NOW - 3600, "iat": NOW - 7200}))),
         ExpiredJWT, "expired_jwt", 401, "V-14"),
    Case("jkt-jwt iss not the enrolment key's thumbprint", verifying(lambda: signed(
         member=jkt_jwt({"iss": "urn:jkt:sha-256:AAAA"}))), InvalidJWT, "invalid_jwt", 401, "V-14"),
    Case("jkt-jwt signed by another key than its header names", verifying(lambda: signed(
         member=JktJwt(_resigned(jkt_jwt({}).jwt)))), InvalidJWT, "invalid_jwt", 401, "V-14"),
    Case("jkt-jwt with the wrong typ", verifying(lambda: signed(
         member=jkt_jwt({}, {"typ": "JWT"}))), InvalidJWT, "invalid_jwt", 401, "V-14"),
    Case("jkt-jwt cnf names another key than the signer's", verifying(lambda: signed(
         member=jkt_jwt({"cnf": {"jwk": jwk_from_public_key(OTHER.public_key())}}))),
         *BAD, "V-15"),
    # -- discovery documents and JWKS --
    Case("discovery document without issuer", lambda: check_discovery_document(
         {"jwks_uri": "https://ap.example/jwks"}, "https://ap.example"),
         IssuerMissing, "issuer_missing", 401, "V-21"),
    Case("discovery document for another issuer", lambda: check_discovery_document(
         {"issuer": "https://evil.example", "jwks_uri": "https://evil.example/jwks"},
         "https://ap.example"), IssuerMismatch, "issuer_mismatch", 401, "V-22"),
    Case("discovery issuer differing only by a trailing slash", lambda: check_discovery_document(
         {"issuer": "https://ap.example/", "jwks_uri": "https://ap.example/jwks"},
         "https://ap.example"), IssuerMismatch, "issuer_mismatch", 401, "V-22"),
    Case("kid not in the JWKS", lambda: select_jwk(
         {"keys": [jwk_from_public_key(ED.public_key(), kid="a")]}, "b"),
         UnknownKey, "unknown_key", 401),
    Case("JWKS without a keys array", lambda: select_jwk({"key": []}, "a"),
         InvalidKey, "invalid_key", 401),
    # -- oversized --
    Case("oversized Signature-Input", verifying(edit(
         GOOD, signature_input=f"sig={ALL};created=1767225600;nonce=\"{'a' * 20000}\"")),
         *BAD),
    Case("oversized Signature", verifying(edit(
         GOOD, signature=f"sig=:{base64.b64encode(bytes(20000)).decode()}:")),
         *BAD),
    Case("oversized Signature-Key", verifying(edit(
         GOOD, signature_key=f'sig=jwt;jwt="{"a" * 20000}"')), *BAD),
    Case("thousands of labels", verifying(edit(GOOD, signature_input=", ".join(
         f"s{i}=();created=1" for i in range(3000)))), *BAD),
]


def _cache_miss() -> object:
    """A ``cached`` member refers to a key this verifier never saw."""
    request = edit(GOOD, signature_key='sig=cached;cid="k-1"')
    policy = VerificationPolicy.generic(accepted_schemes=("cached",), clock=lambda: NOW)
    class NoCache(KeyResolver):
        def resolve(self, member: SignatureKeyMember) -> ResolvedKey:
            assert isinstance(member, Cached)
            raise CacheMiss(f"no cached key {member.cid!r}")

    return verify_request(request, policy, NoCache())


@pytest.mark.parametrize("case", cases(ROWS))
def test_signature_attack_is_refused(case: Case) -> None:
    assert_refused(case)


def test_every_signature_error_code_has_a_row() -> None:
    """Each ``Signature-Error`` code the library defines is met by at least one attack here
    or in the token table (which adds ``invalid_jwt``/``expired_jwt`` at the resource)."""
    import aauth_signing.errors as errors

    defined = {
        cls.code
        for name in errors.__all__
        if isinstance(cls := getattr(errors, name), type) and issubclass(cls, errors.SignatureError)
    }
    assert defined <= {row.code for row in ROWS}


def test_the_genuine_request_verifies() -> None:
    """The control: without the attack, every row's request would pass."""
    assert verify_request(GOOD, AAUTH).thumbprint
    assert verify_request(signed(key=ES), AAUTH).thumbprint
