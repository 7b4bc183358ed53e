"""Behaviours B01–B25 of aauth 0.3.4 that callers rely on (SEED-0.3.4-API.md), one test
each at least, plus the protocol-10 forms the 0.3 wrappers emit."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from aauth_signing import HttpRequest, InvalidSignature, SigningKey, jwk_from_public_key

import aauth
from aauth import jwt
from aauth.compat.errors import TokenError
from aauth.errors import InvalidToken
from aauth.keysource import StaticKeySource
from aauth.tokens import AUTH_TOKEN, TokenVerifier

from .conftest import AGENT, AP, PS, RESOURCE, World

URL = f"{RESOURCE}/data"


def test_b01_parse_token_claims_returns_header_and_payload(world: World) -> None:
    parsed = aauth.parse_token_claims(world.auth_token())
    assert set(parsed) == {"header", "payload"}
    assert parsed["header"] == {"alg": "Ed25519", "typ": "aa-auth+jwt", "kid": "ps-1"}
    assert parsed["payload"]["scope"] == "data.read"


def test_b02_b03_act_is_a_required_dict_written_as_act_agent(world: World) -> None:
    token = aauth.create_auth_token(
        PS, RESOURCE, AGENT, world.agent_jwk, world.ps, "ps-1", {"sub": AGENT}, "data.read"
    )
    assert aauth.parse_token_claims(token)["payload"]["act"] == {"agent": AGENT}
    with pytest.raises(TypeError, match="act"):
        aauth.create_auth_token(  # type: ignore[call-arg]
            PS, RESOURCE, AGENT, world.agent_jwk, world.ps, "ps-1", scope="data.read"
        )
    with pytest.raises(TokenError, match="act"):
        aauth.create_auth_token(
            PS,
            RESOURCE,
            AGENT,
            world.agent_jwk,
            world.ps,
            "ps-1",
            "data.read",  # type: ignore[arg-type]
        )
    # The typed verifier reads the -10 act it wrote.
    typed = TokenVerifier(StaticKeySource(world.jwks), trusted_issuers=[PS])
    assert typed.verify(AUTH_TOKEN, token).act is not None


def test_b04_create_auth_token_positional_order(world: World) -> None:
    token = aauth.create_auth_token(
        PS,
        RESOURCE,
        AGENT,
        world.agent_jwk,
        world.ps,
        "ps-1",
        {"agent": AGENT},
        "data.read",
        "person-1",
        int(time.time()) + 60,
        None,
        "aauth-person.json",
    )
    payload = aauth.parse_token_claims(token)["payload"]
    assert (payload["iss"], payload["aud"], payload["agent"]) == (PS, RESOURCE, AGENT)
    assert (payload["scope"], payload["sub"], payload["dwk"]) == (
        "data.read",
        "person-1",
        "aauth-person.json",
    )


def test_b05_scope_or_sub_is_enough_but_one_is_needed(world: World) -> None:
    only_sub = world.auth_token(scope=None, sub="person-1")
    assert "scope" not in aauth.parse_token_claims(only_sub)["payload"]
    with pytest.raises(TokenError, match="sub' or 'scope"):
        world.auth_token(scope=None)


def test_b06_b07_exp_sets_the_expiry(world: World) -> None:
    exp = int(time.time()) + 120
    auth = world.auth_token(exp=exp)
    resource = aauth.create_resource_token(
        RESOURCE, PS, AGENT, "x" * 43, "data.read", world.resource, "r-1", exp=exp
    )
    for token in (auth, resource):
        assert aauth.parse_token_claims(token)["payload"]["exp"] == exp


def test_b08_resource_token_mission_is_a_dict(world: World) -> None:
    mission = {"approver": PS, "s256": "a" * 43}
    token = aauth.create_resource_token(
        RESOURCE, PS, AGENT, "x" * 43, "data.read", world.resource, "r-1", mission=mission
    )
    assert aauth.parse_token_claims(token)["payload"]["mission"] == mission


def test_b09_token_failures_raise_token_error_with_a_code(world: World) -> None:
    token = world.agent_token()
    assert aauth.verify_agent_token(token, world.fetcher)["sub"] == AGENT
    with pytest.raises(aauth.TokenError) as bad:
        aauth.verify_agent_token(token[:-4] + "AAAA", world.fetcher)
    assert isinstance(bad.value, aauth.AAuthError)
    assert bad.value.error_code == "invalid_agent_token"
    expired = aauth.create_agent_token(
        AP, AGENT, world.agent_jwk, world.ap, "ap-1", exp=int(time.time()) - 3600
    )
    with pytest.raises(aauth.TokenError) as late:
        aauth.verify_agent_token(expired, world.fetcher)
    assert late.value.error_code == "expired_agent_token"
    with pytest.raises(aauth.TokenError) as unknown:
        aauth.verify_agent_token(token, lambda issuer: None)
    assert unknown.value.error_code == "invalid_agent_token"


def test_b10_signature_error_is_an_aauth_error_with_code_and_details() -> None:
    error = aauth.SignatureError("bad", "invalid_key", {"kid": "k"})
    assert isinstance(error, aauth.AAuthError)
    assert (error.error_code, error.details, str(error)) == ("invalid_key", {"kid": "k"}, "bad")
    assert aauth.SignatureError("bad").error_code == "invalid_signature"
    # The typed API's signature failures are the same class, so both except clauses work.
    assert issubclass(InvalidSignature, aauth.SignatureError)
    with pytest.raises(aauth.AAuthError):
        raise InvalidSignature("typed")


def test_b11_additional_signature_components_are_covered(world: World) -> None:
    headers = {"Content-Type": "application/json"}
    signed = aauth.sign_request(
        "POST", URL, headers, b"{}", world.agent, additional_signature_components=["content-type"]
    )
    assert '"content-type"' in signed["Signature-Input"]
    assert '"content-digest"' in signed["Signature-Input"]
    sent = {**headers, **signed}
    assert aauth.verify_signature(
        "POST",
        URL,
        sent,
        b"{}",
        signed["Signature-Input"],
        signed["Signature"],
        signed["Signature-Key"],
    )


def test_b12_jkt_jwt_scheme(world: World) -> None:
    enclave = SigningKey.generate("ES256")
    enclave_jwk = jwk_from_public_key(enclave.public_key())
    now = int(time.time())
    claims = {
        "iss": f"urn:jkt:sha-256:{aauth.calculate_jwk_thumbprint(enclave_jwk)}",
        "iat": now,
        "exp": now + 300,
        "cnf": {"jwk": world.agent_jwk},
    }
    token = jwt.encode(
        claims, enclave, typ="jkt-s256+jwt", kid="e", extra_header={"jwk": enclave_jwk}
    )
    signed = aauth.sign_request("GET", URL, {}, None, world.agent, sig_scheme="jkt-jwt", jwt=token)
    assert signed["Signature-Key"].startswith("sig=jkt-jwt;")
    assert aauth.verify_signature("GET", URL, signed, None, *_parts(signed))


@pytest.mark.parametrize("scheme", ["jwks_uri", "jwks"])
def test_b13_jwks_schemes_default_kid(world: World, scheme: str) -> None:
    signed = aauth.sign_request(
        "GET", URL, {}, None, world.agent, sig_scheme=scheme, id=AP, dwk="aauth-agent.json"
    )
    parsed = aauth.parse_signature_key(signed["Signature-Key"])
    assert parsed == {
        "scheme": "jwks_uri",
        "params": {"id": AP, "dwk": "aauth-agent.json", "kid": "key-1"},
        "label": "sig",
    }
    world.jwks[AP] = {"keys": [aauth.public_key_to_jwk(world.agent.public_key(), "key-1")]}
    assert aauth.verify_signature("GET", URL, signed, None, *_parts(signed), None, world.fetcher)


def _parts(signed: dict[str, str]) -> tuple[str, str, str]:
    return signed["Signature-Input"], signed["Signature"], signed["Signature-Key"]


def test_b14_b15_public_key_and_jwks_fetcher_positions(world: World) -> None:
    signed = aauth.sign_request("GET", URL, {}, None, world.agent)
    assert aauth.verify_signature(
        "GET", URL, signed, None, *_parts(signed), world.agent.public_key()
    )
    other = aauth.generate_ed25519_keypair()[1]
    assert not aauth.verify_signature("GET", URL, signed, None, *_parts(signed), other)
    token_signed = aauth.sign_request(
        "GET", URL, {}, None, world.agent, sig_scheme="jwt", jwt=world.agent_token()
    )
    assert aauth.verify_signature(
        "GET", URL, token_signed, None, *_parts(token_signed), None, world.fetcher
    )


def test_b16_no_key_raises_a_bad_signature_is_false(world: World) -> None:
    signed = aauth.sign_request("GET", URL, {}, None, world.agent, sig_scheme="jwks", id=AP)
    with pytest.raises(aauth.SignatureError) as no_key:
        aauth.verify_signature("GET", URL, signed, None, *_parts(signed))
    assert no_key.value.error_code == "unknown_key"
    hwk = aauth.sign_request("GET", URL, {}, None, world.agent)
    assert not aauth.verify_signature("GET", f"{RESOURCE}/other", hwk, None, *_parts(hwk))
    forged = hwk["Signature"][:-6] + "AAAA=:"
    assert not aauth.verify_signature(
        "GET", URL, hwk, None, hwk["Signature-Input"], forged, hwk["Signature-Key"]
    )


def test_b17_agent_request_signer_positional(world: World) -> None:
    signer = aauth.AgentRequestSigner(world.agent, AP, "token", "k-9", "aauth-agent.json")
    assert (signer.agent_id, signer.agent_token, signer.kid, signer.dwk) == (
        AP,
        "token",
        "k-9",
        "aauth-agent.json",
    )


def test_b18_b20_b21_never_none_on_the_wire(world: World) -> None:
    bare = aauth.AgentRequestSigner(world.agent)
    with pytest.raises(aauth.SignatureError, match="agent_id"):
        bare.sign_request("GET", URL, {}, None, "jwks_uri")
    with pytest.raises(aauth.SignatureError, match="agent_token"):
        bare.sign_request("GET", URL, {}, None, "jwt")
    no_kid = aauth.AgentRequestSigner(world.agent, AP, kid=None)  # type: ignore[arg-type]
    signed = no_kid.sign_request("GET", URL, {}, None, "jwks_uri")
    assert "None" not in signed["Signature-Key"]
    assert aauth.parse_signature_key(signed["Signature-Key"])["params"]["kid"] == "key-1"


def test_b19_agent_request_signer_defaults_to_hwk(world: World) -> None:
    signer = aauth.AgentRequestSigner(world.agent, AGENT, world.agent_token())
    assert signer.sign_request("GET", URL, {})["Signature-Key"].startswith("sig=hwk;")


def test_b22_request_verifier_by_keyword(world: World) -> None:
    verifier = aauth.RequestVerifier(
        canonical_authorities=["resource.example"],
        jwks_fetcher=world.fetcher,
        trusted_auth_servers=[PS],
    )
    assert isinstance(verifier, aauth.RequestVerifier)
    signer = aauth.AgentRequestSigner(world.agent, AGENT, world.auth_token())
    result = verifier.verify_request(
        "GET", URL, signer.sign_request("GET", URL, {}, None, "jwt"), None
    )
    assert result["valid"], result


def test_b23_b24_verify_request_returns_a_plain_dict(world: World) -> None:
    verifier = aauth.RequestVerifier(["resource.example"], world.fetcher, [PS])
    signer = aauth.AgentRequestSigner(world.agent, AGENT, world.auth_token(sub="person-1"))
    headers = signer.sign_request("GET", URL, {}, None, "jwt")
    result = verifier.verify_request("GET", URL, headers, None, True, True)
    assert type(result) is dict
    assert "error" not in result
    assert result == {
        "valid": True,
        "agent_id": AGENT,
        "act": {"agent": AGENT},
        "user_sub": "person-1",
        "scopes": ["data.read"],
    }
    json.dumps(result)
    failed = verifier.verify_request("GET", URL, {}, None)
    assert type(failed) is dict
    assert "error" in failed
    assert failed["valid"] is False
    json.dumps(failed)


def test_b25_aauth_request(world: World) -> None:
    request = aauth.AAuthRequest("get", "api.example", "/x", "a=1", {"X-Test": "1"}, b"b")
    assert isinstance(request, aauth.AAuthRequest)
    assert (request.method, request.authority, request.path, request.query) == (
        "GET",
        "api.example",
        "/x",
        "a=1",
    )
    assert request.get_header("x-test") == "1"
    assert request.get_header("nope", "d") == "d"
    assert request.target_uri == "https://api.example/x?a=1"
    request.path = "/y"  # 0.3's request is mutable
    copy = aauth.AAuthRequest.from_dict({"method": "POST", "authority": "api.example"})
    assert (copy.method, copy.path, copy.headers, copy.body) == ("POST", "/", {}, None)
    # The typed form keeps working on the same name.
    typed = aauth.AAuthRequest("GET", "https://api.example/", (("a", "b"),), b"")
    assert typed.get_header("A") == "b"
    assert typed.to_http_request().method == "GET"


# -- what protocol-10 forbids, accepted in the 0.3 API only -------------------------------------


def test_url_form_agent_ids_verify_in_the_0_3_api_only(world: World) -> None:
    url_agent = "https://agent.example"
    token = aauth.create_agent_token(AP, url_agent, world.agent_jwk, world.ap, "ap-1")
    assert aauth.verify_agent_token(token, world.fetcher)["sub"] == url_agent
    typed = TokenVerifier(StaticKeySource(world.jwks))
    with pytest.raises(InvalidToken, match="agent identifier"):
        typed.verify_agent_token(token, expected_jkt=None)
    legacy = TokenVerifier(StaticKeySource(world.jwks), allow_eddsa=True)
    assert legacy.verify_agent_token(token, expected_jkt=None).sub == url_agent


def test_eddsa_jwks_are_read_by_the_0_3_api(world: World) -> None:
    jwk = {k: v for k, v in aauth.public_key_to_jwk(world.ap.public_key(), "ap-1").items()}
    jwk["alg"] = "EdDSA"
    world.jwks[AP] = {"keys": [jwk]}
    assert aauth.verify_agent_token(world.agent_token(), world.fetcher)["iss"] == AP
    assert isinstance(aauth.jwk_to_public_key(jwk), type(world.ap.public_key()))
    typed = TokenVerifier(StaticKeySource(world.jwks))
    with pytest.raises(aauth.AAuthError):
        typed.verify_agent_token(world.agent_token(), expected_jkt=None)


def test_old_agent_auth_challenge_syntax() -> None:
    parsed = aauth.parse_agent_auth_header(
        'httpsig; identity=?1; auth-token; resource_token="a.b.c"; auth_server="https://auth.example"'
    )
    assert parsed["identity"]
    assert parsed["auth_token"]
    assert parsed["httpsig"]
    assert (parsed["resource_token"], parsed["auth_server"]) == ("a.b.c", "https://auth.example")
    assert aauth.parse_agent_auth_header("httpsig; identity=?1")["identity"]
    with pytest.raises(aauth.ChallengeError):
        aauth.parse_agent_auth_header("garbage ;;")


def test_rs09_legacy_verifier_without_trusted_auth_servers_trusts_no_issuer(world: World) -> None:
    """RS-09, §H.4 (issue 9 item 2): without ``trusted_auth_servers`` an auth token is not
    accepted just because the fetcher returns its issuer's keys."""
    signer = aauth.AgentRequestSigner(world.agent, AGENT, world.auth_token())
    headers = signer.sign_request("GET", URL, {}, None, "jwt")
    for untrusting in (
        aauth.RequestVerifier(["resource.example"], world.fetcher),
        aauth.RequestVerifier(["resource.example"], world.fetcher, []),
        aauth.RequestVerifier(["resource.example"], world.fetcher, ["https://other.example"]),
    ):
        refused = untrusting.verify_request("GET", URL, headers, None)
        assert refused["valid"] is False
        assert refused["error_code"] == "invalid_jwt"
    trusting = aauth.RequestVerifier(["resource.example"], world.fetcher, [PS])
    assert trusting.verify_request("GET", URL, headers, None)["valid"]


def test_request_verifier_refuses_other_hosts_and_missing_identity(world: World) -> None:
    verifier = aauth.RequestVerifier(["resource.example:443"], world.fetcher, [PS])
    hwk = aauth.sign_request("GET", URL, {}, None, world.agent)
    assert verifier.verify_request("GET", URL, hwk, None)["valid"]
    assert not verifier.verify_request("GET", URL, hwk, None, require_identity=True)["valid"]
    assert not verifier.verify_request("GET", URL, hwk, None, require_auth_token=True)["valid"]
    evil = "https://evil.example/data"
    assert not verifier.verify_request("GET", evil, hwk, None)["valid"]
    jwks_signed = aauth.sign_request("GET", URL, {}, None, world.agent, sig_scheme="jwks", id=AP)
    world.jwks[AP] = {"keys": [aauth.public_key_to_jwk(world.agent.public_key(), "key-1")]}
    identified = verifier.verify_request("GET", URL, jwks_signed, None, require_identity=True)
    assert identified["valid"]
    assert identified["agent_id"] == AP


def test_sign_request_does_not_mutate_and_reports_bad_input(world: World) -> None:
    headers: dict[str, Any] = {"content-type": "text/plain"}
    aauth.sign_request("POST", URL, headers, b"x", world.agent)
    assert headers == {"content-type": "text/plain"}
    with pytest.raises(aauth.SignatureError, match="Unknown signature scheme"):
        aauth.sign_request("GET", URL, {}, None, world.agent, sig_scheme="nope")
    with pytest.raises(aauth.SignatureError, match="jwt"):
        aauth.sign_request("GET", URL, {}, None, world.agent, sig_scheme="jwt")


def test_typed_verifier_refuses_url_form_agents_unless_legacy(world: World) -> None:
    url_agent = "https://agent.example"
    token = world.auth_token(agent=url_agent)
    headers = aauth.sign_request("GET", URL, {}, None, world.agent, "jwt", jwt=token)
    request = HttpRequest("GET", URL, headers)
    policy = aauth.ResourcePolicy(RESOURCE, trusted_issuers=(PS,), require_identity=False)
    keys = StaticKeySource(world.jwks)
    with pytest.raises(aauth.SignatureError) as refused:
        aauth.RequestVerifier(policy, keys).verify(request)
    assert refused.value.code == "invalid_jwt"
    legacy = aauth.RequestVerifier(policy.with_(allow_legacy=True), keys)
    assert legacy.verify(request).agent_id == url_agent
    # and the 0.3 verifier, whose legacy switch is on
    verifier = aauth.RequestVerifier(["resource.example"], world.fetcher, [PS])
    assert verifier.verify_request("GET", URL, headers, None)["agent_id"] == url_agent
