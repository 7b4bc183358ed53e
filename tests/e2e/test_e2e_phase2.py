"""Phase 2 over real HTTP: the agent instance enrolls with its agent provider for an agent
token, and the resource identifies it through the provider's metadata and JWKS."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from aauth.demo.world import AGENT_LOCAL, World, running_world
from aauth.headers import AgentTokenRequirement, parse_requirement
from aauth.tokens import decode_unverified
from aauth.tokens.verifier import AGENT_TOKEN

from .conftest import Recorder


@pytest.fixture
def enrolled() -> Iterator[World]:
    with running_world(Recorder()) as world:
        yield world


def agent_id(world: World) -> str:
    return f"aauth:{AGENT_LOCAL}@{world.agent_provider.split('://', 1)[1]}"


def test_enrollment_yields_an_agent_token_bound_to_the_instance_key(enrolled: World) -> None:
    signer = enrolled.signer
    assert signer.agent_token is not None
    claims = decode_unverified(AGENT_TOKEN, signer.agent_token, allow_loopback_http=True)
    assert claims.iss == enrolled.agent_provider
    assert claims.sub == agent_id(enrolled)
    assert claims.jkt == signer.thumbprint
    assert claims.ps is None  # this world has no person server


def test_hwk_is_not_enough_for_an_identity_route(enrolled: World) -> None:
    url = f"{enrolled.resource}/whoami"
    response = httpx.get(url, headers=enrolled.signer.sign("GET", url, scheme="hwk"))
    assert response.status_code == 401
    requirement = parse_requirement(response.headers["aauth-requirement"])
    assert isinstance(requirement, AgentTokenRequirement)
    assert "signature-error" not in response.headers  # the signature itself was fine


def test_agent_token_identifies_the_agent(enrolled: World) -> None:
    url = f"{enrolled.resource}/whoami"
    response = httpx.get(url, headers=enrolled.signer.sign("GET", url))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "agent": agent_id(enrolled),
        "scheme": "jwt",
        "thumbprint": enrolled.signer.thumbprint,
        "issuer": enrolled.agent_provider,
        "ps": None,
    }
