"""RFC 9421 Appendix B (and the §2.4 request/response example) as published vectors.

Every case rebuilds its signature base byte for byte, verifies the published signature, and
fails once any single covered component changes by one byte (the negative control).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from aauth_signing import (
    Component,
    HttpRequest,
    HttpResponse,
    InvalidSignature,
    SigningKey,
    VerificationPolicy,
    VerifyingKey,
    jwk_from_public_key,
    parse_signature_input,
    sign,
    signature_base,
    verify,
)
from cryptography.hazmat.primitives import serialization

CASE_IDS = ["sig-b21", "sig-b22", "sig-b23", "sig-b24", "sig-b25", "sig-b26"]

Message = HttpRequest | HttpResponse


def _case(rfc9421: dict[str, Any], case_id: str) -> dict[str, Any]:
    case: dict[str, Any] = next(c for c in rfc9421["cases"] if c["id"] == case_id)
    return case


def _message(
    case: dict[str, Any], request: HttpRequest, response: HttpResponse
) -> HttpRequest | HttpResponse:
    return request if case["message"] == "request" else response


def _signed(message: Message, case: dict[str, Any]) -> Message:
    return message.with_headers(
        {"Signature-Input": case["signature_input_header"], "Signature": case["signature_header"]}
    )


def _flip(text: str) -> str:
    """``text`` with its last character replaced: a one-byte change."""
    return text[:-1] + ("a" if text[-1] != "a" else "b")


def _with_field(message: Message, name: str, value: str) -> Message:
    return message.with_headers({name: value})


def _tamper(message: Message, component: Component) -> Message:
    """``message`` with the value of ``component`` changed by one byte."""
    name = component.name
    if isinstance(message, HttpResponse):
        if name == "@status":
            return HttpResponse(message.status + 1, message.headers, message.body)
        if name == "content-digest":
            body = (message.body or b"") + b" "
            digest = base64.b64encode(hashlib.sha512(body).digest()).decode()
            return HttpResponse(
                message.status,
                message.headers.merged({"Content-Digest": f"sha-512=:{digest}:"}),
                body,
            )
        return _with_field(message, name, _flip(message.headers.get(name) or ""))
    if name == "@method":
        return HttpRequest(_flip(message.method), message.target_uri, message.headers, message.body)
    if name == "@authority":
        uri = message.target_uri.replace("example.com", "example.con")
        return HttpRequest(message.method, uri, message.headers, message.body)
    if name == "@path":
        uri = message.target_uri.replace("/foo", "/fop")
        return HttpRequest(message.method, uri, message.headers, message.body)
    if name in ("@query", "@query-param"):
        uri = message.target_uri.replace("Pet=dog", "Pet=dot")
        return HttpRequest(message.method, uri, message.headers, message.body)
    if name == "content-digest":
        body = (message.body or b"") + b" "
        digest = base64.b64encode(hashlib.sha512(body).digest()).decode()
        return HttpRequest(
            message.method,
            message.target_uri,
            message.headers.merged({"Content-Digest": f"sha-512=:{digest}:"}),
            body,
        )
    return _with_field(message, name, _flip(message.headers.get(name) or ""))


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_signature_base_is_rebuilt_byte_for_byte(
    rfc9421: dict[str, Any],
    rfc9421_request: HttpRequest,
    rfc9421_response: HttpResponse,
    case_id: str,
) -> None:
    case = _case(rfc9421, case_id)
    params, serialized = parse_signature_input(case["signature_input_header"])[case["label"]]
    message = _message(case, rfc9421_request, rfc9421_response)
    assert signature_base(message, params, serialized) == case["signature_base"].encode("ascii")
    assert signature_base(message, params) == case["signature_base"].encode("ascii")


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_published_signature_verifies(
    rfc9421: dict[str, Any],
    rfc9421_request: HttpRequest,
    rfc9421_response: HttpResponse,
    verifying_key_for: Callable[[str, str], VerifyingKey],
    case_id: str,
) -> None:
    case = _case(rfc9421, case_id)
    key = verifying_key_for(case["key_id"], case["alg"])
    signed = _signed(_message(case, rfc9421_request, rfc9421_response), case)
    verified = verify(signed, key)
    assert verified.label == case["label"]
    assert verified.params.keyid == case["key_id"]
    assert verified.signature == base64.b64decode(case["signature_b64"])


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_each_covered_component_is_protected(
    rfc9421: dict[str, Any],
    rfc9421_request: HttpRequest,
    rfc9421_response: HttpResponse,
    verifying_key_for: Callable[[str, str], VerifyingKey],
    case_id: str,
) -> None:
    case = _case(rfc9421, case_id)
    key = verifying_key_for(case["key_id"], case["alg"])
    params, _ = parse_signature_input(case["signature_input_header"])[case["label"]]
    message = _message(case, rfc9421_request, rfc9421_response)
    for component in params.components:
        tampered = _signed(_tamper(message, component), case)
        with pytest.raises(InvalidSignature):
            verify(tampered, key)
    # The parameters are covered too: one more second in ``created`` breaks it.
    created = params.created
    assert created is not None
    later = case["signature_input_header"].replace(f"created={created}", f"created={created + 1}")
    with pytest.raises(InvalidSignature):
        verify(_signed(message, {**case, "signature_input_header": later}), key)


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_a_flipped_signature_byte_fails(
    rfc9421: dict[str, Any],
    rfc9421_request: HttpRequest,
    rfc9421_response: HttpResponse,
    verifying_key_for: Callable[[str, str], VerifyingKey],
    case_id: str,
) -> None:
    case = _case(rfc9421, case_id)
    key = verifying_key_for(case["key_id"], case["alg"])
    raw = bytearray(base64.b64decode(case["signature_b64"]))
    raw[len(raw) // 2] ^= 0x01
    header = f"{case['label']}=:{base64.b64encode(bytes(raw)).decode()}:"
    signed = _signed(
        _message(case, rfc9421_request, rfc9421_response), {**case, "signature_header": header}
    )
    with pytest.raises(InvalidSignature):
        verify(signed, key)


@pytest.mark.parametrize("case_id", ["sig-b25", "sig-b26"])
def test_deterministic_signatures_are_recreated_exactly(
    rfc9421: dict[str, Any],
    rfc9421_request: HttpRequest,
    signing_key_for: Callable[[str, str], SigningKey],
    case_id: str,
) -> None:
    case = _case(rfc9421, case_id)
    assert case["deterministic"]
    params, _ = parse_signature_input(case["signature_input_header"])[case["label"]]
    key = signing_key_for(case["key_id"], case["alg"])
    headers = sign(
        rfc9421_request,
        key,
        params.components,
        label=case["label"],
        created=params.created,
        keyid=params.keyid,
    )
    assert headers == {
        "Signature-Input": case["signature_input_header"],
        "Signature": case["signature_header"],
    }


def test_nondeterministic_cases_round_trip_with_their_keys(
    rfc9421: dict[str, Any],
    rfc9421_request: HttpRequest,
    rfc9421_response: HttpResponse,
    signing_key_for: Callable[[str, str], SigningKey],
    verifying_key_for: Callable[[str, str], VerifyingKey],
) -> None:
    for case in rfc9421["cases"]:
        if case["deterministic"]:
            continue
        params, _ = parse_signature_input(case["signature_input_header"])[case["label"]]
        message = _message(case, rfc9421_request, rfc9421_response)
        key = signing_key_for(case["key_id"], case["alg"])
        added = sign(message, key, params.components, label="fresh", created=params.created)
        verify(message.with_headers(added), verifying_key_for(case["key_id"], case["alg"]))


def test_vector_keys_match_their_jwks(rfc9421: dict[str, Any]) -> None:
    algs = {
        "test-key-rsa": "RS256",
        "test-key-rsa-pss": "PS512",
        "test-key-ecc-p256": "ES256",
        "test-key-ed25519": "Ed25519",
    }
    for key_id, jose in algs.items():
        entry = rfc9421["keys"][key_id]
        public = serialization.load_pem_public_key(entry["public_key_pem"].encode("ascii"))
        jwk = jwk_from_public_key(VerifyingKey(public, jose))  # type: ignore[arg-type]
        for member in ("n", "e", "x", "y"):
            if member in jwk:
                assert jwk[member] == entry["jwk"][member], (key_id, member)
        private = SigningKey.from_pem(entry["private_key_pem"].encode("ascii"), jose)
        assert jwk_from_public_key(private.public_key()) == jwk


def test_pkcs1_rsa_key_is_unused_by_the_cases_but_works(
    rfc9421: dict[str, Any], rfc9421_request: HttpRequest
) -> None:
    """B.1.1 ``test-key-rsa`` (PKCS#1 PEMs) backs no B.2 case; check it on its own."""
    assert "test-key-rsa" not in {case["key_id"] for case in rfc9421["cases"]}
    entry = rfc9421["keys"]["test-key-rsa"]
    assert entry["public_key_pem"].startswith("-----BEGIN RSA PUBLIC KEY-----")
    public = serialization.load_pem_public_key(entry["public_key_pem"].encode("ascii"))
    private = SigningKey.from_pem(entry["private_key_pem"].encode("ascii"), "RS256")
    added = sign(rfc9421_request, private, ["@method", "@path", "date"], keyid="test-key-rsa")
    verify(rfc9421_request.with_headers(added), VerifyingKey(public, "RS256"))  # type: ignore[arg-type]


def test_content_digest_vectors_match_the_bodies(
    rfc9421: dict[str, Any], rfc9421_request: HttpRequest, rfc9421_response: HttpResponse
) -> None:
    checks = rfc9421["verification"]["content_digest_checks"]
    assert rfc9421_request.headers.get("content-digest") == checks["test-request"]["header"]
    assert (
        rfc9421_response.headers.get("content-digest")
        == checks["test-response"]["computed_from_body"]
    )
    assert checks["test-response"]["header"] != checks["test-response"]["computed_from_body"]


# RFC 9421 §2.4: a response signature (reqres, ecdsa-p256-sha256) covering parts of the
# request, including the request's own signature value sig1.
SIG1 = (
    "LAH8BjcfcOcLojiuOBFWn0P5keD3xAOuJRGziCLuD8r5MW9S0"
    "RoXXLzLSRfGY/3SF8kVIkHjE13SEFdTo4Af/fJ/Pu9wheqoLVdwXyY/UkBIS1M8Br"
    "c8IODsn5DFIrG0IrburbLi0uCc+E2ZIIb6HbUJ+o+jP58JelMTe0QE3IpWINTEzpx"
    "jqDf5/Df+InHCAkQCTuKsamjWXUpyOT1Wkxi7YPVNOjW4MfNuTZ9HdbD2Tr65+BXe"
    "TG9ZS/9SWuXAc+BZ8WyPz0QRz//ec3uWXd7bYYODSjRAxHqX+S1ag3LZElYyUKaAI"
    "jZ8MGOt4gXEwCSLDv/zqxZeWLj/PDkn6w=="
)
SIG1_INPUT = (
    'sig1=("@method" "@authority" "@path" "content-digest" "content-length" "content-type")'
    ';created=1618884475;keyid="test-key-rsa-pss"'
)
REQRES_INPUT = (
    'reqres=("@status" "content-length" "content-type" "signature";req;key="sig1" '
    '"@authority";req "@method";req);created=1618884479;keyid="test-key-ecc-p256"'
)
REQRES = "mh17P4TbYYBmBwsXPT4nsyVzW4Rp9Fb8WcvnfqKCQLoMvzOBLD/n32tL/GPW6XE5GAS5bdsg1khK6lBzV1Cx/Q=="
REQRES_BASE = (
    '"@status": 503\n'
    '"content-length": 62\n'
    '"content-type": application/json\n'
    f'"signature";req;key="sig1": :{SIG1}:\n'
    '"@authority";req: example.com\n'
    '"@method";req: POST\n'
    '"@signature-params": ("@status" "content-length" "content-type" '
    '"signature";req;key="sig1" "@authority";req "@method";req)'
    ';created=1618884479;keyid="test-key-ecc-p256"'
)


def _section_2_4(request: HttpRequest) -> tuple[HttpRequest, HttpResponse]:
    signed_request = request.with_headers(
        {"Signature-Input": SIG1_INPUT, "Signature": f"sig1=:{SIG1}:"}
    )
    response = HttpResponse(
        503,
        [
            ("Date", "Tue, 20 Apr 2021 02:07:56 GMT"),
            ("Content-Type", "application/json"),
            ("Content-Length", "62"),
            ("Signature-Input", REQRES_INPUT),
            ("Signature", f"reqres=:{REQRES}:"),
        ],
        b'{"busy": true, "message": "Your call is very important to us"}',
        request=signed_request,
    )
    return signed_request, response


def test_section_2_4_request_response_binding(
    rfc9421_request: HttpRequest, verifying_key_for: Callable[[str, str], VerifyingKey]
) -> None:
    # sig1 is only a covered value here: the RFC prints it without a base that verifies it.
    signed_request, response = _section_2_4(rfc9421_request)
    params, serialized = parse_signature_input(REQRES_INPUT)["reqres"]
    assert signature_base(response, params, serialized) == REQRES_BASE.encode("ascii")
    ecc = verifying_key_for("test-key-ecc-p256", "ecdsa-p256-sha256")
    assert verify(response, ecc).label == "reqres"
    # The request's signature is covered: a different sig1 breaks the response signature.
    other = signed_request.with_headers({"Signature": f"sig1=:{SIG1[:-3]}A==:"})
    with pytest.raises(InvalidSignature):
        verify(replace(response, request=other), ecc)
    # A response verified without its request cannot resolve ;req.
    with pytest.raises(InvalidSignature):
        verify(replace(response, request=None), ecc)


def test_verify_selects_a_label_among_several(
    rfc9421: dict[str, Any],
    rfc9421_request: HttpRequest,
    verifying_key_for: Callable[[str, str], VerifyingKey],
) -> None:
    b25, b26 = _case(rfc9421, "sig-b25"), _case(rfc9421, "sig-b26")
    both = rfc9421_request.with_headers(
        {
            "Signature-Input": f"{b25['signature_input_header']}, {b26['signature_input_header']}",
            "Signature": f"{b25['signature_header']}, {b26['signature_header']}",
        }
    )
    ed25519 = verifying_key_for("test-key-ed25519", "ed25519")
    policy = VerificationPolicy.generic(
        label="sig-b26",
        required_components=(),
        require_query=False,
        require_content_digest=False,
        max_age=2**40,
    )
    assert verify(both, ed25519, policy=policy).label == "sig-b26"
    with pytest.raises(InvalidSignature):
        verify(both, ed25519, policy=replace(policy, label="sig-b25"))
