"""The shared verifier: result cache (V-25), sync and async paths, key-source seam."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aauth_signing import UnknownKey

from aauth import jwt
from aauth.errors import InvalidAuthToken, InvalidToken, TokenExpired
from aauth.tokens import (
    AGENT_TOKEN,
    AUTH_TOKEN,
    RESOURCE_TOKEN,
    TokenVerifier,
    decode_unverified,
    issue_agent_token,
    issue_auth_token,
    issue_resource_token,
)

AP = "https://ap.example"
PS = "https://ps.example"
RESOURCE = "https://docs.example"
AGENT = "aauth:bot@ap.example"


def agent_token(world: Any, sub: str = AGENT, lifetime: int = 3600) -> str:
    return issue_agent_token(
        world.ap,
        iss=AP,
        sub=sub,
        cnf_jwk=world.agent_key.public_key(),
        ps=PS,
        lifetime=lifetime,
        now=world.clock.now,
    )


def resource_token(world: Any) -> str:
    return issue_resource_token(
        world.resource,
        iss=RESOURCE,
        aud=PS,
        agent=AGENT,
        agent_jkt=world.agent_jkt,
        scope="docs.read",
        now=world.clock.now,
    )


def auth_token(world: Any) -> str:
    return issue_auth_token(
        world.ps,
        iss=PS,
        dwk="aauth-person.json",
        aud=RESOURCE,
        agent=AGENT,
        cnf_jwk=world.agent_key.public_key(),
        agent_exp=world.clock.now + 3600,
        resource_scope="docs.read",
        scope="docs.read",
        now=world.clock.now,
    )


def test_v25_second_verification_does_not_touch_the_key_source(world: Any) -> None:
    verifier = world.verifier()
    token = agent_token(world)
    first = verifier.verify_agent_token(token, expected_jkt=world.agent_jkt)
    second = verifier.verify_agent_token(token, expected_jkt=world.agent_jkt)
    assert second is first
    assert len(world.keys.calls) == 1


def test_cached_tokens_still_get_their_per_request_bindings(world: Any) -> None:
    verifier = world.verifier()
    token = auth_token(world)
    verifier.verify_auth_token(token, audience=RESOURCE, agent=AGENT, request_jkt=world.agent_jkt)
    with pytest.raises(InvalidAuthToken, match="aud"):
        verifier.verify_auth_token(
            token, audience="https://other.example", agent=AGENT, request_jkt=world.agent_jkt
        )
    with pytest.raises(InvalidToken, match="signed the request"):
        verifier.verify_agent_token(agent_token(world), expected_jkt="x")
    assert len(world.keys.calls) == 2


def test_cache_entries_expire_with_the_token(world: Any) -> None:
    verifier = world.verifier(leeway=0)
    token = agent_token(world, lifetime=60)
    verifier.verify(AGENT_TOKEN, token)
    world.clock.now += 59
    verifier.verify(AGENT_TOKEN, token)
    assert len(world.keys.calls) == 1
    world.clock.now += 1
    with pytest.raises(TokenExpired):
        verifier.verify(AGENT_TOKEN, token)
    assert len(world.keys.calls) == 2


def test_cache_honours_the_leeway_like_a_fresh_check(world: Any) -> None:
    verifier = world.verifier(leeway=30)
    token = agent_token(world, lifetime=60)
    verifier.verify(AGENT_TOKEN, token)
    world.clock.now += 89
    verifier.verify(AGENT_TOKEN, token)
    assert len(world.keys.calls) == 1
    world.clock.now += 1
    with pytest.raises(TokenExpired):
        verifier.verify(AGENT_TOKEN, token)


def test_v25_cache_is_bounded_and_evicts_the_least_recently_used(world: Any) -> None:
    verifier = world.verifier(cache_size=2)
    a, b, c = (agent_token(world, sub=f"aauth:{n}@ap.example") for n in "abc")
    verifier.verify(AGENT_TOKEN, a)
    verifier.verify(AGENT_TOKEN, b)
    verifier.verify(AGENT_TOKEN, a)  # a is now the most recently used
    verifier.verify(AGENT_TOKEN, c)  # evicts b
    assert len(world.keys.calls) == 3
    verifier.verify(AGENT_TOKEN, a)
    verifier.verify(AGENT_TOKEN, c)
    assert len(world.keys.calls) == 3
    verifier.verify(AGENT_TOKEN, b)
    assert len(world.keys.calls) == 4


def test_cache_can_be_disabled_and_cleared(world: Any) -> None:
    token = agent_token(world)
    uncached = world.verifier(cache_size=0)
    uncached.verify(AGENT_TOKEN, token)
    uncached.verify(AGENT_TOKEN, token)
    assert len(world.keys.calls) == 2
    cached = world.verifier()
    cached.verify(AGENT_TOKEN, token)
    cached.clear_cache()
    cached.verify(AGENT_TOKEN, token)
    assert len(world.keys.calls) == 4
    with pytest.raises(ValueError, match="cache_size"):
        TokenVerifier(world.keys, cache_size=-1)


def test_failures_are_not_cached(world: Any) -> None:
    verifier = world.verifier()
    token = world.forge(world.ap, "aa-agent+jwt", {"iss": AP, "dwk": "aauth-agent.json"})
    for _ in range(2):
        with pytest.raises(InvalidToken):
            verifier.verify(AGENT_TOKEN, token)
    assert len(world.keys.calls) == 2


def test_a_cached_token_is_never_returned_as_another_type(world: Any) -> None:
    verifier = world.verifier()
    token = agent_token(world)
    verifier.verify(AGENT_TOKEN, token)
    with pytest.raises(InvalidToken, match="typ"):
        verifier.verify(AUTH_TOKEN, token)


def test_key_source_failures_propagate(world: Any) -> None:
    token = world.forge(world.ap, "aa-agent+jwt", {"iss": AP, "dwk": "aauth-agent.json"}, kid="x")
    with pytest.raises(UnknownKey):
        world.verifier().verify(AGENT_TOKEN, token)


@pytest.mark.parametrize("token", [None, 5, b"a.b.c", "x" * (jwt.MAX_TOKEN_LENGTH + 1)])
def test_non_tokens_are_invalid(world: Any, token: Any) -> None:
    with pytest.raises(InvalidToken):
        world.verifier().verify(AGENT_TOKEN, token)


def test_async_paths_verify_every_type_through_aget_key(world: Any) -> None:
    verifier = world.verifier()

    async def scenario() -> tuple[Any, Any, Any]:
        return (
            await verifier.averify_agent_token(agent_token(world), expected_jkt=world.agent_jkt),
            await verifier.averify_resource_token(
                resource_token(world),
                audience=PS,
                agent=AGENT,
                agent_jkt=world.agent_jkt,
                approver=PS,
            ),
            await verifier.averify_auth_token(
                auth_token(world), audience=RESOURCE, agent=AGENT, request_jkt=world.agent_jkt
            ),
        )

    agent, resource, auth = asyncio.run(scenario())
    assert (agent.sub, resource.iss, auth.aud) == (AGENT, RESOURCE, RESOURCE)
    assert [call[1] for call in world.keys.calls] == [
        "aauth-agent.json",
        "aauth-resource.json",
        "aauth-person.json",
    ]


def test_async_path_uses_and_fills_the_same_cache(world: Any) -> None:
    verifier = world.verifier()
    token = agent_token(world)
    sync_claims = verifier.verify(AGENT_TOKEN, token)

    async def scenario() -> list[Any]:
        return list(await asyncio.gather(*(verifier.averify(AGENT_TOKEN, token) for _ in range(5))))

    assert all(claims is sync_claims for claims in asyncio.run(scenario()))
    assert len(world.keys.calls) == 1


def test_async_path_applies_the_same_checks(world: Any) -> None:
    verifier = world.verifier()
    token = agent_token(world)

    async def scenario() -> None:
        await verifier.averify_agent_token(token, expected_jkt="someone-else")

    with pytest.raises(InvalidToken, match="signed the request"):
        asyncio.run(scenario())

    async def wrong_aud() -> None:
        await verifier.averify_resource_token(
            resource_token(world),
            audience=RESOURCE,
            agent=AGENT,
            agent_jkt=world.agent_jkt,
            approver=None,
        )

    with pytest.raises(InvalidToken, match="aud"):
        asyncio.run(wrong_aud())

    async def wrong_agent() -> None:
        await verifier.averify_auth_token(
            auth_token(world), audience=RESOURCE, agent="aauth:x@ap.example", request_jkt=None
        )

    with pytest.raises(InvalidAuthToken, match="agent"):
        asyncio.run(wrong_agent())


def test_decode_unverified_never_looks_up_keys_and_still_checks_time(world: Any) -> None:
    token = resource_token(world)
    claims = decode_unverified(RESOURCE_TOKEN, token, now=world.clock.now)
    assert claims.agent == AGENT
    assert world.keys.calls == []
    with pytest.raises(TokenExpired):
        decode_unverified(RESOURCE_TOKEN, token, now=world.clock.now + 1000)


def test_verified_claims_are_read_only(world: Any) -> None:
    claims = world.verifier().verify(AGENT_TOKEN, agent_token(world))
    with pytest.raises(TypeError):
        claims.raw["sub"] = "aauth:evil@ap.example"
    with pytest.raises(TypeError):
        claims.cnf_jwk["x"] = "AAAA"


def test_three_party_flow_chains_verified_claims_into_issuance(world: Any) -> None:
    """AP → agent token; resource → resource token; PS verifies both and issues from the
    verified claims; the resource verifies the auth token bound to the agent's key."""
    ps_verifier = world.verifier()
    agent = ps_verifier.verify_agent_token(agent_token(world), expected_jkt=world.agent_jkt)
    offer = ps_verifier.verify_resource_token(
        resource_token(world), audience=PS, agent=agent.sub, agent_jkt=agent.jkt, approver=PS
    )
    token = issue_auth_token(
        world.ps,
        iss=PS,
        dwk="aauth-person.json",
        aud=offer.iss,
        agent=offer.agent,
        cnf_jwk=agent.cnf_jwk,
        agent_exp=agent.exp,
        resource_scope=offer.scope,
        scope=offer.scope,
        now=world.clock.now,
    )
    resource_verifier = world.verifier(trusted_issuers={PS})
    grant = resource_verifier.verify_auth_token(
        token, audience=RESOURCE, agent=AGENT, request_jkt=world.agent_jkt
    )
    assert grant.scope == ("docs.read",)
    assert grant.cnf_jwk == agent.cnf_jwk
