"""One test at least for each 0.3 function not exercised by the behaviour tests: headers,
metadata, keys, signing helpers, polling, the resource helpers."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

import aauth

from .conftest import AGENT, AP, PS, RESOURCE, World


def test_build_error_response_uses_rfc9457_detail() -> None:
    assert aauth.build_error_response("denied", "no", interval=5) == {
        "error": "denied",
        "detail": "no",
        "interval": 5,
    }
    assert aauth.build_error_response(aauth.ERROR_SLOW_DOWN) == {"error": "slow_down"}


def test_error_constructors() -> None:
    token = aauth.TokenError("t", "aa-auth+jwt", "invalid_auth_token", {"a": 1})
    assert (token.token_type, token.error_code, token.details) == (
        "aa-auth+jwt",
        "invalid_auth_token",
        {"a": 1},
    )
    assert aauth.ChallengeError("c", "auth-token").challenge_type == "auth-token"
    assert aauth.MetadataError("m", "https://x.example").metadata_url == "https://x.example"
    assert aauth.JWKSError("j", "https://x.example/jwks").jwks_uri == "https://x.example/jwks"


@pytest.mark.parametrize(
    ("function", "good", "bad"),
    [
        (
            "validate_server_identifier",
            "https://ps.example",
            [
                "http://ps.example",
                "https://PS.example",
                "https://ps.example/",
                "https://ps.example:8443",
                "",
            ],
        ),
        (
            "validate_endpoint_url",
            "https://ps.example/token",
            ["https://ps.example/t?x=1", "https://ps.example/t#f", "http://ps.example/t"],
        ),
        (
            "validate_other_url",
            "https://ps.example/logo.png?v=1",
            ["http://ps.example/logo.png", "ps.example"],
        ),
    ],
)
def test_validators(function: str, good: str, bad: list[str]) -> None:
    validate = getattr(aauth, function)
    assert validate(good) == good
    for value in bad:
        with pytest.raises(ValueError):
            validate(value)


def test_metadata_generators() -> None:
    agent = aauth.generate_agent_metadata(
        AP, f"{AP}/jwks", client_name="Bot", localhost_callback_allowed=False
    )
    assert agent == {
        "issuer": AP,
        "jwks_uri": f"{AP}/jwks",
        "client_name": "Bot",
        "localhost_callback_allowed": False,
    }
    resource = aauth.generate_resource_metadata(
        RESOURCE,
        f"{RESOURCE}/jwks",
        resource_token_endpoint=f"{RESOURCE}/authorize",
        scope_descriptions={"data.read": "Read"},
    )
    assert resource["authorization_endpoint"] == f"{RESOURCE}/authorize"
    assert "resource_token_endpoint" not in resource
    access = aauth.generate_auth_metadata(
        "https://as.example",
        "https://as.example/jwks",
        "https://as.example/token",
        "https://as.example/interact",
    )
    assert access["token_endpoint"] == "https://as.example/token"
    person = aauth.generate_mm_metadata(
        PS,
        f"{PS}/token",
        f"{PS}/jwks",
        mission_endpoint=f"{PS}/mission",
        scopes_supported=["openid"],
    )
    assert person == {
        "issuer": PS,
        "token_endpoint": f"{PS}/token",
        "jwks_uri": f"{PS}/jwks",
        "mission_endpoint": f"{PS}/mission",
        "scopes_supported": ["openid"],
    }


def test_key_helpers(world: World) -> None:
    jwk = aauth.public_key_to_jwk(world.agent.public_key(), kid="k")
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["kid"]) == ("OKP", "Ed25519", "Ed25519", "k")
    assert aauth.jwk_to_public_key(jwk) == world.agent.public_key()
    assert aauth.calculate_jwk_thumbprint(jwk) == aauth.calculate_jwk_thumbprint(
        {k: v for k, v in jwk.items() if k not in ("alg", "kid")}
    )
    assert aauth.generate_jwks([jwk]) == {"keys": [jwk]}
    with pytest.raises(ValueError, match="Ed25519"):
        aauth.jwk_to_public_key({"kty": "RSA", "n": "x", "e": "AQAB"})
    with pytest.raises(aauth.SignatureError):
        aauth.sign_request("GET", f"{RESOURCE}/", {}, None, "not a key")


def test_jwks_cache() -> None:
    cache = aauth.JWKSCache(ttl=3600)
    assert cache.get("u") is None
    cache.set("u", {"keys": []})
    assert cache.get("u") == {"keys": []}
    cache.invalidate("u")
    assert cache.get("u") is None
    cache.set("u", {"keys": []})
    cache.clear()
    assert cache.get("u") is None
    stale = aauth.JWKSCache(ttl=-1)  # every entry is already older than its TTL
    stale.set("u", {"keys": []})
    assert stale.get("u") is None


def test_algorithms() -> None:
    assert aauth.is_supported("ED25519")
    assert aauth.is_supported(aauth.ECDSA_P256_SHA256)
    assert not aauth.is_supported("hmac-sha256")
    assert aauth.SUPPORTED_ALGORITHMS[0] == aauth.ED25519


def test_signature_header_helpers(world: World) -> None:
    header = aauth.build_signature_key_header("hwk", world.agent)
    parsed = aauth.parse_signature_key(header)
    assert (parsed["scheme"], parsed["label"], parsed["params"]["crv"]) == ("hwk", "sig", "Ed25519")
    assert aauth.parse_signature_key(
        aauth.build_signature_key_header("jwt", label="a", jwt="x.y.z")
    ) == {"scheme": "jwt", "params": {"jwt": "x.y.z"}, "label": "a"}
    with pytest.raises(ValueError):
        aauth.build_signature_key_header("x509")
    with pytest.raises(ValueError):
        aauth.parse_signature_key("sig=(scheme=hwk)")
    value = aauth.build_signature_input_header(["@method", "@authority"], created=1700000000)
    assert value == 'sig=("@method" "@authority");created=1700000000'
    assert aauth.parse_signature_input(value) == (
        ["@method", "@authority"],
        {"created": "1700000000"},
    )
    with pytest.raises(ValueError):
        aauth.parse_signature_input("nonsense")
    signature = aauth.build_signature_header(b"\xff" * 64)
    assert aauth.parse_signature(signature) == b"\xff" * 64
    assert aauth.parse_signature(signature, "sig") == b"\xff" * 64
    with pytest.raises(ValueError, match="Label"):
        aauth.parse_signature(signature, "other")
    with pytest.raises(ValueError):
        aauth.parse_signature("sig=garbage")


def test_verify_token(world: World) -> None:
    token = world.auth_token()
    claims = aauth.verify_token(
        token, world.fetcher, "aa-auth+jwt", PS, RESOURCE, AGENT, world.agent_jwk
    )
    assert claims["agent"] == AGENT
    assert aauth.verify_token(token, world.fetcher)["iss"] == PS
    for kwargs in (
        {"expected_iss": AP},
        {"expected_aud": PS},
        {"expected_agent": "aauth:x@agent.example"},
        {"request_signing_jwk": aauth.public_key_to_jwk(world.ps.public_key())},
        {"expected_typ": "aa-agent+jwt"},
        {"expected_typ": "nope"},
    ):
        with pytest.raises(aauth.TokenError):
            aauth.verify_token(token, world.fetcher, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(aauth.TokenError):
        aauth.parse_token_claims("not a token")


def test_requirement_builders() -> None:
    assert aauth.build_pseudonym_requirement(["ed25519"]) == "hwk"
    assert aauth.build_identity_requirement() == "requirement=agent-token"
    assert (
        aauth.build_auth_token_requirement("a.b.c", "https://as.example")
        == 'requirement=auth-token;resource-token="a.b.c"'
    )
    assert aauth.build_interaction_requirement("https://ps.example/i", "ABCD2345").startswith(
        "requirement=interaction"
    )
    assert aauth.build_approval_requirement() == "requirement=approval"
    assert aauth.build_clarification_requirement() == "requirement=clarification"
    assert aauth.build_claims_requirement() == "requirement=claims"
    assert aauth.build_agent_auth_challenge() == "hwk"
    assert aauth.build_agent_auth_challenge(require_identity=True) == "requirement=agent-token"
    assert (
        aauth.build_agent_auth_challenge(
            require_auth_token=True, resource_token="a.b.c", auth_server=PS
        )
        == 'requirement=auth-token;resource-token="a.b.c"'
    )
    assert aauth.requirement_header_for_level(aauth.REQUIRE_PSEUDONYM) == "Accept-Signature-Scheme"
    assert (
        aauth.requirement_header_for_level(aauth.REQUIRE_IDENTITY) == aauth.HEADER_AAUTH_REQUIREMENT
    )
    assert aauth.HEADER_SIGNATURE_REQUIREMENT == "Signature-Requirement"
    with pytest.raises(aauth.ChallengeError):
        aauth.build_interaction_requirement("http://evil.example/i", "ABCD2345")


@pytest.mark.parametrize(
    ("value", "requirement", "extra"),
    [
        (
            'requirement=auth-token; resource-token="a.b.c"',
            aauth.REQUIRE_AUTH_TOKEN,
            {"resource_token": "a.b.c"},
        ),
        ("requirement=agent-token", aauth.REQUIRE_IDENTITY, {}),
        ("requirement=identity", aauth.REQUIRE_IDENTITY, {}),
        (
            'requirement=interaction; url="https://ps.example/i"; code="ABCD2345"',
            aauth.REQUIRE_INTERACTION,
            {"code": "ABCD2345"},
        ),
        ("requirement=approval", aauth.REQUIRE_APPROVAL, {}),
        ("requirement=clarification", aauth.REQUIRE_CLARIFICATION, {}),
        ("requirement=claims", aauth.REQUIRE_CLAIMS, {}),
        ("requirement=pseudonym", aauth.REQUIRE_PSEUDONYM, {}),
        ('require=interaction; code="ABCD2345"', aauth.REQUIRE_INTERACTION, {"code": "ABCD2345"}),
    ],
)
def test_requirement_parsers(value: str, requirement: str, extra: dict[str, Any]) -> None:
    for parse in (aauth.parse_aauth_requirement, aauth.parse_signature_requirement):
        parsed = parse(value)
        assert parsed["requirement"] == requirement
        assert parsed.items() >= extra.items()
    header = aauth.parse_aauth_header(value)
    assert header["require"] == header["requirement"] == requirement


def test_parse_aauth_header_legacy_accept_signature_and_errors() -> None:
    parsed = aauth.parse_aauth_header('sig=("@method" "@authority");sigkey=uri')
    assert (parsed["requirement"], parsed["sigkey"]) == (aauth.REQUIRE_IDENTITY, "uri")
    assert parsed["components"] == ["@method", "@authority"]
    for bad in ("", "garbage ;;", "requirement=", 'requirement=auth-token; resource-token=")'):
        with pytest.raises(aauth.ChallengeError):
            aauth.parse_aauth_header(bad)


def test_get_challenge_header_value() -> None:
    assert aauth.get_challenge_header_value(None) == ""
    assert aauth.get_challenge_header_value({"x": "1"}) == ""
    assert aauth.get_challenge_header_value({"AAuth-Requirement": "a", "Agent-Auth": "b"}) == "a"
    assert aauth.get_challenge_header_value({"agent-auth": "httpsig"}) == "httpsig"


def test_mission_header() -> None:
    value = aauth.build_aauth_mission_header(PS, "a" * 43)
    assert aauth.parse_aauth_mission_header(value) == {"approver": PS, "s256": "a" * 43}
    assert aauth.parse_aauth_mission_header("junk") == {"approver": None, "s256": None}
    with pytest.raises(aauth.ChallengeError):
        aauth.build_aauth_mission_header("http://ps.example", "a" * 43)


def test_signature_error_headers() -> None:
    value = aauth.build_signature_error("invalid_input", ["@method", "signature-key"])
    assert value == 'error=invalid_input, required_input=("@method" "signature-key")'
    assert (
        aauth.build_aauth_error("unsupported_algorithm", supported_algorithms=["ed25519"])
        == "error=unsupported_algorithm"
    )
    for parse in (aauth.parse_signature_error, aauth.parse_aauth_error):
        assert parse(value) == {
            "error": "invalid_input",
            "required_input": ["@method", "signature-key"],
            "supported_algorithms": None,
        }
    legacy = aauth.parse_signature_error(
        'error=unsupported_algorithm, supported_algorithms=("ed25519")'
    )
    assert legacy["supported_algorithms"] == ["ed25519"]
    with pytest.raises(aauth.ChallengeError):
        aauth.build_signature_error("Not A Code")
    with pytest.raises(aauth.ChallengeError):
        aauth.parse_signature_error("nonsense;;")


def test_aauth_response() -> None:
    response = aauth.AAuthResponse(401, {"AAuth-Requirement": "requirement=agent-token"}, b"")
    assert response.get_header("aauth-requirement") == "requirement=agent-token"
    assert response.get_header("x", "d") == "d"
    copy = aauth.AAuthResponse.from_dict({"status_code": 200})
    assert (copy.status_code, copy.headers, copy.body) == (200, {}, None)
    assert "200" in repr(copy)


def test_challenge_handler() -> None:
    handler = aauth.ChallengeHandler()
    auth = handler.parse_challenge('requirement=auth-token; resource-token="a.b.c"')
    assert handler.determine_response_scheme(auth, has_auth_token=True) == "jwt"
    with pytest.raises(aauth.ChallengeError):
        handler.determine_response_scheme(auth)
    identity = handler.parse_challenge("requirement=agent-token")
    assert handler.determine_response_scheme(identity, has_agent_token=True) == "jwt"
    assert handler.determine_response_scheme(identity) == "jwks_uri"
    assert handler.determine_response_scheme({"require": "pseudonym"}) == "hwk"


def test_extract_resource_token() -> None:
    assert (
        aauth.extract_resource_token(
            {"AAuth-Requirement": 'requirement=auth-token; resource-token="a.b.c"'}
        )
        == "a.b.c"
    )
    assert aauth.extract_resource_token({}) is None
    assert aauth.extract_resource_token({"AAuth-Requirement": "requirement=agent-token"}) is None
    assert aauth.extract_resource_token({"AAuth-Requirement": "junk ;;"}) is None


def _responses(*answers: httpx.Response) -> Any:
    queue = list(answers)
    return lambda url: queue.pop(0)


def _pending(**body: Any) -> httpx.Response:
    return httpx.Response(202, json={"status": "pending", **body}, headers={"Retry-After": "0"})


def test_poll_pending_url_outcomes() -> None:
    prompts: list[tuple[str, str]] = []
    answers: list[dict[str, Any]] = []
    done = aauth.poll_pending_url(
        "https://ps.example/pending/1",
        _responses(
            httpx.Response(
                202,
                json={"status": "pending", "requirement": "interaction", "code": "ABCD2345"},
                headers={
                    "Retry-After": "0",
                    "AAuth-Requirement": (
                        'requirement=interaction; url="https://ps.example/i"; code="ABCD2345"'
                    ),
                },
            ),
            _pending(clarification="Which project?"),
            httpx.Response(429, headers={"Retry-After": "0"}),
            httpx.Response(200, json={"auth_token": "a.b.c"}),
        ),
        on_interaction=lambda url, code: prompts.append((url, code)),
        on_clarification=lambda url, question: "apollo",
        sign_and_send_post=lambda url, body: answers.append(body),
    )
    assert done.success
    assert done.auth_token == "a.b.c"
    assert done.status_code == 200
    assert prompts == [("https://ps.example/i?code=ABCD2345", "ABCD2345")]
    assert answers == [{"clarification_response": "apollo"}]
    denied = aauth.poll_pending_url("u", _responses(httpx.Response(403, json={"error": "denied"})))
    assert (denied.success, denied.error, denied.status_code) == (False, "denied", 403)
    odd = aauth.poll_pending_url("u", _responses(httpx.Response(418)))
    assert odd.error == "unexpected_status"
    exhausted = aauth.poll_pending_url("u", _responses(_pending(), _pending()), max_polls=2)
    assert exhausted.error == "max_polls_exceeded"

    def broken(url: str) -> httpx.Response:
        raise httpx.ConnectError("down")

    assert aauth.poll_pending_url("u", broken).error == "network_error"


def test_async_poll_pending_url() -> None:
    queue = [_pending(), httpx.Response(408, json={"error": "expired"})]

    async def get(url: str) -> httpx.Response:
        return queue.pop(0)

    result = asyncio.run(aauth.async_poll_pending_url("u", get))
    assert isinstance(result, aauth.PollingResult)
    assert (result.success, result.error, result.status_code) == (False, "expired", 408)


def test_resource_token_issuer_and_challenge_builder(world: World) -> None:
    issuer = aauth.ResourceTokenIssuer(RESOURCE, world.resource, "r-1", PS)
    assert isinstance(issuer, aauth.ResourceTokenIssuer)
    token = issuer.issue_token(AGENT, world.agent.public_key(), "data.read")
    payload = aauth.parse_token_claims(token)["payload"]
    assert (payload["iss"], payload["aud"], payload["agent_jkt"]) == (
        RESOURCE,
        PS,
        aauth.calculate_jwk_thumbprint(world.agent_jwk),
    )
    with pytest.raises(aauth.TokenError):
        issuer.issue_token(AGENT, "not a key", "data.read")
    builder = aauth.ChallengeBuilder(RESOURCE, world.resource, "r-1", PS)
    name, value = builder.build_challenge(
        require_auth_token=True,
        agent_id=AGENT,
        agent_public_key=world.agent.public_key(),
        scope="data.read",
    )
    assert name == "AAuth-Requirement"
    assert aauth.parse_aauth_header(value)["resource_token"]
    assert builder.build_challenge(require_identity=True) == (
        "AAuth-Requirement",
        "requirement=agent-token",
    )
    assert builder.build_challenge() == ("Accept-Signature-Scheme", "hwk")
    with pytest.raises(aauth.ChallengeError):
        builder.build_challenge(require_auth_token=True)


def test_typed_resource_token_issuer_is_unchanged(world: World) -> None:
    from aauth import KeySet

    typed = aauth.ResourceTokenIssuer(RESOURCE, KeySet.generate(), access_server=PS)
    assert type(typed) is aauth.ResourceTokenIssuer
