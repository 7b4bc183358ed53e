"""V-50: a captured ECDSA-signed request resent as ``(r, n - s)`` is the same request.

Both encodings verify (RFC 9421 and JWS do not demand low ``s``), so the replay guard keys on
the signature base, which both share. The live tests resend the rewritten request over real
HTTP to a running resource and to a running person server's ``/token``.
"""

from __future__ import annotations

import asyncio
import hashlib

import httpx
import pytest
from aauth_signing import (
    HttpRequest,
    Hwk,
    SigningKey,
    VerificationPolicy,
    sign_request,
    verify_request,
)

from aauth.agent.signer import AgentSigner
from aauth.keys import generate_key
from aauth.replay import ReplayedSignature
from aauth.resource import VerifiedCaller
from aauth.tokens import issue_agent_token

from ..person.conftest import World, token_body
from ..resource.conftest import AGENT, AP, Resource
from .attacks import flip_s, malleate, malleated
from .conftest import LiveResource, es256_agent

BODY = b'{"note": "pay 10 EUR"}'
JSON = {"content-type": "application/json"}


@pytest.mark.parametrize("algorithm", ["ES256", "ES384"])
def test_v50_both_encodings_verify_and_share_one_base_digest(algorithm: str) -> None:
    key = SigningKey.generate(algorithm)
    unsigned = HttpRequest("POST", "https://api.example/items", JSON, BODY)
    request = unsigned.with_headers(
        sign_request(unsigned, key, Hwk.from_public_key(key.public_key()))
    )
    policy = VerificationPolicy.generic(accepted_schemes=("hwk",))
    original = verify_request(request, policy)
    twin = verify_request(malleated(request, algorithm), policy)
    assert twin.signature == flip_s(original.signature, algorithm) != original.signature
    assert twin.base == original.base
    assert twin.base_digest == original.base_digest == hashlib.sha256(original.base).digest()
    assert original.base.endswith(b'"@signature-params": ' + original.params.serialize().encode())


def es256_resource() -> Resource:
    """The resource test world with an ES256 agent key (the default key is Ed25519)."""
    world = Resource()
    key = generate_key("ES256")
    world.agent_token = issue_agent_token(world.ap, iss=AP, sub=AGENT, cnf_jwk=key.public_key())
    world.signer = AgentSigner(key, world.agent_token)
    return world


@pytest.mark.parametrize("colour", ["sync", "async"])
def test_v50_malleated_post_is_a_replay_at_the_verifier(colour: str) -> None:
    world = es256_resource()
    verifier = world.verifier(require_auth_token=False)
    request = world.request("POST", body=BODY, headers=JSON)

    def verify(request: HttpRequest) -> VerifiedCaller:
        if colour == "sync":
            return verifier.verify(request)
        return asyncio.run(verifier.averify(request))

    verify(request)
    with pytest.raises(ReplayedSignature):
        verify(malleated(request))


def test_v50_malleated_post_is_a_replay_in_the_other_order() -> None:
    """The guard does not care which encoding arrived first."""
    world = es256_resource()
    verifier = world.verifier(require_auth_token=False)
    request = world.request("POST", body=BODY, headers=JSON)
    verifier.verify(malleated(request))
    with pytest.raises(ReplayedSignature):
        verifier.verify(request)


# -- over real HTTP --------------------------------------------------------------------------


def test_v50_live_resource_refuses_the_malleated_post(live_resource: LiveResource) -> None:
    signer, auth_token = live_resource.agent("ES256")
    url = f"{live_resource.url}/data"
    headers = {**JSON, **signer.sign("POST", url, JSON, BODY, token=auth_token)}
    with httpx.Client() as http:
        first = http.post(url, content=BODY, headers=headers)
        assert first.status_code == 201, first.text
        replay = http.post(url, content=BODY, headers=malleate(headers, "ES256"))
        assert replay.status_code == 401, replay.text
        assert replay.headers["signature-error"] == "error=invalid_signature"
        assert replay.json()["error"] == "invalid_signature"
        assert "already been used" in replay.json()["detail"]
        listed = http.get(url, headers=signer.sign("GET", url, token=auth_token))
        assert listed.status_code == 200
        assert len(listed.json()["items"]) == 1  # the replay stored nothing


def test_v50_live_token_endpoint_issues_one_auth_token(live_person_server: World) -> None:
    world = live_person_server
    agent = es256_agent(world)
    url = f"{world.ps}/token"
    body = token_body(world.resource_token(agent))
    headers = agent.headers("POST", url, body)
    with httpx.Client() as http:
        first = http.post(url, content=body, headers=headers)
        assert first.status_code == 200, first.text
        assert "auth_token" in first.json()
        replay = http.post(url, content=body, headers=malleate(headers, "ES256"))
    assert replay.status_code == 401, replay.text
    assert replay.headers["signature-error"] == "error=invalid_signature"
    assert replay.json()["error"] == "invalid_signature"
    assert "auth_token" not in replay.text
