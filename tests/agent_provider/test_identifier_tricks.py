"""Enrollment attacks: a name one agent derives must never be another agent's, no name an
agent chooses makes the provider fail (AP-04, AP-05), and no request is accepted twice."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from aauth_signing import JktJwt, RequestSigner

from aauth import jwt
from aauth.agent.enrollment import (
    JKT_S256_TYP,
    AgentTokenRefused,
    enrollment_proof,
    request_agent_token,
    request_subagent_token,
)
from aauth.agent_provider import AGENT_TOKEN_PATH
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
    with pytest.raises(ValueError, match=r"has no '\.'"):
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


def test_an_enrollment_replayed_at_another_instance_is_refused(
    tmp_path: Path, asgi_client: Callable[..., httpx.Client]
) -> None:
    """Two instances on one store (or one restarted): the replay guard is in the store, so
    a captured enrollment request is accepted once, not once per instance (§H.1)."""
    enrolled, instance = generate_key(), generate_key()
    agents = {"planner": {"enrollment_jkt": thumbprint(enrolled)}}
    settings = {"identifier": AP, "agents": agents, "db": str(tmp_path / "ap.db")}
    first, second = (
        asgi_client(create_agent_provider(AgentProviderConfig.load(settings)), AP) for _ in range(2)
    )
    proof = enrollment_proof(enrolled, instance.public_key())
    headers = RequestSigner(instance, JktJwt(proof)).sign("POST", AP + AGENT_TOKEN_PATH)
    assert first.post(AGENT_TOKEN_PATH, headers=headers).status_code == 200
    replayed = second.post(AGENT_TOKEN_PATH, headers=headers)
    assert replayed.status_code == 401
    assert replayed.json()["error"] == "invalid_signature"


def test_ap05_a_proof_naming_its_own_sub_or_parent_is_not_believed(
    asgi_client: Callable[..., httpx.Client],
) -> None:
    """Only ``instance`` and ``discriminator`` in a proof count: a ``sub``, ``parent_agent``
    or ``ps`` it claims never reaches the token, and ``@`` or ``%`` in a name is refused."""
    enrolled, instance = generate_key(), generate_key()
    agents = {"planner": {"enrollment_jkt": thumbprint(enrolled), "ps": "https://ps.example"}}
    app = create_agent_provider(AgentProviderConfig.load({"identifier": AP, "agents": agents}))
    client = asgi_client(app, AP)
    header, claims = jwt.peek(enrollment_proof(enrolled, instance.public_key()))
    spoofed = {
        **claims,
        "sub": "aauth:admin@ap.example",
        "parent_agent": "aauth:admin@ap.example",
        "ps": "https://evil.example",
    }
    proof = jwt.encode(
        spoofed, enrolled, typ=JKT_S256_TYP, kid="k", extra_header={"jwk": header["jwk"]}
    )
    headers = RequestSigner(instance, JktJwt(proof)).sign("POST", AP + AGENT_TOKEN_PATH)
    token = jwt.peek(client.post(AGENT_TOKEN_PATH, headers=headers).json()["agent_token"])[1]
    assert (token["sub"], token["ps"]) == ("aauth:planner@ap.example", "https://ps.example")
    assert "parent_agent" not in token
    for name in ("a@b", "a%40b", "lap\x00top", "ＬＡＰ"):
        odd = jwt.encode(
            {**claims, "instance": name},
            enrolled,
            typ=JKT_S256_TYP,
            kid="k",
            extra_header={"jwk": header["jwk"]},
        )
        headers = RequestSigner(instance, JktJwt(odd)).sign("POST", AP + AGENT_TOKEN_PATH)
        response = client.post(AGENT_TOKEN_PATH, headers=headers)
        assert (response.status_code, response.json()["error"]) == (401, "invalid_jwt")
