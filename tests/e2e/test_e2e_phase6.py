"""Phase 6 end to end: delegates of one enrolled agent, key rotation, sub-agents, on real
servers (agent provider, person server, resource), each verifying agent tokens through the
provider's metadata and JWKS (§D.1, §C.5; AP-05, AP-06, PS-06, PS-07, AS-04 at the PS, V-27)."""

from __future__ import annotations

import json

import httpx
import pytest

from aauth.agent.auth import AgentAuth
from aauth.agent.enrollment import AgentTokenRefused, request_agent_token, request_subagent_token
from aauth.agent.poller import PollSettings
from aauth.agent.signer import AgentSigner
from aauth.demo.world import World
from aauth.keys import generate_key
from aauth.tokens import AuthTokenClaims, decode_unverified
from aauth.tokens.verifier import AUTH_TOKEN

LOOP = {"allow_loopback_http": True}


def instance(world: World, name: str) -> AgentSigner:
    key = generate_key()
    with httpx.Client() as client:
        token = request_agent_token(
            world.agent_provider, world.extras["enrollment_key"], key, client, instance=name, **LOOP
        )
    return AgentSigner(key, token)


def subagent(world: World, parent: AgentSigner, discriminator: str) -> AgentSigner:
    key = generate_key()
    with httpx.Client() as client:
        token = request_subagent_token(
            world.agent_provider, parent.key, key, discriminator, client, **LOOP
        )
    return AgentSigner(key, token)


def fetch(world: World, signer: AgentSigner, parent: AgentSigner | None = None) -> AuthTokenClaims:
    auth = AgentAuth(signer, parent=parent, poll=PollSettings(deadline=30, **LOOP), **LOOP)
    with httpx.Client(auth=auth, timeout=30) as client:
        response = client.get(f"{world.resource}/data")
    assert response.status_code == 200, response.text
    token = auth.cache.get(world.resource)
    assert token is not None
    return decode_unverified(AUTH_TOKEN, token, **LOOP)


def host(world: World) -> str:
    return world.agent_provider.split("://", 1)[1]


def test_delegates_get_auth_tokens_naming_the_instance(autonomous: World) -> None:
    world = autonomous
    laptop, phone = instance(world, "laptop"), instance(world, "phone")
    first, second = fetch(world, laptop), fetch(world, phone)
    assert first.agent == f"aauth:assistant.laptop@{host(world)}"
    assert second.agent == f"aauth:assistant.phone@{host(world)}"
    assert (first.jkt, second.jkt) == (laptop.thumbprint, phone.thumbprint)
    assert first.act is None


def test_identifier_survives_key_rotation_and_old_tokens_die_with_the_key(
    autonomous: World,
) -> None:
    world = autonomous
    before = instance(world, "laptop")
    old = fetch(world, before)
    after = instance(world, "laptop")
    new = fetch(world, after)
    assert old.agent == new.agent
    assert old.jkt != new.jkt
    # the auth token bound to the old key, signed with the new key: refused (AG-18)
    url = f"{world.resource}/data"
    with httpx.Client() as client:
        stale = AgentSigner(after.key, before.agent_token)
        assert client.get(url, headers=stale.sign("GET", url, {})).status_code == 401


def test_delegate_whose_key_does_not_match_its_token_is_refused(autonomous: World) -> None:
    """V-27 at the resource and at the person server, both verifying via the provider."""
    world = autonomous
    laptop, phone = instance(world, "laptop"), instance(world, "phone")
    impostor = AgentSigner(phone.key, laptop.agent_token)
    url = f"{world.resource}/data"
    token_url = f"{world.person_server}/token"
    body = json.dumps({"resource_token": "eyJ.e30.sig"}).encode()
    with httpx.Client() as client:
        at_resource = client.get(url, headers=impostor.sign("GET", url, {}))
        headers = {"content-type": "application/json"}
        headers.update(impostor.sign("POST", token_url, headers, body))
        at_ps = client.post(token_url, content=body, headers=headers)
    assert at_resource.status_code == 401
    assert at_resource.headers["signature-error"] == "error=invalid_signature"
    assert at_ps.status_code == 401
    assert at_ps.headers["signature-error"] == "error=invalid_signature"


def test_subagent_gets_its_own_token_through_its_parent(autonomous: World) -> None:
    world = autonomous
    laptop = instance(world, "laptop")
    search = subagent(world, laptop, "search1")
    claims = fetch(world, search, parent=laptop)
    assert claims.agent == f"aauth:assistant.laptop+search1@{host(world)}"
    assert claims.jkt == search.thumbprint
    assert claims.act is not None
    assert claims.act.agent == f"aauth:assistant.laptop@{host(world)}"


def test_subagent_cannot_call_the_person_server_itself(autonomous: World) -> None:
    """AG-34 at the agent, PS-06 at the person server."""
    world = autonomous
    search = subagent(world, instance(world, "laptop"), "search1")
    with pytest.raises(ValueError, match="parent"):
        AgentAuth(search, **LOOP)
    token_url = f"{world.person_server}/token"
    body = json.dumps({"resource_token": "eyJ.e30.sig"}).encode()
    headers = {"content-type": "application/json"}
    headers.update(search.sign("POST", token_url, headers, body))
    with httpx.Client() as client:
        refused = client.post(token_url, content=body, headers=headers)
    assert refused.status_code == 400
    assert "PS-06" in refused.json()["detail"]


def test_no_subagent_of_a_subagent(autonomous: World) -> None:
    world = autonomous
    search = subagent(world, instance(world, "laptop"), "search1")
    with pytest.raises(AgentTokenRefused) as refused:
        subagent(world, search, "deeper")
    assert refused.value.upstream_status == 403
    assert "AP-06" in str(refused.value)
