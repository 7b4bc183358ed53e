"""Identifier tricks at enrollment: a name one agent derives must never be another agent's,
and no name an agent chooses makes the provider fail (AP-04, AP-05)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from aauth.agent.enrollment import AgentTokenRefused, request_agent_token, request_subagent_token
from aauth.keys import generate_key, thumbprint
from aauth.server.agent_provider import AgentProviderConfig, create_agent_provider

from .conftest import AP


def test_ap05_an_enrolled_name_with_a_dot_is_refused_at_configuration() -> None:
    """``planner.laptop`` is what the holder of planner's key gets for its instance
    ``laptop``: a second agent enrolled under that name would be impersonated."""
    agents = {
        "planner": {"enrollment_jkt": thumbprint(generate_key())},
        "planner.laptop": {"enrollment_jkt": thumbprint(generate_key())},
    }
    with pytest.raises(ValueError, match="'.'"):
        create_agent_provider(AgentProviderConfig.load({"identifier": AP, "agents": agents}))


def test_ap04_a_name_too_long_for_the_identifier_is_refused(
    asgi_client: Callable[..., httpx.Client],
) -> None:
    """A long enrolled name plus an instance name or a discriminator would pass 255
    characters: the proof is refused (invalid_jwt), never a 500, and nothing is recorded."""
    enrolled, laptop = generate_key(), generate_key()
    local = "p" * 200
    agents = {local: {"enrollment_jkt": thumbprint(enrolled)}}
    app = create_agent_provider(AgentProviderConfig.load({"identifier": AP, "agents": agents}))
    client = asgi_client(app, AP)
    with pytest.raises(AgentTokenRefused) as refused:
        request_agent_token(AP, enrolled, laptop, client, instance="i" * 60)
    assert (refused.value.upstream_status, refused.value.error) == (401, "invalid_jwt")
    request_agent_token(AP, enrolled, laptop, client, instance="lap")
    with pytest.raises(AgentTokenRefused) as refused:
        request_subagent_token(AP, laptop, generate_key(), "s" * 60, client)
    assert (refused.value.upstream_status, refused.value.error) == (401, "invalid_jwt")
    delegates = app.state.agent_provider.delegates
    assert delegates.get(f"aauth:{local}.lap@ap.example") is not None
    assert delegates.get(f"aauth:{local}.lap+{'s' * 60}@ap.example") is None
