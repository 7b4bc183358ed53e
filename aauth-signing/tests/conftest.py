"""Shared fixtures: the published vectors (copied into ``vectors/``) and their keys."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aauth_signing import HttpRequest, HttpResponse, SigningKey, VerifyingKey, b64url_encode
from cryptography.hazmat.primitives import serialization

VECTORS = Path(__file__).parent / "vectors"

#: RFC 9421 registry name → the JOSE algorithm the library binds keys to.
HTTP_TO_JOSE = {
    "rsa-pss-sha512": "PS512",
    "rsa-v1_5-sha256": "RS256",
    "ecdsa-p256-sha256": "ES256",
    "ed25519": "Ed25519",
    "hmac-sha256": "HS256",
}


def load_vectors(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="session")
def rfc9421() -> dict[str, Any]:
    return load_vectors("rfc9421.json")


@pytest.fixture(scope="session")
def rfc8032() -> list[dict[str, Any]]:
    """RFC 8032 §7.1 Ed25519 TEST 1-3."""
    cases: list[dict[str, Any]] = load_vectors("rfc8032_ed25519.json")["cases"]
    return cases


@pytest.fixture(scope="session")
def rfc9421_request(rfc9421: dict[str, Any]) -> HttpRequest:
    message = rfc9421["messages"]["test-request"]
    headers = [tuple(line) for line in message["headers"]]
    return HttpRequest(
        message["method"], message["target_uri"], headers, message["body"].encode("utf-8")
    )


@pytest.fixture(scope="session")
def rfc9421_response(rfc9421: dict[str, Any]) -> HttpResponse:
    """B.2 response with the recomputed Content-Digest (see the B.2.4 case note)."""
    message = rfc9421["messages"]["test-response"]
    corrected = message["content_digest_corrected"]
    headers = [
        (name, corrected if name.lower() == "content-digest" else value)
        for name, value in message["headers"]
    ]
    return HttpResponse(message["status"], headers, message["body"].encode("utf-8"))


@pytest.fixture(scope="session")
def verifying_key_for(rfc9421: dict[str, Any]) -> Callable[[str, str], VerifyingKey]:
    """(key id, RFC 9421 alg) → the public key (PEM; PKCS#1 for ``BEGIN RSA PUBLIC KEY``)."""

    def load(key_id: str, http_alg: str) -> VerifyingKey:
        key = rfc9421["keys"][key_id]
        jose = HTTP_TO_JOSE[http_alg]
        if "secret_base64" in key:
            return VerifyingKey(base64.b64decode(key["secret_base64"]), jose)
        public = serialization.load_pem_public_key(key["public_key_pem"].encode("ascii"))
        return VerifyingKey(public, jose)  # type: ignore[arg-type]

    return load


@pytest.fixture(scope="session")
def signing_key_for(rfc9421: dict[str, Any]) -> Callable[[str, str], SigningKey]:
    """(key id, RFC 9421 alg) → the private key or shared secret."""

    def load(key_id: str, http_alg: str) -> SigningKey:
        key = rfc9421["keys"][key_id]
        jose = HTTP_TO_JOSE[http_alg]
        if "secret_base64" in key:
            return SigningKey(base64.b64decode(key["secret_base64"]), jose)
        return SigningKey.from_pem(key["private_key_pem"].encode("ascii"), jose)

    return load


@pytest.fixture(scope="session")
def make_jwt() -> Callable[[SigningKey, dict[str, Any], dict[str, Any]], str]:
    """A compact JWS over JSON header and payload, signed with ``key`` (built by hand)."""

    def build(key: SigningKey, header: dict[str, Any], payload: dict[str, Any]) -> str:
        def part(value: dict[str, Any]) -> str:
            return b64url_encode(json.dumps(value, separators=(",", ":")).encode("utf-8"))

        signing_input = f"{part(header)}.{part(payload)}"
        return f"{signing_input}.{b64url_encode(key.sign(signing_input.encode('ascii')))}"

    return build
