"""What ``verify_request``/``averify_request`` accept, beyond the error codes: selection among
several signatures, ignored members and parameters, responses, caching, the async driver."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import replace

import pytest
from aauth_signing import (
    Component,
    HttpRequest,
    HttpResponse,
    Hwk,
    InvalidInput,
    InvalidSignature,
    JwksUri,
    ResolvedKey,
    SignatureKeyHeader,
    SignatureKeyMember,
    SignatureParams,
    SigningKey,
    UnsupportedAlgorithm,
    UnsupportedScheme,
    VerificationPolicy,
    averify_request,
    content_digest,
    jwk_from_public_key,
    jwk_thumbprint,
    sign,
    sign_request,
    signature_base,
    verify,
    verify_request,
)

NOW = 1_767_225_600
URI = "https://api.example/items?page=2"
ALICE = SigningKey.generate("Ed25519")
BOB = SigningKey.generate("ES256")
ALICE_HWK = Hwk.from_public_key(ALICE.public_key())
BOB_HWK = Hwk.from_public_key(BOB.public_key())
HWK_POLICY = VerificationPolicy.generic(accepted_schemes=("hwk",), clock=lambda: NOW)
COVERED = ["@method", "@authority", "@path", "@query", "signature-key"]


def signed(member: SignatureKeyMember = ALICE_HWK, key: SigningKey = ALICE) -> HttpRequest:
    request = HttpRequest("GET", URI)
    return request.with_headers(sign_request(request, key, member, created=NOW))


def test_an_unselected_member_with_an_unknown_scheme_is_ignored() -> None:
    """V-10."""
    key_header = f'sig={ALICE_HWK.serialize()}, other=carrier-pigeon;loft="x", bad="zz"'
    request = HttpRequest("GET", URI, {"Signature-Key": key_header})
    request = request.with_headers(sign(request, ALICE, COVERED, created=NOW))
    assert verify_request(request, HWK_POLICY).thumbprint == jwk_thumbprint(ALICE_HWK.jwk)
    assert SignatureKeyHeader.parse(key_header).labels == ["sig", "other", "bad"]


def _with_alg_parameter(alg: str) -> HttpRequest:
    request = HttpRequest("GET", URI, {"Signature-Key": f"sig={ALICE_HWK.serialize()}"})
    params = SignatureParams(tuple(Component(n) for n in COVERED), (("created", NOW), ("alg", alg)))
    signature = ALICE.sign(signature_base(request, params))
    return request.with_headers(
        {
            "Signature-Input": f"sig={params.serialize()}",
            "Signature": f"sig=:{base64.b64encode(signature).decode()}:",
        }
    )


def test_the_alg_parameter_is_ignored_under_the_aauth_profile() -> None:
    """V-07: the algorithm comes from the key, never from the wire."""
    aauth = VerificationPolicy.aauth(accepted_schemes=("hwk",), clock=lambda: NOW)
    for alg in ("rsa-pss-sha512", "hmac-sha256", "ed25519"):
        verified = verify_request(_with_alg_parameter(alg), aauth)
        assert verified.key.algorithm.jose == "Ed25519"
    # A generic -08 verifier checks it against the key instead.
    verify_request(_with_alg_parameter("ed25519"), HWK_POLICY)
    with pytest.raises(InvalidSignature):
        verify_request(_with_alg_parameter("rsa-pss-sha512"), HWK_POLICY)


def _two_signatures() -> HttpRequest:
    """Two signers; the complete Signature-Key is in place before either signs."""
    key_header = SignatureKeyHeader.serialize({"alice": ALICE_HWK, "bob": BOB_HWK})
    request = HttpRequest("GET", URI, {"Signature-Key": key_header})
    request = request.with_headers(
        sign(request, ALICE, COVERED, label="alice", created=NOW, tag="first")
    )
    return request.with_headers(sign(request, BOB, COVERED, label="bob", created=NOW, tag="second"))


def test_several_signatures_are_selected_by_label_or_tag() -> None:
    request = _two_signatures()
    assert "alice=" in (request.headers.get("signature") or "")
    by_default = verify_request(request, HWK_POLICY)
    assert (by_default.label, by_default.thumbprint) == ("alice", jwk_thumbprint(ALICE_HWK.jwk))
    by_label = verify_request(request, replace(HWK_POLICY, label="bob"))
    assert (by_label.label, by_label.thumbprint) == ("bob", jwk_thumbprint(BOB_HWK.jwk))
    assert verify_request(request, replace(HWK_POLICY, tag="second")).label == "bob"
    with pytest.raises(InvalidSignature):
        verify_request(request, replace(HWK_POLICY, label="carol"))
    with pytest.raises(InvalidSignature):
        verify_request(request, replace(HWK_POLICY, tag="third"))


def test_the_default_label_is_one_with_a_signature_key_member() -> None:
    key_header = SignatureKeyHeader.serialize({"bob": BOB_HWK})
    request = HttpRequest("GET", URI, {"Signature-Key": key_header})
    request = request.with_headers(sign(request, ALICE, COVERED, label="alice", created=NOW))
    request = request.with_headers(sign(request, BOB, COVERED, label="bob", created=NOW))
    assert verify_request(request, HWK_POLICY).label == "bob"
    orphan = HttpRequest("GET", URI, {"Signature-Key": "zed=" + BOB_HWK.serialize()})
    orphan = orphan.with_headers(sign(orphan, ALICE, COVERED, label="a", created=NOW))
    orphan = orphan.with_headers(sign(orphan, ALICE, COVERED, label="b", created=NOW))
    with pytest.raises(InvalidSignature):
        verify_request(orphan, HWK_POLICY)


def test_a_signature_made_over_another_key_fails() -> None:
    swapped = signed().with_headers({"Signature-Key": f"sig={BOB_HWK.serialize()}"})
    with pytest.raises(InvalidSignature):
        verify_request(swapped, HWK_POLICY)


def test_noncanonical_signature_input_is_verified_over_its_canonical_form() -> None:
    request = signed()
    text = request.headers.get("signature-input") or ""
    spaced = request.with_headers({"Signature-Input": text.replace(";created", "; created")})
    assert verify_request(spaced, HWK_POLICY).created == NOW


def test_signature_headers_split_over_several_lines() -> None:
    request = _two_signatures()
    lines = [
        (k, v) for k, v in request.headers.items() if k not in ("Signature", "Signature-Input")
    ]
    for name in ("Signature-Input", "Signature"):
        lines.extend(
            (name, member) for member in (request.headers.get(name.lower()) or "").split(", ")
        )
    split = HttpRequest("GET", URI, lines)
    assert verify_request(split, replace(HWK_POLICY, label="bob")).label == "bob"


def test_verified_signature_reports_what_was_checked() -> None:
    verified = verify_request(signed(), HWK_POLICY)
    assert verified.covered == frozenset(COVERED)
    assert verified.created == NOW
    assert verified.scheme == "hwk"
    assert verified.signer is None
    assert verified.claims is None
    assert len(verified.signature) == 64


def test_the_hwk_cache_never_bypasses_the_policy() -> None:
    request = signed()
    verify_request(request, HWK_POLICY)  # resolved and cached
    with pytest.raises(UnsupportedScheme):
        verify_request(request, VerificationPolicy.aauth(clock=lambda: NOW))
    with pytest.raises(InvalidSignature):
        verify_request(request, replace(HWK_POLICY, clock=lambda: NOW + 3600))
    es_only = replace(HWK_POLICY, accepted_algorithms=("ES256",))
    with pytest.raises(UnsupportedAlgorithm):
        verify_request(request, es_only)


def test_legacy_hwk_without_alg_is_opt_in() -> None:
    legacy = Hwk({k: v for k, v in ALICE_HWK.jwk.items() if k != "alg"})
    request = signed(legacy)
    with pytest.raises(UnsupportedAlgorithm, match="no 'alg'"):
        verify_request(request, HWK_POLICY)
    assert verify_request(request, replace(HWK_POLICY, allow_legacy_keys=True)).scheme == "hwk"


def test_a_post_with_body_verifies_with_its_digest() -> None:
    request = HttpRequest("POST", URI, {"Content-Type": "application/json"}, b'{"q": 1}')
    request = request.with_headers(sign_request(request, ALICE, ALICE_HWK, created=NOW))
    verified = verify_request(request, HWK_POLICY)
    assert {"content-digest", "content-type"} <= verified.covered


def test_response_signing_binds_the_request() -> None:
    request = signed()
    body = b'{"ok": true}'
    headers = {"Content-Type": "application/json", "Content-Digest": content_digest(body)}
    response = HttpResponse(200, headers, body, request=request)
    components = [
        "@status",
        "content-type",
        "content-digest",
        '"@method";req',
        '"@authority";req',
        '"signature";req;key="sig"',
    ]
    response = response.with_headers(sign(response, BOB, components, label="res", created=NOW))
    verified = verify(response, BOB.public_key())
    assert verified.label == "res"
    other = replace(response, request=signed(BOB_HWK, BOB))  # a different request signature
    with pytest.raises(InvalidSignature):
        verify(other, BOB.public_key())
    with pytest.raises(InvalidSignature):
        verify(replace(response, body=b'{"ok": false}'), BOB.public_key())


AGENT = "https://agent.example"
AGENT_KEY = SigningKey.generate("Ed25519")


class AsyncResolver:
    """An asynchronous jwks_uri resolver over an in-memory JWKS."""

    def __init__(self) -> None:
        self.calls = 0

    async def resolve(self, member: SignatureKeyMember) -> ResolvedKey:
        self.calls += 1
        await asyncio.sleep(0)
        assert isinstance(member, JwksUri)
        jwk = jwk_from_public_key(AGENT_KEY.public_key(), kid=member.kid)
        return ResolvedKey(AGENT_KEY.public_key(), member, jwk, jwk_thumbprint(jwk), member.id)


def test_averify_request_with_an_async_resolver() -> None:
    policy = VerificationPolicy.generic(accepted_schemes=("jwks_uri", "hwk"), clock=lambda: NOW)
    identified = signed(JwksUri(AGENT, "aauth-agent.json", "k1"), AGENT_KEY)
    resolver = AsyncResolver()
    verified = asyncio.run(averify_request(identified, policy, resolver))
    assert (verified.signer, verified.scheme, resolver.calls) == (AGENT, "jwks_uri", 1)
    # hwk resolves locally: the resolver is not consulted.
    assert asyncio.run(averify_request(signed(), policy, resolver)).scheme == "hwk"
    assert resolver.calls == 1
    with pytest.raises(UnsupportedScheme):
        asyncio.run(averify_request(identified, policy))
    with pytest.raises(InvalidSignature):
        asyncio.run(
            averify_request(
                signed(JwksUri(AGENT, "aauth-agent.json", "k1"), ALICE), policy, resolver
            )
        )


@pytest.mark.parametrize(
    "value",
    [
        "sig=:",
        "sig=::",
        "sig=:!!!!:",
        "sig=:{good}:, other=:{good}:",
        "other=:{good}:",
        "sig=:{good}",
        "sig=:{good}:x:",
        "sig=:{bad}:",
    ],
)
def test_the_cached_plan_reads_odd_signature_values_like_the_parser(value: str) -> None:
    """Once a Signature-Input text has its plan, the Signature value is still read strictly:
    only the canonical one-member form is decoded directly; everything else fails closed."""
    request = signed()
    verify_request(request, HWK_POLICY)  # the plan for this Signature-Input now exists
    good = request.headers.get("signature") or ""
    encoded = good.split(":")[1]
    bad = base64.b64encode(bytes(64)).decode("ascii")
    odd = request.with_headers({"Signature": value.format(good=encoded, bad=bad)})
    with pytest.raises(InvalidSignature):
        verify_request(odd, HWK_POLICY)


def test_the_cached_plan_never_skips_the_conditional_coverage() -> None:
    """A plan made for a request without Authorization still refuses one that carries it."""
    request = signed()
    verify_request(request, HWK_POLICY)
    with_authorization = request.with_headers({"Authorization": "AAuth token"})
    with pytest.raises(InvalidInput, match="authorization"):
        verify_request(with_authorization, HWK_POLICY)
