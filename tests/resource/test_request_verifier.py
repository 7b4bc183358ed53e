"""RequestVerifier: signature, token, binding and route policy at a resource (§C.6, §D.3)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aauth_signing import ExpiredJWT, InvalidJWT, InvalidSignature, UnsupportedScheme

from aauth.errors import error_response
from aauth.headers import AuthTokenRequirement, parse_requirement
from aauth.replay import ReplayedSignature
from aauth.resource import AgentTokenRequired, AuthTokenRequired
from aauth.tokens import decode_unverified
from aauth.tokens.verifier import RESOURCE_TOKEN

from .conftest import AGENT, PS, RESOURCE, Resource


def test_agent_token_gives_an_identified_caller(world: Resource) -> None:
    caller = world.verifier(require_auth_token=False).verify(world.request())
    assert caller.agent_id == AGENT
    assert caller.scheme == "jwt"
    assert caller.thumbprint == world.signer.thumbprint
    assert caller.agent_token is not None
    assert caller.issuer == "https://ap.example"
    assert caller.scopes == frozenset()


def test_auth_token_gives_scopes_and_subject(world: Resource) -> None:
    token = world.auth_token(sub="user-1")
    caller = world.verifier(require_auth_token=True).verify(world.request(token=token))
    assert caller.scopes == {"docs.read"}
    assert caller.subject == "user-1"
    assert caller.agent_id == AGENT
    assert caller.issuer == PS


def test_rs02_missing_auth_token_is_challenged_with_a_resource_token(world: Resource) -> None:
    with pytest.raises(AuthTokenRequired) as caught:
        world.verifier(require_auth_token=True).verify(world.request())
    response = error_response(caught.value)
    assert response.status == 401
    assert "Signature-Error" not in response.headers
    requirement = parse_requirement(response.headers["AAuth-Requirement"])
    assert isinstance(requirement, AuthTokenRequirement)
    claims = decode_unverified(RESOURCE_TOKEN, requirement.resource_token)
    assert claims.iss == RESOURCE
    assert claims.aud == PS  # RS-05: the agent token's ps
    assert claims.agent == AGENT
    assert claims.agent_jkt == world.signer.thumbprint  # RS-06
    assert claims.scope == ("docs.read",)


def test_ag13_step_up_when_scope_is_insufficient(world: Resource) -> None:
    token = world.auth_token(scope="docs.read")
    verifier = world.verifier(require_auth_token=True, required_scopes=("docs.write",))
    with pytest.raises(AuthTokenRequired) as caught:
        verifier.verify(world.request(token=token))
    claims = decode_unverified(RESOURCE_TOKEN, caught.value.resource_token)
    assert claims.scope == ("docs.write", "docs.read")  # keeps what the agent holds


def test_step_up_drops_scopes_the_resource_does_not_offer(world: Resource) -> None:
    token = world.auth_token(scope="docs.read openid")
    verifier = world.verifier(require_auth_token=True, required_scopes=("docs.write",))
    with pytest.raises(AuthTokenRequired) as caught:
        verifier.verify(world.request(token=token))
    claims = decode_unverified(RESOURCE_TOKEN, caught.value.resource_token)
    assert claims.scope == ("docs.write", "docs.read")


def test_rs01_pseudonymous_caller_is_asked_for_an_agent_token(world: Resource) -> None:
    verifier = world.verifier(accepted_schemes=("jwt", "hwk"))
    with pytest.raises(AgentTokenRequired) as caught:
        verifier.verify(world.request(scheme="hwk"))
    headers = error_response(caught.value).headers
    assert headers["AAuth-Requirement"] == "requirement=agent-token"


def test_hwk_allowed_when_identity_is_not_required(world: Resource) -> None:
    verifier = world.verifier(accepted_schemes=("hwk",), require_identity=False)
    caller = verifier.verify(world.request(scheme="hwk"))
    assert caller.agent_id is None
    assert caller.thumbprint == world.signer.thumbprint


def test_hwk_refused_on_aauth_routes(world: Resource) -> None:
    with pytest.raises(UnsupportedScheme):
        world.verifier().verify(world.request(scheme="hwk"))


def test_rs10_auth_token_for_another_resource_is_refused(world: Resource) -> None:
    token = world.auth_token(aud="https://other.example")
    with pytest.raises(InvalidJWT, match="aud"):
        world.verifier(require_auth_token=True).verify(world.request(token=token))


def test_rs09_auth_token_from_untrusted_issuer_is_refused(world: Resource) -> None:
    token = world.auth_token()
    verifier = world.verifier(require_auth_token=True, trusted_issuers=("https://x.example",))
    with pytest.raises(InvalidJWT, match="trusted"):
        verifier.verify(world.request(token=token))


def test_expired_agent_token_is_expired_jwt(world: Resource) -> None:
    from aauth.tokens import issue_agent_token

    old = issue_agent_token(
        world.ap,
        iss="https://ap.example",
        sub=AGENT,
        cnf_jwk=world.signer.key.public_key(),
        now=1_000_000,
    )
    with pytest.raises(ExpiredJWT):
        world.verifier().verify(world.request(token=old))


def test_signature_for_another_host_is_refused(world: Resource) -> None:
    request = world.request(url="https://evil.example/reports/q3")
    with pytest.raises(InvalidSignature, match="does not answer"):
        world.verifier().verify(request)


def test_replayed_post_is_refused(world: Resource) -> None:
    verifier = world.verifier()
    request = world.request("POST", body=b'{"a":1}', headers={"content-type": "application/json"})
    verifier.verify(request)
    with pytest.raises(ReplayedSignature):
        verifier.verify(request)


def test_rs14_authorization_must_be_covered_and_is_surfaced(world: Resource) -> None:
    request = world.request(headers={"Authorization": "AAuth c2Vzcy0xMjM0"})
    caller = world.verifier().verify(request)
    assert caller.access_token == "c2Vzcy0xMjM0"


def test_async_verify(world: Resource) -> None:
    token = world.auth_token()
    verifier = world.verifier(require_auth_token=True)
    caller = asyncio.run(verifier.averify(world.request(token=token)))
    assert caller.scopes == {"docs.read"}


def test_authority_defaults_to_the_resource_identifiers_host(world: Resource) -> None:
    verifier = world.verifier(canonical_authorities=())
    assert verifier.verify(world.request()).agent_id == AGENT
    with pytest.raises(InvalidSignature, match="does not answer"):
        verifier.verify(world.request(url="https://docs.example.evil/reports/q3"))


def test_unreachable_issuer_keys_are_a_401_signature_error(world: Resource) -> None:
    """§C.6: a key source that cannot reach or trust the issuer is invalid_jwt, not a 502."""
    from aauth.egress import EgressDenied
    from aauth.errors import error_response
    from aauth.resource import RequestVerifier

    class Refusing:
        def get_key(self, issuer: str, dwk: str, kid: str) -> Any:
            raise EgressDenied(f"{issuer} resolves to a private address")

        async def aget_key(self, issuer: str, dwk: str, kid: str) -> Any:
            return self.get_key(issuer, dwk, kid)

    verifier = RequestVerifier(world.policy(), Refusing())
    with pytest.raises(InvalidJWT) as caught:
        verifier.verify(world.request())
    response = error_response(caught.value)
    assert response.status == 401
    assert response.headers["Signature-Error"] == "error=invalid_jwt"
    assert b"private address" not in response.body


def test_jwks_scheme_resolves_through_a_key_source_that_fetches_jwks(world: Resource) -> None:
    """signature-key-08 §2.4: the JWKS URL is the signer's identity, used byte for byte."""
    from aauth_signing import HttpRequest, Jwks, jwk_from_public_key, sign_request

    from aauth.keysource import StaticKeySource
    from aauth.resource import RequestVerifier

    url = "https://keys.example/agent.jwks"
    jwk = jwk_from_public_key(world.signer.key.public_key(), kid="k1")

    class Fetching(StaticKeySource):
        def get_jwks(self, address: str) -> dict[str, Any]:
            assert address == url
            return {"keys": [jwk]}

    target = "https://docs.example/reports/q3"
    headers = sign_request(HttpRequest("GET", target), world.signer.key, Jwks(url, "k1"))
    policy = world.policy(accepted_schemes=("jwks",), require_identity=False)
    caller = RequestVerifier(policy, Fetching({})).verify(HttpRequest("GET", target, headers))
    assert caller.scheme == "jwks"
    assert caller.signature.signer == url
    with pytest.raises(UnsupportedScheme):
        RequestVerifier(policy, StaticKeySource({})).verify(HttpRequest("GET", target, headers))


def test_seed_eddsa_tokens_only_with_allow_legacy(world: Resource) -> None:
    """§A.4 (1): the seed's ``EdDSA`` JWT alg is read only when a resource opts in."""
    import json
    import time

    from aauth_signing import b64url_encode

    key, kid = world.ps.current, world.ps.current_kid
    header = {"alg": "EdDSA", "typ": "aa-auth+jwt", "kid": kid}
    now = int(time.time())
    claims = {
        "iss": PS,
        "dwk": "aauth-person.json",
        "aud": RESOURCE,
        "jti": "j1",
        "agent": AGENT,
        "cnf": {"jwk": dict(world.signer.jwk)},
        "scope": "docs.read",
        "iat": now,
        "exp": now + 600,
    }
    segments = [b64url_encode(json.dumps(part).encode()) for part in (header, claims)]
    signing_input = ".".join(segments).encode()
    token = ".".join([*segments, b64url_encode(key.sign(signing_input))])
    request = world.request(token=token)
    with pytest.raises(InvalidJWT):
        world.verifier(require_auth_token=True).verify(request)
    caller = world.verifier(require_auth_token=True, allow_legacy=True).verify(request)
    assert caller.scopes == {"docs.read"}
