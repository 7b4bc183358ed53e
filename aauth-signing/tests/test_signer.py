"""Signing: the AAuth component choice, no mutation of the caller's request, and the
``RequestSigner`` fast path producing exactly what ``sign_request`` produces."""

from __future__ import annotations

from typing import Any

import pytest
from aauth_signing import (
    Fields,
    HttpRequest,
    Hwk,
    InvalidSignature,
    Jwt,
    RequestSigner,
    SigningKey,
    VerificationPolicy,
    aauth_components,
    parse_signature_input,
    sign,
    sign_request,
    verify_request,
)
from aauth_signing import signer as signer_module

NOW = 1_767_225_600
KEY = SigningKey.generate("Ed25519")
HWK = Hwk.from_public_key(KEY.public_key())
POLICY = VerificationPolicy.generic(accepted_schemes=("hwk",), clock=lambda: NOW)


@pytest.fixture
def frozen_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fixed clock and a fixed nonce, so two signatures of one request are identical."""
    monkeypatch.setattr(signer_module.time, "time", lambda: NOW + 0.75)
    monkeypatch.setattr(signer_module.secrets, "token_urlsafe", lambda size: "fixed-nonce")


def test_sign_request_does_not_mutate_its_input() -> None:
    headers = {"Content-Type": "application/json", "Authorization": "AAuth abc"}
    request = HttpRequest("POST", "https://api.example/x?y=1", headers, b"{}")
    before = request.headers.items()
    added = sign_request(request, KEY, HWK, created=NOW)
    assert request.headers.items() == before
    assert headers == {"Content-Type": "application/json", "Authorization": "AAuth abc"}
    assert set(added) == {"Signature-Key", "Content-Digest", "Signature-Input", "Signature"}
    verify_request(request.with_headers(added), POLICY)


def test_aauth_components() -> None:
    get = HttpRequest("GET", "https://api.example/x")
    assert aauth_components(get) == ["@method", "@authority", "@path", "signature-key"]
    post = HttpRequest(
        "POST",
        "https://api.example/x?y=1",
        {"Content-Type": "text/plain", "Authorization": "AAuth t", "AAuth-Mission": "m=1"},
        b"hi",
    )
    assert aauth_components(post, ["prefer", "signature-key", "@method"]) == [
        "@method",
        "@authority",
        "@path",
        "@query",
        "content-type",
        "content-digest",
        "authorization",
        "aauth-mission",
        "prefer",
        "signature-key",
    ]
    assert aauth_components(HttpRequest("GET", "https://api.example/x?")) == [
        "@method",
        "@authority",
        "@path",
        "signature-key",
    ]


def test_sign_request_component_override_and_existing_digest() -> None:
    request = HttpRequest("POST", "https://a.example/", {"Content-Digest": "sha-512=:AA==:"}, b"x")
    added = sign_request(request, KEY, HWK, components=["@method", "signature-key"], created=NOW)
    assert "Content-Digest" not in added  # the caller's digest is kept, never replaced
    params, _ = parse_signature_input(added["Signature-Input"])["sig"]
    assert [c.name for c in params.components] == ["@method", "signature-key"]


def test_sign_adds_labels_and_refuses_to_reuse_one() -> None:
    request = HttpRequest("GET", "https://a.example/")
    first = request.with_headers(sign(request, KEY, ["@method"], label="one", created=NOW))
    both = sign(first, KEY, ["@path"], label="two", created=NOW)
    assert set(parse_signature_input(both["Signature-Input"])) == {"one", "two"}
    assert both["Signature"].startswith("one=:")
    with pytest.raises(InvalidSignature):
        sign(first, KEY, ["@path"], label="one")


def test_sign_parameters(rfc9421: dict[str, Any]) -> None:
    request = HttpRequest("GET", "https://a.example/")
    added = sign(
        request,
        KEY,
        ["@method"],
        created=-1,
        expires=NOW + 5,
        nonce="n",
        keyid="k",
        tag="t",
        include_alg=True,
    )
    assert added["Signature-Input"] == (
        'sig=("@method");expires=1767225605;nonce="n";alg="ed25519";keyid="k";tag="t"'
    )
    pem = rfc9421["keys"]["test-key-rsa-pss"]["private_key_pem"].encode("ascii")
    with pytest.raises(ValueError, match="RFC 9421"):  # PS256 has no RFC 9421 name
        sign(request, SigningKey.from_pem(pem, "PS256"), ["@method"], include_alg=True)


def test_signing_an_unresolvable_component_is_an_error() -> None:
    with pytest.raises(InvalidSignature):
        sign(HttpRequest("GET", "https://a.example/"), KEY, ["content-type"])


@pytest.mark.usefixtures("frozen_time")
@pytest.mark.parametrize(
    ("method", "uri", "headers", "body"),
    [
        ("GET", "https://api.example/items/1", None, None),  # fast path
        ("DELETE", "https://API.example:443/", {"Accept": "application/json"}, None),  # fast
        ("GET", "https://api.example/items?page=2", None, None),  # query
        ("POST", "https://api.example/items", {"Content-Type": "application/json"}, b"{}"),
        ("GET", "https://api.example/items", {"Authorization": "AAuth tok"}, None),
        ("GET", "https://api.example/items", {"AAuth-Mission": 'mission="m"'}, None),
        ("GET", "https://api.example/caf\u00e9", None, None),  # not visible ASCII: slow path
    ],
)
def test_request_signer_matches_sign_request(
    method: str, uri: str, headers: dict[str, str] | None, body: bytes | None
) -> None:
    signer = RequestSigner(KEY, HWK)
    original = dict(headers or {})
    request = HttpRequest(method, uri, headers or {}, body)
    if uri.isascii():
        fast = signer.sign(method, uri, headers, body)
        assert fast == sign_request(request, KEY, HWK)
        params = parse_signature_input(fast["Signature-Input"])["sig"][0]
        assert params.created == NOW
        assert params.nonce == (None if method == "GET" else "fixed-nonce")
        verify_request(request.with_headers(fast), POLICY)
    else:
        with pytest.raises(InvalidSignature):
            signer.sign(method, uri, headers, body)
    assert (headers or {}) == original


@pytest.mark.usefixtures("frozen_time")
def test_request_signer_merges_with_an_existing_signature() -> None:
    """A request that already carries a signature takes the merging (slow) path."""
    other = SigningKey.generate("Ed25519")
    base = HttpRequest("GET", "https://api.example/x")
    earlier = sign(base, other, ["@method"], label="proxy", created=NOW)
    signer = RequestSigner(KEY, HWK)
    added = signer.sign("GET", "https://api.example/x", earlier)
    assert added == sign_request(base.with_headers(earlier), KEY, HWK)
    assert added["Signature"].startswith("proxy=:")
    assert set(parse_signature_input(added["Signature-Input"])) == {"proxy", "sig"}


def test_request_signer_accepts_fields_and_exposes_its_header() -> None:
    signer = RequestSigner(KEY, Jwt("eyJ.e30.sig"), label="agent")
    assert signer.signature_key == 'agent=jwt;jwt="eyJ.e30.sig"'
    added = signer.sign("GET", "https://api.example/", Fields([("Accept", "*/*")]))
    assert added["Signature-Key"] == signer.signature_key
    assert added["Signature-Input"].startswith(
        'agent=("@method" "@authority" "@path" "signature-key")'
    )


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "PROPFIND", "post"])
@pytest.mark.parametrize("body", [None, b"{}"])
def test_unsafe_methods_get_a_fresh_covered_nonce(method: str, body: bytes | None) -> None:
    """Two identical unsafe requests in one second get different signature bases (issue 9 #7),
    on the fast path (no body) and through sign_request (body) alike."""
    signer = RequestSigner(KEY, HWK)
    first = signer.sign(method, "https://api.example/items", None, body)
    second = signer.sign(method, "https://api.example/items", None, body)
    nonces = [parse_signature_input(h["Signature-Input"])["sig"][0].nonce for h in (first, second)]
    assert None not in nonces
    assert nonces[0] != nonces[1]
    assert len(nonces[0] or "") == 22  # 128 bits, base64url
    request = HttpRequest(method, "https://api.example/items", {}, body)
    verify_request(request.with_headers(first), POLICY.generic(accepted_schemes=("hwk",)))


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "get"])
def test_safe_methods_carry_no_nonce(method: str) -> None:
    added = RequestSigner(KEY, HWK).sign(method, "https://api.example/items")
    assert "nonce" not in added["Signature-Input"]
    request = HttpRequest(method, "https://api.example/items")
    assert "nonce" not in sign_request(request, KEY, HWK)["Signature-Input"]


def test_sign_request_takes_an_explicit_nonce() -> None:
    request = HttpRequest("POST", "https://api.example/items", {}, b"{}")
    added = sign_request(request, KEY, HWK, created=NOW, nonce="chosen")
    assert added["Signature-Input"].endswith(';created=1767225600;nonce="chosen"')
