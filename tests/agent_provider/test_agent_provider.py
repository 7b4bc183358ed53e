"""The agent provider service: metadata, JWKS, and agent tokens for jkt-jwt enrollment proofs."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from aauth_signing import JktJwt, RequestSigner, jwk_from_public_key, jwk_thumbprint

from aauth import jwt
from aauth.agent.enrollment import JKT_S256_TYP, enrollment_proof
from aauth.agent.signer import AgentSigner
from aauth.keys import generate_key, thumbprint
from aauth.keysource import StaticKeySource
from aauth.metadata import AgentProviderMetadata
from aauth.server.agent_provider import AgentProviderConfig, create_agent_provider
from aauth.tokens import TokenVerifier

from .conftest import AGENT, AP, PS, Provider, config

SIGNATURE_HEADERS = ("signature-error", "accept-signature-scheme", "accept-signature-alg")


def raw_proof(
    enrolled: Any, instance: Any, *, header: dict[str, Any] | None = None, **claims: Any
) -> str:
    """A jkt-jwt with exactly the given claims (defaults: a valid one)."""
    jwk = jwk_from_public_key(enrolled.public_key())
    now = int(time.time())
    body = {
        "iss": f"urn:jkt:sha-256:{thumbprint(jwk)}",
        "iat": now,
        "exp": now + 60,
        "cnf": {"jwk": jwk_from_public_key(instance.public_key())},
    }
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    extra = {"jwk": jwk, **(header or {})}
    typ = extra.pop("typ", JKT_S256_TYP)
    return jwt.encode(body, enrolled, typ=typ, kid="enrolled", extra_header=extra)


def assert_sig_error(response: httpx.Response, code: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["signature-error"].startswith(f"error={code}")
    assert response.json()["error"] == code


# -- metadata and keys ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/.well-known/aauth-agent.json", "/.well-known/aauth-agent"])
def test_ap01_metadata_document(ap: Provider, path: str) -> None:
    document = ap.client.get(path).json()
    assert document == {
        "issuer": AP,
        "jwks_uri": f"{AP}/.well-known/jwks.json",
        "name": "Planner Inc.",
        "callback_endpoint": f"{AP}/callback",  # AP-08
        "localhost_callback_allowed": False,
    }
    assert AgentProviderMetadata.from_json(document, AP).issuer == AP


def test_ap07_jwks_keys_carry_kid_and_a_fully_specified_alg(ap: Provider) -> None:
    ap.provider.rotate()
    keys = ap.client.get("/.well-known/jwks.json").json()["keys"]
    assert len(keys) == 2  # current and retired
    for key in keys:
        assert key["kid"] == jwk_thumbprint(key)
        assert key["alg"] == "Ed25519"
        assert "d" not in key


# -- issuance ------------------------------------------------------------------------------------


def test_ap02_to_ap04_agent_token_for_an_enrolled_instance(ap: Provider) -> None:
    response = ap.post(enrollment_proof(ap.enrolled, ap.instance.public_key()))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    grant = response.json()
    assert grant["expires_in"] == 3600
    token = grant["agent_token"]
    header, claims = jwt.peek(token)
    assert header == {"alg": "Ed25519", "typ": "aa-agent+jwt", "kid": ap.provider.keys.current_kid}
    assert claims["iss"] == AP
    assert claims["dwk"] == "aauth-agent.json"
    assert claims["sub"] == AGENT
    assert claims["ps"] == PS
    assert claims["cnf"]["jwk"] == jwk_from_public_key(ap.instance.public_key())
    assert claims["cnf"]["jwk"]["alg"] == "Ed25519"
    assert claims["exp"] - claims["iat"] == 3600
    assert len(claims["jti"]) >= 16
    verifier = TokenVerifier(StaticKeySource({AP: ap.provider.jwks()}))
    verified = verifier.verify_agent_token(token, expected_jkt=thumbprint(ap.instance))
    assert verified.sub == AGENT


def test_unregistered_enrollment_key_is_403_without_signature_headers(ap: Provider) -> None:
    response = ap.post(enrollment_proof(generate_key(), ap.instance.public_key()))
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert not [h for h in SIGNATURE_HEADERS if h in response.headers]  # V-17


def test_v01_unsigned_enrollment_is_invalid_request(ap: Provider) -> None:
    assert_sig_error(ap.client.post("/agent-token"), "invalid_request")


def test_jkt_jwt_whose_iss_is_not_the_header_key_is_invalid_jwt(ap: Provider) -> None:
    proof = raw_proof(ap.enrolled, ap.instance, iss=f"urn:jkt:sha-256:{thumbprint(generate_key())}")
    assert_sig_error(ap.post(proof), "invalid_jwt")


def test_jkt_jwt_with_a_bad_signature_is_invalid_jwt(ap: Provider) -> None:
    head, payload, _ = raw_proof(ap.enrolled, ap.instance).split(".")
    forged = raw_proof(generate_key(), ap.instance).split(".")[2]
    assert_sig_error(ap.post(f"{head}.{payload}.{forged}"), "invalid_jwt")


def test_malformed_jkt_jwt_is_invalid_jwt(ap: Provider) -> None:
    assert_sig_error(ap.post("not-a-jwt"), "invalid_jwt")


def test_jkt_jwt_of_the_wrong_type_is_invalid_jwt(ap: Provider) -> None:
    assert_sig_error(
        ap.post(raw_proof(ap.enrolled, ap.instance, header={"typ": "JWT"})), "invalid_jwt"
    )


def test_expired_jkt_jwt_is_expired_jwt(ap: Provider) -> None:
    stale = enrollment_proof(ap.enrolled, ap.instance.public_key(), now=time.time() - 600)
    assert_sig_error(ap.post(stale), "expired_jwt")


def test_long_lived_or_iat_less_proofs_are_invalid_jwt(ap: Provider) -> None:
    now = int(time.time())
    assert_sig_error(ap.post(raw_proof(ap.enrolled, ap.instance, exp=now + 7200)), "invalid_jwt")
    assert_sig_error(ap.post(raw_proof(ap.enrolled, ap.instance, iat=None)), "invalid_jwt")


def test_sha512_proofs_are_refused(ap: Provider) -> None:
    jwk = jwk_from_public_key(ap.enrolled.public_key())
    iss = f"urn:jkt:sha-512:{jwk_thumbprint(jwk, 'sha-512')}"
    proof = raw_proof(ap.enrolled, ap.instance, iss=iss, header={"typ": "jkt-s512+jwt"})
    assert_sig_error(ap.post(proof), "invalid_jwt")


def test_request_signed_by_another_key_than_cnf_is_invalid_signature(ap: Provider) -> None:
    proof = enrollment_proof(ap.enrolled, ap.instance.public_key())
    assert_sig_error(ap.post(proof, key=generate_key()), "invalid_signature")


def test_replayed_enrollment_is_refused(ap: Provider) -> None:
    proof = enrollment_proof(ap.enrolled, ap.instance.public_key())
    headers = RequestSigner(ap.instance, JktJwt(proof)).sign("POST", f"{AP}/agent-token")
    assert ap.client.post("/agent-token", headers=headers).status_code == 200
    assert_sig_error(ap.client.post("/agent-token", headers=headers), "invalid_signature")


@pytest.mark.parametrize("scheme", ["hwk", "jwt"])
def test_other_schemes_are_unsupported(ap: Provider, scheme: str) -> None:
    signer = AgentSigner(ap.instance, "e30.e30.sig")
    headers = signer.sign("POST", f"{AP}/agent-token", scheme=scheme)
    response = ap.client.post("/agent-token", headers=headers)
    assert_sig_error(response, "unsupported_scheme")
    assert response.headers["accept-signature-scheme"] == "jkt-jwt"


def test_signature_for_another_authority_is_refused(ap: Provider) -> None:
    proof = enrollment_proof(ap.enrolled, ap.instance.public_key())
    headers = RequestSigner(ap.instance, JktJwt(proof)).sign(
        "POST", "https://evil.example/agent-token"
    )
    response = ap.client.post("/agent-token", headers={**headers, "Host": "evil.example"})
    assert_sig_error(response, "invalid_signature")


# -- configuration -------------------------------------------------------------------------------


def test_config_defaults_and_loopback() -> None:
    enrolled = generate_key()
    loaded = AgentProviderConfig.load(
        {
            "identifier": "http://127.0.0.1:8001",
            "allow_loopback_http": True,
            "agents": {"a": {"enrollment_jkt": thumbprint(enrolled)}},
        }
    )
    assert loaded.canonical_authorities == ("127.0.0.1:8001",)
    assert loaded.agents["a"].ps is None
    assert config(enrolled).token_lifetime == 3600


@pytest.mark.parametrize(
    "change",
    [
        {"token_lifetime": 24 * 3600 + 1},
        {"token_lifetime": 0},
        {"token_lifetime": "3600"},
        {"allow_loopback_http": 1},
        {"agents": {"planner": {"enrollment_jkt": 7}}},
        {"agents": {"planner": {"enrollment_jkt": "A" * 43, "ps": 7}}},
        {"key_rotation_interval": -5},
        {"callback_endpoint": f"{AP}/callback?x=1"},
        {"agents": {"planner+1": {"enrollment_jkt": "A" * 43}}},
        {"agents": {"Planner": {"enrollment_jkt": "A" * 43}}},
        {"agents": {"planner": {"enrollment_jkt": "short"}}},
        {"agents": {"planner": {"enrollment_jkt": "A" * 43, "ps": "http://ps.example"}}},
        {"agents": {"planner": {"enrollment_jkt": "A" * 43, "extra": 1}}},
        {"agents": {"a": {"enrollment_jkt": "A" * 43}, "b": {"enrollment_jkt": "A" * 43}}},
        {"agents": ["planner"]},
        {"agents": {"planner": "A" * 43}},
        {"identifier": "https://ap.example:8443"},
        {"unknown": True},
    ],
)
def test_bad_configuration_is_a_value_error(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        create_agent_provider(config(generate_key(), **change))


@pytest.mark.parametrize(
    ("method", "path", "status", "error"),
    [
        ("POST", "/.well-known/jwks.json", 405, "method_not_allowed"),
        ("DELETE", "/.well-known/aauth-agent.json", 405, "method_not_allowed"),
    ],
)
def test_v41_framework_errors_are_problem_json(
    ap: Provider, method: str, path: str, status: int, error: str
) -> None:
    """Issue 9 item 12: Starlette's plain-text 404/405 become problem+json with a code."""
    response = ap.client.request(method, path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["error"] == error
    assert "GET" in response.headers["allow"]


def test_v41_unknown_path_after_a_good_signature_is_problem_json_404(ap: Provider) -> None:
    proof = raw_proof(ap.enrolled, ap.instance)
    headers = RequestSigner(ap.instance, JktJwt(proof)).sign("GET", f"{AP}/nowhere")
    response = ap.client.get("/nowhere", headers=headers)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["error"] == "not_found"
