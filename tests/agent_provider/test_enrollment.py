"""The agent side of enrollment: the jkt-jwt proof and request_agent_token (sync and async)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest
from aauth_signing import jwk_from_public_key, parse_signature_input

from aauth import jwt
from aauth.agent.enrollment import (
    AgentTokenRefused,
    arequest_agent_token,
    enrollment_proof,
    request_agent_token,
)
from aauth.errors import InvalidToken
from aauth.keys import KeySet, generate_key, thumbprint
from aauth.server.agent_provider import create_agent_provider
from aauth.tokens import issue_agent_token

from .conftest import AGENT, AP, Provider, config


def test_enrollment_proof_delegates_from_the_enrolled_key_to_the_instance_key() -> None:
    enrolled, instance = generate_key(), generate_key()
    proof = enrollment_proof(enrolled, instance.public_key(), lifetime=30, now=1_800_000_000)
    header, claims = jwt.peek(proof)
    assert header["typ"] == "jkt-s256+jwt"
    assert header["alg"] == "Ed25519"
    assert header["jwk"] == jwk_from_public_key(enrolled.public_key())
    assert claims["iss"] == f"urn:jkt:sha-256:{thumbprint(enrolled)}"
    assert claims["cnf"] == {"jwk": jwk_from_public_key(instance.public_key())}
    assert (claims["iat"], claims["exp"]) == (1_800_000_000, 1_800_000_030)
    assert "sub" not in claims
    for lifetime in (0, 3601):
        with pytest.raises(ValueError):
            enrollment_proof(enrolled, instance.public_key(), lifetime=lifetime)


def test_request_agent_token_sync(ap: Provider) -> None:
    token = request_agent_token(AP, ap.enrolled, ap.instance, ap.client)
    claims = jwt.peek(token)[1]
    assert claims["sub"] == AGENT
    assert claims["cnf"]["jwk"] == jwk_from_public_key(ap.instance.public_key())


def test_request_agent_token_async() -> None:
    enrolled, instance = generate_key(), generate_key()

    async def scenario() -> str:
        transport = httpx.ASGITransport(app=create_agent_provider(config(enrolled)))
        async with httpx.AsyncClient(transport=transport) as client:
            return await arequest_agent_token(AP, enrolled, instance, client)

    claims = jwt.peek(asyncio.run(scenario()))[1]
    assert claims["sub"] == AGENT
    assert claims["cnf"]["jwk"] == jwk_from_public_key(instance.public_key())


def test_refusal_carries_the_providers_status_and_code(ap: Provider) -> None:
    with pytest.raises(AgentTokenRefused) as caught:
        request_agent_token(AP, generate_key(), ap.instance, ap.client)
    assert caught.value.upstream_status == 403
    assert caught.value.error == "forbidden"
    assert caught.value.status == 502


def answering(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler))


def test_a_non_json_failure_is_refused_without_a_code() -> None:
    client = answering(lambda request: httpx.Response(500, text="boom"))
    with pytest.raises(AgentTokenRefused) as caught:
        request_agent_token(AP, generate_key(), generate_key(), client)
    assert caught.value.upstream_status == 500
    assert caught.value.error is None


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"agent_token": 7}'])
def test_an_answer_without_a_token_is_invalid(body: bytes) -> None:
    client = answering(lambda request: httpx.Response(200, content=body))
    with pytest.raises(InvalidToken):
        request_agent_token(AP, generate_key(), generate_key(), client)


def test_a_token_for_another_key_or_provider_is_refused() -> None:
    keys, instance = KeySet.generate(), generate_key()
    wrong_key = issue_agent_token(keys, iss=AP, sub=AGENT, cnf_jwk=generate_key().public_key())
    other_ap = issue_agent_token(
        keys,
        iss="https://other.example",
        sub="aauth:planner@other.example",
        cnf_jwk=instance.public_key(),
    )
    for token, reason in ((wrong_key, "not bound"), (other_ap, "issued by")):
        answer = {"agent_token": token, "expires_in": 3600}

        def handler(request: httpx.Request, answer: dict[str, object] = answer) -> httpx.Response:
            return httpx.Response(200, json=answer)

        client = answering(handler)
        with pytest.raises(InvalidToken, match=reason):
            request_agent_token(AP, generate_key(), instance, client)


def test_the_request_is_a_signed_post_to_the_token_path() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(403, json={"error": "forbidden", "detail": "no"})

    with pytest.raises(AgentTokenRefused, match="no"):
        request_agent_token(AP + "/", generate_key(), generate_key(), answering(handler))
    request = seen[0]
    assert (request.method, str(request.url)) == ("POST", f"{AP}/agent-token")
    assert request.headers["signature-key"].startswith('sig=jkt-jwt;jwt="')
    assert "created=" in request.headers["signature-input"]
    params = parse_signature_input(request.headers["signature-input"])["sig"][0]
    assert params.created is not None
    assert params.created <= time.time() + 1
    assert params.nonce  # a POST carries a nonce (issue 9 #7)


def test_transport_failures_propagate() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(httpx.ConnectError):
        request_agent_token(AP, generate_key(), generate_key(), answering(handler))
