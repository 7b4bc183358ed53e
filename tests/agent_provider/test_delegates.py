"""Delegates (phase 6): named instances keep their identifier across key changes; an instance
obtains tokens for its sub-agents (AP-05); a sub-agent never for sub-agents of its own
(AP-06); the provider remembers its delegates across a restart."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from aauth import jwt
from aauth.agent.enrollment import (
    AgentTokenRefused,
    enrollment_proof,
    request_agent_token,
    request_subagent_token,
)
from aauth.keys import generate_key, thumbprint
from aauth.server.agent_provider import create_agent_provider

from ..person.test_ps_restart import PersonServerProcess, free_port
from .conftest import AGENT, AP, PS, Provider, config

LAPTOP = "aauth:planner.laptop@ap.example"
SEARCH = "aauth:planner.laptop+search1@ap.example"


def claims_of(token: str) -> dict[str, object]:
    return jwt.peek(token)[1]


def test_named_instances_get_their_own_identifier_and_key(ap: Provider) -> None:
    laptop, phone = generate_key(), generate_key()
    first = request_agent_token(AP, ap.enrolled, laptop, ap.client, instance="laptop")
    second = request_agent_token(AP, ap.enrolled, phone, ap.client, instance="phone")
    unnamed = request_agent_token(AP, ap.enrolled, generate_key(), ap.client)
    assert claims_of(first)["sub"] == LAPTOP
    assert claims_of(second)["sub"] == "aauth:planner.phone@ap.example"
    assert claims_of(unnamed)["sub"] == AGENT
    assert "parent_agent" not in claims_of(first)
    assert claims_of(first)["ps"] == PS
    delegate = ap.provider.delegates.get(LAPTOP)
    assert delegate is not None
    assert delegate.jkt == thumbprint(laptop)


def test_an_instance_keeps_its_identifier_across_key_rotation(ap: Provider) -> None:
    old, new = generate_key(), generate_key()
    before = request_agent_token(AP, ap.enrolled, old, ap.client, instance="laptop")
    after = request_agent_token(AP, ap.enrolled, new, ap.client, instance="laptop")
    assert claims_of(before)["sub"] == claims_of(after)["sub"] == LAPTOP
    assert claims_of(before)["cnf"] != claims_of(after)["cnf"]
    delegate = ap.provider.delegates.get(LAPTOP)
    assert delegate is not None
    assert (delegate.jkt, delegate.tokens_issued) == (thumbprint(new), 2)
    # the old key no longer speaks for the instance: it cannot obtain sub-agent tokens
    with pytest.raises(AgentTokenRefused) as refused:
        request_subagent_token(AP, old, generate_key(), "search1", ap.client)
    assert refused.value.upstream_status == 403


def test_ap05_subagent_token_names_its_parent(ap: Provider) -> None:
    laptop, searcher = generate_key(), generate_key()
    request_agent_token(AP, ap.enrolled, laptop, ap.client, instance="laptop")
    token = request_subagent_token(AP, laptop, searcher, "search1", ap.client)
    claims = claims_of(token)
    assert claims["sub"] == SEARCH
    assert claims["parent_agent"] == LAPTOP
    assert claims["ps"] == PS
    delegate = ap.provider.delegates.get(SEARCH)
    assert delegate is not None
    assert (delegate.jkt, delegate.parent_agent) == (thumbprint(searcher), LAPTOP)


def test_ap06_no_subagent_of_a_subagent(ap: Provider) -> None:
    laptop, searcher = generate_key(), generate_key()
    request_agent_token(AP, ap.enrolled, laptop, ap.client, instance="laptop")
    request_subagent_token(AP, laptop, searcher, "search1", ap.client)
    with pytest.raises(AgentTokenRefused) as refused:
        request_subagent_token(AP, searcher, generate_key(), "deeper", ap.client)
    assert refused.value.upstream_status == 403
    assert ap.provider.delegates.get("aauth:planner.laptop+search1+deeper@ap.example") is None


def test_subagent_proof_rules(ap: Provider) -> None:
    laptop = generate_key()
    request_agent_token(AP, ap.enrolled, laptop, ap.client, instance="laptop")
    sub_key = generate_key()
    # an enrolled key cannot mint a sub-agent directly: the parent is a running instance
    proof = enrollment_proof(ap.enrolled, sub_key.public_key(), discriminator="x")
    assert ap.post(proof, sub_key).json()["error"] == "invalid_jwt"
    # a parent's proof must name the sub-agent, and only that
    assert ap.post(enrollment_proof(laptop, sub_key.public_key()), sub_key).status_code == 401
    both = enrollment_proof(laptop, sub_key.public_key(), discriminator="x", instance="y")
    assert ap.post(both, sub_key).status_code == 401
    # a key the provider never saw
    stranger = enrollment_proof(generate_key(), sub_key.public_key(), discriminator="x")
    assert ap.post(stranger, sub_key).status_code == 403


@pytest.mark.parametrize("name", ["", "Laptop", "a.b", "a+b", "x" * 65, "é"])
def test_bad_instance_names_are_refused(ap: Provider, name: str) -> None:
    with pytest.raises(ValueError):
        enrollment_proof(ap.enrolled, ap.instance.public_key(), instance=name)
    header, claims = jwt.peek(enrollment_proof(ap.enrolled, ap.instance.public_key()))
    raw = jwt.encode(
        {**claims, "instance": name},
        ap.enrolled,
        typ="jkt-s256+jwt",
        kid=thumbprint(ap.enrolled),
        extra_header={"jwk": header["jwk"]},
    )
    response = ap.post(raw)
    assert response.status_code == 401
    assert "instance" in response.json()["detail"]


def test_delegates_survive_a_restart(
    tmp_path: Path, asgi_client: Callable[..., httpx.Client]
) -> None:
    enrolled, laptop = generate_key(), generate_key()
    db = str(tmp_path / "ap.db")
    first = asgi_client(create_agent_provider(config(enrolled, db=db)), AP)
    request_agent_token(AP, enrolled, laptop, first, instance="laptop")
    again = asgi_client(create_agent_provider(config(enrolled, db=db)), AP)
    token = request_subagent_token(AP, laptop, generate_key(), "search1", again)
    assert claims_of(token)["parent_agent"] == LAPTOP


def test_delegates_survive_kill_9_of_the_agent_provider(tmp_path: Path) -> None:
    """The provider process dies (SIGKILL) after an instance enrolled; restarted on the same
    database, it still knows the instance's current key and issues its sub-agent token."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    enrolled, laptop = generate_key(), generate_key()
    (tmp_path / "ap.json").write_text(
        json.dumps(
            {
                "identifier": url,
                "allow_loopback_http": True,
                "db": str(tmp_path / "ap.db"),
                "key_file": str(tmp_path / "ap-keys.json"),
                "agents": {"planner": {"enrollment_jkt": thumbprint(enrolled)}},
            }
        )
    )
    server = PersonServerProcess(
        tmp_path / "ap.json",
        port,
        tmp_path / "ap.log",
        module="aauth.server.agent_provider",
        document="aauth-agent.json",
    )
    loop = {"allow_loopback_http": True}
    try:
        server.start()
        with httpx.Client(timeout=30) as client:
            request_agent_token(url, enrolled, laptop, client, instance="laptop", **loop)
            server.kill()
            server.start()
            token = request_subagent_token(url, laptop, generate_key(), "search1", client, **loop)
        assert claims_of(token)["parent_agent"] == f"aauth:planner.laptop@127.0.0.1:{port}"
    finally:
        server.stop()
