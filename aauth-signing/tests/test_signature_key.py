"""The ``Signature-Key`` header (signature-key-08 §2): each scheme parses from and serializes
to one member, and the AAuth profile example of SIGNATURE-KEY.md §7.2 reproduces exactly."""

from __future__ import annotations

import base64

import pytest
from aauth_signing import (
    SCHEMES,
    X509,
    Cached,
    HttpRequest,
    Hwk,
    InvalidKey,
    InvalidSignature,
    IssuerMismatch,
    JktJwt,
    Jwks,
    JwksUri,
    Jwt,
    SignatureKeyHeader,
    SigningKey,
    UnknownScheme,
    UnsupportedAlgorithm,
    UnsupportedScheme,
    VerificationPolicy,
    check_discovery_document,
    jwk_thumbprint,
    parse_signature_input,
    resolve_locally,
    select_jwk,
    sign_request,
    signature_base,
    verify_request,
)

# SIGNATURE-KEY.md §7.2, computed with the RFC 9421 B.1.4 Ed25519 test key.
ED25519_PEM = (
    b"-----BEGIN PRIVATE KEY-----\n"
    b"MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n"
    b"-----END PRIVATE KEY-----\n"
)
X = "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs"
EXAMPLE_KEY = f'sig=hwk;kty="OKP";crv="Ed25519";x="{X}";alg="Ed25519"'
EXAMPLE_INPUT = 'sig=("@method" "@authority" "@path" "@query" "signature-key");created=1730217600'
EXAMPLE_BASE = (
    '"@method": GET\n'
    '"@authority": resource.example\n'
    '"@path": /api/data\n'
    '"@query": ?x=1\n'
    f'"signature-key": {EXAMPLE_KEY}\n'
    '"@signature-params": ("@method" "@authority" "@path" "@query" "signature-key")'
    ";created=1730217600"
)
EXAMPLE_SIGNATURE = (
    "sig=:pDsyGZnutjUELNFKO8DIRyEsWNGb/jsWZBooIkVBhlQqEHx4YsSwTzCLHvY000CXCK0bmDvBCCLTbE+4K6KkDQ==:"
)
EXAMPLE_THUMBPRINT = "poqkLGiymh_W0uP6PZFw-dvez3QJT5SolqXBCW38r0U"


def test_aauth_profile_example_is_reproduced() -> None:
    key = SigningKey.from_pem(ED25519_PEM, "Ed25519")
    member = Hwk.from_public_key(key.public_key())
    request = HttpRequest("GET", "https://resource.example/api/data?x=1")
    added = sign_request(request, key, member, created=1730217600)
    assert added == {
        "Signature-Key": EXAMPLE_KEY,
        "Signature-Input": EXAMPLE_INPUT,
        "Signature": EXAMPLE_SIGNATURE,
    }
    params, serialized = parse_signature_input(EXAMPLE_INPUT)["sig"]
    signed = request.with_headers(added)
    assert signature_base(signed, params, serialized) == EXAMPLE_BASE.encode("ascii")
    policy = VerificationPolicy.generic(accepted_schemes=("hwk",), clock=lambda: 1730217600)
    verified = verify_request(signed, policy)
    assert verified.thumbprint == EXAMPLE_THUMBPRINT
    assert jwk_thumbprint(member.jwk) == EXAMPLE_THUMBPRINT


@pytest.mark.parametrize(
    ("member", "text"),
    [
        (Hwk({"kty": "OKP", "crv": "Ed25519", "x": X, "alg": "Ed25519"}), EXAMPLE_KEY[4:]),
        (Jwt("eyJ.e30.c2ln"), 'jwt;jwt="eyJ.e30.c2ln"'),
        (Jwt("eyJ.e30.c2ln", cache=True), 'jwt;jwt="eyJ.e30.c2ln";cache'),
        (JktJwt("eyJ.e30.c2ln", cache=True), 'jkt-jwt;jwt="eyJ.e30.c2ln";cache'),
        (
            JwksUri("https://ps.example", "aauth-person.json", "ps-2026-09"),
            'jwks_uri;id="https://ps.example";dwk="aauth-person.json";kid="ps-2026-09"',
        ),
        (
            Jwks("https://a.example/jwks.json", "k1"),
            'jwks;url="https://a.example/jwks.json";kid="k1"',
        ),
        (
            X509(
                "https://c.example/cert.pem",
                base64.b64decode("bWcoon4QTVn8Q6xiY0ekMD6L8bNLMkuDV2KtvsFc1nM="),
            ),
            'x509;x5u="https://c.example/cert.pem";x5t=:bWcoon4QTVn8Q6xiY0ekMD6L8bNLMkuDV2KtvsFc1nM=:',
        ),
        (Cached("c-123"), 'cached;cid="c-123"'),
    ],
)
def test_members_round_trip(member: object, text: str) -> None:
    assert member.serialize() == text  # type: ignore[attr-defined]
    assert SignatureKeyHeader.parse(f"sig={text}").member("sig") == member


def test_the_registry_holds_every_scheme() -> None:
    assert set(SCHEMES) == {"hwk", "jkt-jwt", "jwks_uri", "jwks", "jwt", "x509", "cached"}


def test_a_header_with_several_members() -> None:
    text = SignatureKeyHeader.serialize(
        {"sig1": Jwt("a.b.c"), "sig2": JwksUri("https://a.example", "aauth-agent.json", "k1")}
    )
    assert text == (
        'sig1=jwt;jwt="a.b.c", sig2=jwks_uri;id="https://a.example";dwk="aauth-agent.json";kid="k1"'
    )
    header = SignatureKeyHeader.parse(text)
    assert header.labels == ["sig1", "sig2"]
    assert header.member("sig2") == JwksUri("https://a.example", "aauth-agent.json", "k1")


def test_unknown_schemes_are_kept_until_selected() -> None:
    header = SignatureKeyHeader.parse('sig=future;level=3;name="n";flag, tok=future;t=abc')
    member = header.member("sig")
    assert isinstance(member, UnknownScheme)
    assert member.serialize() == 'future;level=3;name="n";flag'
    assert header.member("tok").serialize() == "future;t=abc"
    with pytest.raises(UnsupportedScheme):
        header.member("sig", accepted=("hwk",))


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('sig=hwk;kty="OKP";crv="Ed25519"', InvalidKey),  # no x
        (f'sig=hwk;kty="OKP";crv="Ed25519";x="{X}";kid="k"', InvalidKey),
        ('sig=hwk;kty="oct";k="AA"', UnsupportedAlgorithm),
        ("sig=jwt", InvalidKey),
        ('sig=jwt;jwt="a.b.c";cache="yes"', InvalidKey),
        ('sig=jwks_uri;id="https://a.example";dwk="d"', InvalidKey),
        ('sig=x509;x5u="https://c.example";x5t=:AAAA:', InvalidKey),  # x5t is 32 bytes
        ("sig=cached;cid=123", InvalidKey),
        ("sig=(hwk)", InvalidSignature),  # legacy inner-list form
        ('sig="hwk"', InvalidSignature),
        ("other=hwk", InvalidSignature),  # no member for the label
    ],
)
def test_malformed_members(text: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        SignatureKeyHeader.parse(text).member("sig")


@pytest.mark.parametrize("text", ["sig=hwk;", "sig", "=x", "sig=hwk, ", "sig=\u00e9"])
def test_malformed_headers(text: str) -> None:
    with pytest.raises(InvalidSignature):
        SignatureKeyHeader.parse(text).member("sig")


def test_only_local_schemes_resolve_locally() -> None:
    member = SignatureKeyHeader.parse(EXAMPLE_KEY).member("sig")
    resolved = resolve_locally(member)
    assert resolved is not None
    assert resolved.thumbprint == EXAMPLE_THUMBPRINT
    assert resolved.signer is None
    assert resolved.scheme == "hwk"
    for other in (Jwt("a.b.c"), JwksUri("https://a.example", "d", "k"), Cached("c")):
        assert resolve_locally(other) is None


def test_discovery_document_checks() -> None:
    doc = {"issuer": "https://a.example", "jwks_uri": "https://a.example/jwks.json"}
    assert check_discovery_document(doc, "https://a.example") == "https://a.example/jwks.json"
    with pytest.raises(InvalidKey):
        check_discovery_document(["not", "an", "object"], "https://a.example")
    with pytest.raises(InvalidKey):
        check_discovery_document({"issuer": "https://a.example"}, "https://a.example")
    # Byte equality: no normalisation of case or trailing slash (V-22, V-29).
    for issuer in ("https://A.example", "https://a.example/"):
        with pytest.raises(IssuerMismatch):
            check_discovery_document({**doc, "issuer": issuer}, "https://a.example")


def test_select_jwk_needs_a_jwks() -> None:
    for jwks in (None, {}, {"keys": "x"}, [1]):
        with pytest.raises(InvalidKey):
            select_jwk(jwks, "k1")


def test_unknown_scheme_keeps_its_parameters() -> None:
    from aauth_signing import SignatureKeyHeader, UnknownScheme

    member = SignatureKeyHeader.parse('sig=future;a="1";b').member("sig")
    assert isinstance(member, UnknownScheme)
    assert member.params() == (("a", "1"), ("b", True))
    assert member.serialize() == 'future;a="1";b'
