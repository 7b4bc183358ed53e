"""§F.11 on real servers: an agent provider revokes an agent token at the person server; the
PS refuses it from then on (PS-24) and revokes, at their resources, the auth tokens it issued
under it, so they stop working there at once instead of living out their hour."""

from __future__ import annotations

import json

import httpx
from aauth_signing import JwksUri

from aauth.agent.signer import AgentSigner
from aauth.demo.consent import agent_client
from aauth.demo.world import World
from aauth.tokens import decode_unverified
from aauth.tokens.verifier import AGENT_TOKEN


def revoke_as_agent_provider(world: World, jti: str) -> httpx.Response:
    """What the agent provider sends: ``{"iss", "jti"}`` signed as itself (``jwks_uri``)."""
    provider = world.servers[world.agent_provider]._server.config.app.state.agent_provider
    url = f"{world.person_server}/revoke"
    body = json.dumps({"iss": world.agent_provider, "jti": jti}).encode()
    identity = JwksUri(world.agent_provider, "aauth-agent.json", provider.keys.current_kid)
    signer = AgentSigner(provider.keys.current, identity=identity)
    headers = {"content-type": "application/json"}
    headers.update(signer.sign("POST", url, headers, body, scheme="jwks_uri"))
    return httpx.post(url, content=body, headers=headers)


def test_ps24_revoking_an_agent_token_revokes_its_auth_tokens_at_the_resource(
    autonomous: World,
) -> None:
    world = autonomous
    url = f"{world.resource}/data"
    client, auth = agent_client(world)
    with client:
        assert client.get(url).status_code == 200
    auth_token = auth.cache.get(world.resource)
    assert auth_token is not None
    agent_token = world.signer.agent_token
    assert agent_token is not None
    jti = decode_unverified(AGENT_TOKEN, agent_token, allow_loopback_http=True).jti

    revoked = revoke_as_agent_provider(world, jti)

    assert revoked.status_code == 200, revoked.text
    [outcome] = revoked.json()["auth_tokens"]
    assert outcome["outcome"] == "revoked"
    direct = httpx.get(url, headers=world.signer.sign("GET", url, token=auth_token))
    assert direct.status_code == 401  # the resource learnt of it: the token counts as absent,
    assert direct.headers["aauth-requirement"] == "requirement=agent-token"  # so: who are you?
    again = revoke_as_agent_provider(world, jti)
    assert again.status_code == 200
    assert again.json()["auth_tokens"] == []  # nothing left to revoke


def test_ps24_other_agent_tokens_keep_their_auth_tokens(autonomous: World) -> None:
    """Revoking an agent token nobody used, or another one, leaves live grants alone."""
    world = autonomous
    url = f"{world.resource}/data"
    client, auth = agent_client(world)
    with client:
        assert client.get(url).status_code == 200
    auth_token = auth.cache.get(world.resource)
    assert auth_token is not None
    revoked = revoke_as_agent_provider(world, "some-other-agent-token")
    assert revoked.status_code == 200
    assert revoked.json()["auth_tokens"] == []
    direct = httpx.get(url, headers=world.signer.sign("GET", url, token=auth_token))
    assert direct.status_code == 200
