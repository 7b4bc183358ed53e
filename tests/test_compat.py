"""The 0.3-era API: same names and parameters, today's wire forms, fail-closed checks."""

from __future__ import annotations

from typing import Any

import pytest
from aauth_signing import SigningKey

import aauth
from aauth.errors import InvalidToken
from aauth.headers import HeaderError

AP, PS, RESOURCE = "https://agent.example", "https://ps.example", "https://resource.example"
AGENT = "aauth:assistant@agent.example"


@pytest.fixture
def world() -> dict[str, Any]:
    agent_private, agent_public = aauth.generate_ed25519_keypair()
    ap_private, ap_public = aauth.generate_ed25519_keypair()
    ps_private, ps_public = aauth.generate_ed25519_keypair()
    res_private, res_public = aauth.generate_ed25519_keypair()
    jwks = {
        AP: {"keys": [aauth.public_key_to_jwk(ap_public, kid="ap-1")]},
        PS: {"keys": [aauth.public_key_to_jwk(ps_public, kid="ps-1")]},
        RESOURCE: {"keys": [aauth.public_key_to_jwk(res_public, kid="res-1")]},
    }
    agent_jwk = aauth.public_key_to_jwk(agent_public)
    agent_token = aauth.issue_agent_token(
        SigningKey(ap_private, "Ed25519"), iss=AP, sub=AGENT, cnf_jwk=agent_jwk, kid="ap-1", ps=PS
    )
    return {
        "agent_private": agent_private,
        "agent_jwk": agent_jwk,
        "agent_token": agent_token,
        "ps_private": ps_private,
        "res_private": res_private,
        "fetcher": lambda issuer, dwk, kid: jwks.get(issuer),
    }


def test_public_key_to_jwk_carries_a_fully_specified_alg() -> None:
    _, public = aauth.generate_ed25519_keypair()
    jwk = aauth.public_key_to_jwk(public, kid="k1")
    assert jwk["alg"] == "Ed25519"
    assert jwk["kid"] == "k1"
    assert aauth.calculate_jwk_thumbprint(jwk) == aauth.calculate_jwk_thumbprint(
        {k: v for k, v in jwk.items() if k not in ("alg", "kid")}
    )


@pytest.mark.parametrize("scheme", ["hwk", "jwks", "jwt"])
def test_sign_request_then_verify_signature(world: dict[str, Any], scheme: str) -> None:
    options: dict[str, Any] = {
        "hwk": {},
        "jwks": {"id": AP, "kid": "ap-1"},
        "jwt": {"jwt": world["agent_token"]},
    }[scheme]
    key = world["agent_private"]
    if scheme == "jwks":
        key, _ = aauth.generate_ed25519_keypair()
        jwks = {AP: {"keys": [aauth.public_key_to_jwk(key.public_key(), kid="ap-1")]}}
        world["fetcher"] = lambda issuer, dwk, kid: jwks.get(issuer)
    original = {"content-type": "application/json"}
    headers = aauth.sign_request(
        "POST", f"{RESOURCE}/notes", original, b'{"n":1}', key, sig_scheme=scheme, **options
    )
    assert original == {"content-type": "application/json"}  # not mutated
    sent = {**original, **headers}
    args = (headers["Signature-Input"], headers["Signature"], headers["Signature-Key"])
    ok = aauth.verify_signature(
        "POST", f"{RESOURCE}/notes", sent, b'{"n":1}', *args, jwks_fetcher=world["fetcher"]
    )
    assert ok
    tampered = aauth.verify_signature(
        "POST", f"{RESOURCE}/notes", sent, b'{"n":2}', *args, jwks_fetcher=world["fetcher"]
    )
    assert not tampered


def test_unknown_sig_scheme() -> None:
    private, _ = aauth.generate_ed25519_keypair()
    with pytest.raises(ValueError, match="sig_scheme"):
        aauth.sign_request("GET", RESOURCE, {}, None, private, sig_scheme="nope")


def test_token_round_trip_and_request_verifier(world: dict[str, Any]) -> None:
    jkt = aauth.calculate_jwk_thumbprint(world["agent_jwk"])
    resource_token = aauth.create_resource_token(
        RESOURCE, PS, AGENT, jkt, "data.read", world["res_private"], "res-1"
    )
    claims = aauth.parse_token_claims(resource_token)
    assert (claims["iss"], claims["aud"], claims["agent_jkt"]) == (RESOURCE, PS, jkt)
    auth_token = aauth.create_auth_token(
        PS,
        RESOURCE,
        AGENT,
        world["agent_jwk"],
        "data.read",
        world["ps_private"],
        "ps-1",
        dwk="aauth-person.json",
    )
    signer = aauth.AgentRequestSigner(world["agent_private"], AGENT, world["agent_token"])
    headers = signer.sign_request("GET", f"{RESOURCE}/data", {}, None, token=auth_token)
    verifier = aauth.RequestVerifier(
        ["resource.example"], world["fetcher"], resource_id=RESOURCE, trusted_auth_servers=[PS]
    )
    result = verifier.verify_request("GET", f"{RESOURCE}/data", headers, None, False, True)
    assert result["valid"], result.error
    assert result.scopes == ["data.read"]
    assert result.agent_id == AGENT
    assert result.get("agent_delegate") is None


def test_request_verifier_reports_errors_instead_of_raising(world: dict[str, Any]) -> None:
    signer = aauth.AgentRequestSigner(world["agent_private"], AGENT, world["agent_token"])
    headers = signer.sign_request("GET", f"{RESOURCE}/data")
    verifier = aauth.RequestVerifier(["resource.example"], world["fetcher"])
    identified = verifier.verify_request("GET", f"{RESOURCE}/data", headers, None, True, False)
    assert identified.valid
    assert identified.agent_id == AGENT
    needs_token = verifier.verify_request("GET", f"{RESOURCE}/data", headers, None, True, True)
    assert not needs_token.valid
    assert needs_token.error_code == "forbidden"  # no resource tokens: nothing to answer
    unsigned = verifier.verify_request("GET", f"{RESOURCE}/data", {}, None)
    assert not unsigned.valid
    assert unsigned.error_code == "invalid_request"
    other_host = verifier.verify_request("GET", "https://evil.example/data", headers, None)
    assert not other_host.valid


def test_verify_agent_token(world: dict[str, Any]) -> None:
    claims = aauth.verify_agent_token(world["agent_token"], world["fetcher"], None)
    assert claims["sub"] == AGENT
    with pytest.raises(InvalidToken):
        aauth.verify_agent_token(world["agent_token"] + "x", world["fetcher"])
    with pytest.raises(Exception, match="no JWKS"):
        aauth.verify_agent_token(world["agent_token"], lambda issuer: None)


def test_challenge_headers_today_and_legacy() -> None:
    assert aauth.build_agent_auth_challenge(require_identity=True) == "requirement=agent-token"
    value = aauth.build_agent_auth_challenge(require_auth_token=True, resource_token="a.b.c")
    assert value == 'requirement=auth-token;resource-token="a.b.c"'
    parsed = aauth.parse_agent_auth_header(value)
    assert parsed["auth_token"]
    assert parsed["resource_token"] == "a.b.c"
    legacy = aauth.parse_agent_auth_header("httpsig; identity=?1")
    assert legacy["identity"]
    old = aauth.parse_agent_auth_header('require=interaction; code="ABCD2345"')
    assert old["requirement"] == "interaction"
    assert old["code"] == "ABCD2345"
    with pytest.raises(ValueError, match="resource_token"):
        aauth.build_agent_auth_challenge(require_auth_token=True)
    with pytest.raises(HeaderError):
        aauth.build_agent_auth_challenge()
    with pytest.raises(HeaderError):
        aauth.parse_agent_auth_header("garbage ;;")


def test_rs09_legacy_verifier_without_trusted_auth_servers_trusts_no_issuer(
    world: dict[str, Any],
) -> None:
    """RS-09, §H.4 (issue 9 item 2): ``RequestVerifier(authorities, fetcher)`` without
    ``trusted_auth_servers`` must not accept an auth token just because the fetcher returns
    its issuer's keys; naming the issuer admits it."""
    auth_token = aauth.create_auth_token(
        PS,
        RESOURCE,
        AGENT,
        world["agent_jwk"],
        "data.read",
        world["ps_private"],
        "ps-1",
        dwk="aauth-person.json",
    )
    signer = aauth.AgentRequestSigner(world["agent_private"], AGENT, world["agent_token"])
    headers = signer.sign_request("GET", f"{RESOURCE}/data", {}, None, token=auth_token)
    untrusting = aauth.RequestVerifier(["resource.example"], world["fetcher"], resource_id=RESOURCE)
    refused = untrusting.verify_request("GET", f"{RESOURCE}/data", headers, None)
    assert not refused.valid
    assert refused.error_code == "invalid_jwt"
    empty = aauth.RequestVerifier(
        ["resource.example"], world["fetcher"], resource_id=RESOURCE, trusted_auth_servers=[]
    )
    assert not empty.verify_request("GET", f"{RESOURCE}/data", headers, None).valid
    trusting = aauth.RequestVerifier(
        ["resource.example"], world["fetcher"], resource_id=RESOURCE, trusted_auth_servers=[PS]
    )
    assert trusting.verify_request("GET", f"{RESOURCE}/data", headers, None).valid
