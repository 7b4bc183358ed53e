"""AG-16, AG-18: the agent renews what went stale instead of failing.

The example resource and a person server run in-process (``conftest.World``); the agent is a
real :class:`AgentAuth` flow. The only scripted part is a network fault a test injects (an
``expired_resource_token`` answer), standing in for a resource token that expired between
challenge and token request.
"""

from __future__ import annotations

import time

import httpx
import pytest

from aauth.agent import AgentAuth, AuthTokenCache
from aauth.errors import ExpiredResourceToken
from aauth.headers import AuthTokenRequirement, build_challenge
from aauth.tokens import decode_unverified, issue_resource_token
from aauth.tokens.verifier import AGENT_TOKEN

from .conftest import API, DATA, PS, World


def test_ag16_expired_resource_token_at_the_ps_means_one_fresh_challenge_and_token_request(
    world: World,
) -> None:
    answered: list[bool] = []

    def expire_first_token_request(request: httpx.Request) -> httpx.Response | None:
        if request.method == "POST" and str(request.url) == f"{PS}/token" and not answered:
            answered.append(True)
            body = {"error": "expired_resource_token", "detail": "resource token expired"}
            return httpx.Response(
                400, json=body, headers={"content-type": "application/problem+json"}
            )
        return None

    world.faults.append(expire_first_token_request)
    response = world.get(AgentAuth(world.agent()))
    assert response.status_code == 200, response.text
    challenges = [t for t in world.trail if t == ("GET", DATA, 401)]
    assert len(challenges) == 2  # the first challenge, and one fresh one
    assert world.token_requests() == 2


def test_ag16_a_second_expiry_is_raised_not_retried_forever(world: World) -> None:
    def always_expired(request: httpx.Request) -> httpx.Response | None:
        if request.method == "POST" and str(request.url) == f"{PS}/token":
            return httpx.Response(400, json={"error": "expired_resource_token"})
        return None

    world.faults.append(always_expired)
    with pytest.raises(ExpiredResourceToken):
        world.get(AgentAuth(world.agent()))
    assert world.token_requests() == 2


def test_ag16_a_resource_token_already_expired_when_received_is_renewed(world: World) -> None:
    """The agent checks ``exp`` itself (AG-11/AG-12): an expired challenge is replaced by a
    fresh one without asking the PS about the stale one."""
    served: list[bool] = []

    def stale_challenge(request: httpx.Request) -> httpx.Response | None:
        if request.method == "GET" and str(request.url) == DATA and not served:
            served.append(True)
            jwt = request.headers["signature-key"].split('jwt="', 1)[1].rstrip('"')
            agent = decode_unverified(AGENT_TOKEN, jwt)
            token = issue_resource_token(
                world.resource_keys,
                iss=API,
                aud=PS,
                agent=agent.sub,
                agent_jkt=agent.jkt,
                scope="data.read",
                now=time.time() - 3600,
            )
            return httpx.Response(401, headers=build_challenge(AuthTokenRequirement(token)))
        return None

    world.faults.append(stale_challenge)
    response = world.get(AgentAuth(world.agent()))
    assert response.status_code == 200, response.text
    assert world.token_requests() == 1  # only the fresh token was sent to the PS


def test_ag18_tokens_are_cached_per_agent_key_and_a_rotated_key_reauthorizes(
    world: World,
) -> None:
    cache = AuthTokenCache()
    first = world.agent()
    assert world.get(AgentAuth(first, cache=cache)).status_code == 200
    assert world.get(AgentAuth(first, cache=cache)).status_code == 200
    assert world.token_requests() == 1  # the cached token served the second request
    rotated = world.agent()  # same agent, new key
    assert world.get(AgentAuth(rotated, cache=cache)).status_code == 200
    assert world.token_requests() == 2  # the old key's token was not presented
    presented = [t for t in world.trail if t[0] == "GET" and t[1] == DATA]
    assert ("GET", DATA, 401) in presented[-3:]


def test_ag18_a_401_for_a_stale_auth_token_reauthorizes_once(world: World) -> None:
    cache = AuthTokenCache()
    signer = world.agent()
    auth = AgentAuth(signer, cache=cache)
    assert world.get(auth).status_code == 200
    token = cache.get(API)
    assert token is not None
    # The resource now refuses that token (as after a revocation): the agent drops it,
    # presents its agent token, gets a fresh challenge and one new auth token.
    refused: list[bool] = []

    def refuse_old_token(request: httpx.Request) -> httpx.Response | None:
        if str(request.url) == DATA and token in request.headers.get("signature-key", ""):
            refused.append(True)
            return httpx.Response(
                401,
                headers={"Signature-Error": "error=invalid_jwt"},
                json={"error": "invalid_jwt"},
            )
        return None

    world.faults.append(refuse_old_token)
    assert world.get(auth).status_code == 200
    assert refused == [True]
    assert world.token_requests() == 2
    assert cache.get(API) != token
