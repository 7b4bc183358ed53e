"""One failing request per ``Signature-Error`` code, through ``verify_request`` and a policy.

Each test also checks what the server sends back: the ``Signature-Error`` header (and the
accept lists where signature-key-08 §3.4 asks for them), status 401 and the problem type.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from aauth_signing import (
    Cached,
    CacheMiss,
    ExpiredJWT,
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
    JwksUri,
    ResolvedKey,
    SignatureError,
    SignatureKeyMember,
    SigningKey,
    UnknownKey,
    UnsupportedAlgorithm,
    UnsupportedScheme,
    VerificationPolicy,
    check_discovery_document,
    jwk_from_public_key,
    jwk_thumbprint,
    select_jwk,
    sign,
    sign_request,
    verify_request,
)

NOW = 1_767_225_600
URI = "https://api.example/items"
KEY = SigningKey.generate("Ed25519")
HWK = Hwk.from_public_key(KEY.public_key())
X = HWK.jwk["x"]
HWK_POLICY = VerificationPolicy.generic(accepted_schemes=("hwk",), clock=lambda: NOW)
AAUTH_POLICY = VerificationPolicy.aauth(clock=lambda: NOW)

MakeJwt = Callable[[SigningKey, dict[str, Any], dict[str, Any]], str]


def signed(
    member: SignatureKeyMember | None = HWK,
    *,
    key: SigningKey = KEY,
    uri: str = URI,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    components: list[str] | None = None,
    created: int = NOW,
    expires: int | None = None,
) -> HttpRequest:
    """A request signed the AAuth way (pass ``member=None`` with a raw Signature-Key)."""
    request = HttpRequest(method, uri, headers or {}, body)
    added = sign_request(
        request, key, member, components=components, created=created, expires=expires
    )
    return request.with_headers(added)


def with_raw_key(signature_key: str, key: SigningKey = KEY) -> HttpRequest:
    """Signed over a hand-written ``Signature-Key`` value."""
    return signed(None, key=key, headers={"Signature-Key": signature_key})


def expect(
    request: HttpRequest,
    error: type[SignatureError],
    policy: VerificationPolicy = HWK_POLICY,
    resolver: Any = None,
) -> SignatureError:
    with pytest.raises(error) as info:
        verify_request(request, policy, resolver)
    exc = info.value
    assert type(exc) is error
    assert exc.status == 401
    assert exc.response_headers()["Signature-Error"].startswith(f"error={exc.code}")
    assert exc.problem()["type"] == f"urn:ietf:params:sig-error:{exc.code}"
    return exc


def test_the_valid_request_verifies() -> None:
    verified = verify_request(signed(), HWK_POLICY)
    assert verified.scheme == "hwk"
    assert verified.thumbprint == jwk_thumbprint(HWK.jwk)


# invalid_request (AAuth -10 maps missing signature headers here; generic -08 does not).


@pytest.mark.parametrize("missing", ["Signature", "Signature-Input", "Signature-Key"])
def test_missing_headers_are_invalid_request_under_aauth(missing: str) -> None:
    request = signed()
    kept = [(k, v) for k, v in request.headers.items() if k != missing]
    stripped = HttpRequest(request.method, request.target_uri, kept)
    exc = expect(stripped, InvalidRequest, AAUTH_POLICY)
    # The unsigned client also learns which schemes to sign with (V-01, V-19).
    assert exc.response_headers() == {
        "Signature-Error": "error=invalid_request",
        "Accept-Signature-Scheme": ", ".join(AAUTH_POLICY.accepted_schemes),
    }
    expect(stripped, InvalidSignature, HWK_POLICY)


# invalid_signature


def _flip_signature(request: HttpRequest) -> HttpRequest:
    label, _, value = (request.headers.get("signature") or "").partition("=")
    raw = bytearray(base64.b64decode(value.strip(":")))
    raw[0] ^= 0x80
    return request.with_headers({"Signature": f"{label}=:{base64.b64encode(raw).decode()}:"})


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param(_flip_signature(signed()), id="bad-signature"),
        pytest.param(signed(created=NOW - 61), id="created-too-old"),
        pytest.param(signed(created=NOW + 61), id="created-in-future"),
        pytest.param(signed(expires=NOW - 1), id="expired"),
        pytest.param(signed().with_headers({"Signature-Input": "sig=("}), id="malformed-input"),
        pytest.param(signed().with_headers({"Signature-Input": "sig=1"}), id="input-not-list"),
        pytest.param(signed().with_headers({"Signature-Input": ""}), id="input-empty"),
        pytest.param(
            signed().with_headers({"Signature-Input": 'sig=("@method");created="1"'}),
            id="created-not-integer",
        ),
        pytest.param(signed().with_headers({"Signature": "sig=:!!:"}), id="malformed-signature"),
        pytest.param(signed().with_headers({"Signature": 'sig="abc"'}), id="signature-not-bytes"),
        pytest.param(signed().with_headers({"Signature-Key": "sig=hwk;"}), id="malformed-key"),
        pytest.param(signed().with_headers({"Signature-Key": 'sig="hwk"'}), id="key-not-token"),
        pytest.param(
            signed().with_headers({"Signature-Key": "other=" + HWK.serialize()}),
            id="no-key-member-for-label",
        ),
        pytest.param(signed().with_headers({"Signature": "other=:AAAA:"}), id="labels-differ"),
        pytest.param(signed().with_headers({"Signature-Input": "x" * 20000}), id="oversized-input"),
    ],
)
def test_invalid_signature(request_: HttpRequest) -> None:
    expect(request_, InvalidSignature)


def test_missing_created_is_invalid_signature() -> None:
    request = HttpRequest("GET", URI, {"Signature-Key": f"sig={HWK.serialize()}"})
    names = ["@method", "@authority", "@path", "signature-key"]
    unsigned_created = request.with_headers(sign(request, KEY, names, created=-1))
    assert "created" not in (unsigned_created.headers.get("signature-input") or "")
    expect(unsigned_created, InvalidSignature)


def test_a_body_that_does_not_match_its_digest_is_invalid_signature() -> None:
    request = signed(method="POST", body=b'{"a": 1}', headers={"Content-Type": "application/json"})
    tampered = HttpRequest("POST", URI, request.headers, b'{"a": 2}')
    expect(tampered, InvalidSignature)


# invalid_input


def test_uncovered_method_lists_the_required_input() -> None:
    request = signed(components=["@authority", "@path", "signature-key"])
    exc = expect(request, InvalidInput)
    assert exc.response_headers() == {
        "Signature-Error": 'error=invalid_input, required_input=("@method" "@authority" "@path"'
        ' "signature-key")'
    }


def test_signature_key_must_be_covered_even_when_the_policy_omits_it() -> None:
    """V-03: no policy can switch off signature-key coverage."""
    lax = VerificationPolicy.generic(
        accepted_schemes=("hwk",),
        required_components=("@method", "@authority", "@path"),
        clock=lambda: NOW,
    )
    request = signed(components=["@method", "@authority", "@path"])
    exc = expect(request, InvalidInput, lax)
    assert exc.response_headers()["Signature-Error"] == (
        'error=invalid_input, required_input=("signature-key")'
    )


def test_a_member_of_signature_key_is_not_coverage_of_it() -> None:
    request = signed(components=["@method", "@authority", "@path", '"signature-key";key="sig"'])
    expect(request, InvalidInput)


@pytest.mark.parametrize(
    ("kwargs", "missing"),
    [
        (
            {
                "method": "POST",
                "body": b"{}",
                "components": ["@method", "@authority", "@path", "signature-key"],
            },
            "content-digest",
        ),
        (
            {
                "uri": URI + "?page=2",
                "components": ["@method", "@authority", "@path", "signature-key"],
            },
            "@query",
        ),
        (
            {
                "headers": {"Authorization": "AAuth token"},
                "components": ["@method", "@authority", "@path", "signature-key"],
            },
            "authorization",
        ),
    ],
)
def test_conditional_components_must_be_covered(kwargs: dict[str, Any], missing: str) -> None:
    exc = expect(signed(**kwargs), InvalidInput)
    assert isinstance(exc, InvalidInput)
    assert missing in exc.required_input
    assert f'"{missing}"' in exc.response_headers()["Signature-Error"]


def test_extra_components_from_the_policy_are_enforced() -> None:
    """V-04: a server-required extra component left uncovered."""
    policy = HWK_POLICY.with_components("content-type")
    request = signed(headers={"Content-Type": "text/plain"})
    assert (
        "content-type"
        in expect(request, InvalidInput, policy).response_headers()["Signature-Error"]
    )


# invalid_key


@pytest.mark.parametrize(
    "signature_key",
    [
        f'sig=hwk;kty="OKP";crv="Ed25519";x="{X}";alg="Ed25519";kid="k1"',  # kid forbidden
        f'sig=hwk;kty="OKP";crv="Ed448";x="{X}";alg="Ed25519"',  # crv vs alg
        f'sig=hwk;kty="EC";crv="P-256";x="{X}";y="{X}";alg="Ed25519"',  # kty vs alg
        'sig=hwk;kty="OKP";crv="Ed25519";x="not base64!";alg="Ed25519"',  # bad x
        'sig=hwk;kty="OKP";crv="Ed25519";x="AAAA";alg="Ed25519"',  # short x
        'sig=hwk;kty="OKP";crv="Ed25519";alg="Ed25519"',  # no x
        f'sig=hwk;kty=OKP;crv="Ed25519";x="{X}";alg="Ed25519"',  # token, not string
    ],
)
def test_invalid_key(signature_key: str) -> None:
    expect(with_raw_key(signature_key), InvalidKey)


def test_keyid_naming_another_key_is_refused() -> None:
    """V-08: the key always comes from Signature-Key; a keyid must name that same key."""
    request = HttpRequest("GET", URI, {"Signature-Key": f"sig={HWK.serialize()}"})
    names = ["@method", "@authority", "@path", "signature-key"]
    wrong = request.with_headers(sign(request, KEY, names, created=NOW, keyid="someone-else"))
    expect(wrong, InvalidKey)
    right = jwk_thumbprint(HWK.jwk)
    verify_request(
        request.with_headers(sign(request, KEY, names, created=NOW, keyid=right)), HWK_POLICY
    )


# unsupported_algorithm, always with Accept-Signature-Alg


@pytest.mark.parametrize(
    "signature_key",
    [
        f'sig=hwk;kty="OKP";crv="Ed25519";x="{X}";alg="EdDSA"',
        f'sig=hwk;kty="OKP";crv="Ed25519";x="{X}"',
        f'sig=hwk;kty="OKP";crv="Ed25519";x="{X}";alg="HS256"',
        f'sig=hwk;kty="OKP";crv="Ed25519";x="{X}";alg="none"',
        'sig=hwk;kty="oct";k="c2VjcmV0";alg="HS256"',
        'sig=hwk;kty="AKP";alg="ML-DSA-44";pub="AAAA"',
    ],
)
def test_unsupported_algorithm(signature_key: str) -> None:
    exc = expect(with_raw_key(signature_key), UnsupportedAlgorithm)
    assert exc.response_headers() == {
        "Signature-Error": "error=unsupported_algorithm",
        "Accept-Signature-Alg": ", ".join(HWK_POLICY.accepted_algorithms),
    }


def test_an_algorithm_the_policy_does_not_accept() -> None:
    es384 = SigningKey.generate("ES384")
    policy = VerificationPolicy.generic(
        accepted_schemes=("hwk",), accepted_algorithms=("Ed25519", "ES256"), clock=lambda: NOW
    )
    request = signed(Hwk.from_public_key(es384.public_key()), key=es384)
    exc = expect(request, UnsupportedAlgorithm, policy)
    assert exc.response_headers()["Accept-Signature-Alg"] == "Ed25519, ES256"


# unsupported_scheme, always with Accept-Signature-Scheme


def test_an_unknown_selected_scheme() -> None:
    """V-09: an unregistered scheme is unsupported_scheme, never a scheme-specific error."""
    exc = expect(with_raw_key('sig=carrier-pigeon;loft="x"'), UnsupportedScheme)
    assert exc.response_headers() == {
        "Signature-Error": "error=unsupported_scheme",
        "Accept-Signature-Scheme": "hwk",
    }


def test_a_scheme_outside_the_policy() -> None:
    exc = expect(signed(), UnsupportedScheme, AAUTH_POLICY)
    assert exc.response_headers()["Accept-Signature-Scheme"] == "jwt"
    # A malformed member of a refused scheme still reports the refusal.
    malformed = with_raw_key('sig=x509;x5u="https://c.example/c.pem";x5t=:AAAA:')
    expect(malformed, UnsupportedScheme, HWK_POLICY)


def test_jwks_uri_without_a_resolver() -> None:
    policy = VerificationPolicy.generic(accepted_schemes=("hwk", "jwks_uri"), clock=lambda: NOW)
    member = JwksUri("https://agent.example", "aauth-agent.json", "k1")
    exc = expect(signed(member), UnsupportedScheme, policy)
    assert exc.response_headers()["Accept-Signature-Scheme"] == "hwk"


# unknown_key, issuer_missing, issuer_mismatch: a resolver over in-memory documents.

AGENT = "https://agent.example"
AGENT_KEY = SigningKey.generate("Ed25519")
METADATA = f"{AGENT}/.well-known/aauth-agent.json"
JWKS = f"{AGENT}/jwks.json"


class DocumentResolver:
    """Resolves jwks_uri members from documents held in memory (no network)."""

    def __init__(self, documents: dict[str, Any]) -> None:
        self.documents = documents

    def resolve(self, member: SignatureKeyMember) -> ResolvedKey:
        if not isinstance(member, JwksUri):
            raise UnsupportedScheme(f"{member.scheme} is not resolved here")
        metadata = self.documents.get(f"{member.id}/.well-known/{member.dwk}")
        jwks_uri = check_discovery_document(metadata, member.id)
        key, jwk = select_jwk(self.documents.get(jwks_uri), member.kid)
        return ResolvedKey(key, member, jwk, jwk_thumbprint(jwk), signer=member.id)


def _documents(**metadata: Any) -> dict[str, Any]:
    broken = {"kty": "OKP", "kid": "broken", "alg": "EdDSA", "x": "AA"}
    good = jwk_from_public_key(AGENT_KEY.public_key(), kid="k1")
    return {
        METADATA: {"issuer": AGENT, "jwks_uri": JWKS, **metadata},
        JWKS: {"keys": [broken, good]},
    }


JWKS_POLICY = VerificationPolicy.generic(accepted_schemes=("jwks_uri",), clock=lambda: NOW)


def _jwks_request(kid: str = "k1") -> HttpRequest:
    return signed(JwksUri(AGENT, "aauth-agent.json", kid), key=AGENT_KEY)


def test_jwks_uri_resolves_by_kid_only() -> None:
    """V-24: another, unusable JWKS member does not get in the way."""
    verified = verify_request(_jwks_request(), JWKS_POLICY, DocumentResolver(_documents()))
    assert verified.signer == AGENT


def test_unknown_key() -> None:
    expect(_jwks_request("k2"), UnknownKey, JWKS_POLICY, DocumentResolver(_documents()))


def test_issuer_missing() -> None:
    documents = _documents()
    del documents[METADATA]["issuer"]
    expect(_jwks_request(), IssuerMissing, JWKS_POLICY, DocumentResolver(documents))


def test_issuer_mismatch() -> None:
    documents = _documents(issuer=AGENT + "/")
    expect(_jwks_request(), IssuerMismatch, JWKS_POLICY, DocumentResolver(documents))


def test_errors_from_a_resolver_get_the_accept_lists() -> None:
    class Refusing:
        def resolve(self, member: SignatureKeyMember) -> ResolvedKey:
            raise UnsupportedAlgorithm("the JWKS key is EdDSA")

    exc = expect(_jwks_request(), UnsupportedAlgorithm, JWKS_POLICY, Refusing())
    assert (
        exc.response_headers()["Accept-Signature-Alg"]
        == "Ed25519, ES256, ES384, PS256, PS384, PS512, RS256, RS384, RS512"
    )


# invalid_jwt and expired_jwt, through the jkt-jwt scheme.

ENCLAVE = SigningKey.generate("ES256")
ENCLAVE_JWK = jwk_from_public_key(ENCLAVE.public_key())
JKT_POLICY = VerificationPolicy.generic(accepted_schemes=("jkt-jwt",), clock=lambda: NOW)


def _jkt_claims(**overrides: Any) -> dict[str, Any]:
    claims = {
        "iss": f"urn:jkt:sha-256:{jwk_thumbprint(ENCLAVE_JWK)}",
        "iat": NOW - 10,
        "exp": NOW + 300,
        "cnf": {"jwk": jwk_from_public_key(KEY.public_key())},
    }
    claims.update(overrides)
    return claims


def _jkt_header(**overrides: Any) -> dict[str, Any]:
    return {"typ": "jkt-s256+jwt", "alg": "ES256", "jwk": ENCLAVE_JWK, **overrides}


def test_jkt_jwt_resolves_to_the_cnf_key(make_jwt: MakeJwt) -> None:
    token = make_jwt(ENCLAVE, _jkt_header(), _jkt_claims())
    verified = verify_request(signed(JktJwt(token)), JKT_POLICY)
    assert verified.scheme == "jkt-jwt"
    assert verified.signer == f"urn:jkt:sha-256:{jwk_thumbprint(ENCLAVE_JWK)}"
    assert verified.thumbprint == jwk_thumbprint(HWK.jwk)


@pytest.mark.parametrize(
    "case",
    [
        "garbage",
        "wrong-typ",
        "iss-not-thumbprint",
        "bad-jws",
        "polymorphic-alg",
        "no-exp",
        "iat-in-future",
        "no-cnf",
        "cache-without-jti",
    ],
)
def test_invalid_jwt(make_jwt: MakeJwt, case: str) -> None:
    token = make_jwt(ENCLAVE, _jkt_header(), _jkt_claims())
    cache = False
    if case == "garbage":
        token = "not.a.jwt"
    elif case == "wrong-typ":
        token = make_jwt(ENCLAVE, _jkt_header(typ="JWT"), _jkt_claims())
    elif case == "iss-not-thumbprint":
        token = make_jwt(ENCLAVE, _jkt_header(), _jkt_claims(iss="urn:jkt:sha-256:x"))
    elif case == "bad-jws":
        token = token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB")
    elif case == "polymorphic-alg":
        token = make_jwt(ENCLAVE, _jkt_header(alg="EdDSA"), _jkt_claims())
    elif case == "no-exp":
        claims = _jkt_claims()
        del claims["exp"]
        token = make_jwt(ENCLAVE, _jkt_header(), claims)
    elif case == "iat-in-future":
        token = make_jwt(ENCLAVE, _jkt_header(), _jkt_claims(iat=NOW + 600))
    elif case == "no-cnf":
        token = make_jwt(ENCLAVE, _jkt_header(), _jkt_claims(cnf={}))
    else:
        cache = True
    expect(signed(JktJwt(token, cache=cache)), InvalidJWT, JKT_POLICY)


def test_expired_jwt(make_jwt: MakeJwt) -> None:
    token = make_jwt(ENCLAVE, _jkt_header(), _jkt_claims(exp=NOW - 61))
    expect(signed(JktJwt(token)), ExpiredJWT, JKT_POLICY)


# cache_miss


def test_cache_miss() -> None:
    class EmptyCache:
        def resolve(self, member: SignatureKeyMember) -> ResolvedKey:
            assert isinstance(member, Cached)
            raise CacheMiss(f"no cached assertion {member.cid!r}")

    policy = VerificationPolicy.generic(accepted_schemes=("jwt", "cached"), clock=lambda: NOW)
    exc = expect(signed(Cached("c-123")), CacheMiss, policy, EmptyCache())
    assert exc.response_headers() == {"Signature-Error": "error=cache_miss"}
