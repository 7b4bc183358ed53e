"""Phase 10 over real HTTP: the resource publishes ``authorization_endpoint``; an agent that
knows which scope it wants there asks for a resource token up front (§F.2) and never sees a
401. On a blocking and on an async client."""

from __future__ import annotations

import httpx
import pytest

from aauth.demo.world import World
from aauth.errors import AAuthError
from aauth.headers import parse_mission
from aauth.metadata import ResourceMetadata, well_known_url
from aauth.tokens import RESOURCE_TOKEN, decode_unverified

from .conftest import AgentFactory, recorder

MISSION = 'approver="http://127.0.0.1:9";s256="dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"'


def test_rs21_the_resource_publishes_its_authorization_endpoint(autonomous: World) -> None:
    url = well_known_url(autonomous.resource, "aauth-resource.json")
    metadata = ResourceMetadata.from_json(
        httpx.get(url).json(), autonomous.resource, allow_loopback_http=True
    )
    assert metadata.authorization_endpoint == f"{autonomous.resource}/authorize"


def test_the_agent_asks_the_authorization_endpoint_and_skips_the_401(
    autonomous: World, open_agent: AgentFactory
) -> None:
    world, log = autonomous, recorder(autonomous)
    data, ps = f"{world.resource}/data", world.person_server
    with open_agent(world, None) as agent:
        agent.auth.scopes[world.resource] = "data.read"
        response = agent.request("GET", data)
        again = agent.request("GET", data)
    assert response.status_code == 200, response.text
    assert again.status_code == 200
    assert log.trail() == [
        ("GET", well_known_url(world.resource, "aauth-resource.json"), 200),
        ("POST", f"{world.resource}/authorize", 200),
        ("GET", well_known_url(world.resource, "jwks.json"), 200),  # AG-11: verified first
        ("GET", well_known_url(ps, "aauth-person.json"), 200),
        ("POST", f"{ps}/token", 200),
        ("GET", data, 200),
        ("GET", data, 200),  # the cached auth token: no second authorization
    ]
    authorize = log.responses[1]
    assert authorize.request.headers["signature-key"].startswith("sig=jwt;")
    resource_token = authorize.json()["resource_token"]
    claims = decode_unverified(RESOURCE_TOKEN, resource_token, allow_loopback_http=True)
    assert claims.scope == ("data.read",)
    assert claims.aud == ps


def test_an_aauth_mission_header_goes_to_the_authorization_endpoint_signed(
    autonomous: World, open_agent: AgentFactory
) -> None:
    """The caller's ``AAuth-Mission`` travels to the authorization endpoint, covered by the
    signature, and the resource copies it into the resource token (RS-08). This person
    server approved no such mission, so the token request is refused."""
    world, log = autonomous, recorder(autonomous)
    with open_agent(world, None) as agent:
        agent.auth.scopes[world.resource] = "data.read"
        with pytest.raises(AAuthError):
            agent.request("GET", f"{world.resource}/data", headers={"AAuth-Mission": MISSION})
    authorize = next(r for r in log.responses if r.request.url.path == "/authorize")
    assert authorize.request.headers["aauth-mission"] == MISSION
    assert '"aauth-mission"' in authorize.request.headers["signature-input"]
    token = authorize.json()["resource_token"]
    claims = decode_unverified(RESOURCE_TOKEN, token, allow_loopback_http=True)
    assert claims.mission == parse_mission(MISSION, allow_loopback_http=True)


def test_without_a_configured_scope_the_agent_waits_for_the_challenge(
    autonomous: World, open_agent: AgentFactory
) -> None:
    world, log = autonomous, recorder(autonomous)
    with open_agent(world, None) as agent:
        assert agent.request("GET", f"{world.resource}/data").status_code == 200
    # The metadata is read for its components (AG-05), not for the authorization endpoint.
    assert log.trail()[1] == ("GET", f"{world.resource}/data", 401)


def test_a_refused_authorization_falls_back_to_the_challenge(
    autonomous: World, open_agent: AgentFactory
) -> None:
    """An unknown scope is refused (RS-16, 400 ``invalid_scope``); the request then goes
    ahead and the resource's 401 says what is needed."""
    world, log = autonomous, recorder(autonomous)
    with open_agent(world, None) as agent:
        agent.auth.scopes[world.resource] = "no.such.scope"
        assert agent.request("GET", f"{world.resource}/data").status_code == 200
    trail = log.trail()
    assert trail[1] == ("POST", f"{world.resource}/authorize", 400)
    assert trail[2] == ("GET", f"{world.resource}/data", 401)
