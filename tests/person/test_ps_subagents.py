"""Parent-mediated sub-agent requests at the person server (protocol-10 §F.3 ``subagent_token``,
§D.1 sub-agents): PS-06, PS-07, and AS-04 as it applies to a person server issuing the token
itself (the parent is recorded in ``act``)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from aauth import jwt
from aauth.keys import KeySet
from aauth.tokens import issue_agent_token

from .conftest import (
    AGENT,
    ALICE_PASSWORD,
    Agent,
    World,
    auto,
    client,
    decide,
    interaction_of,
    open_consent,
    request_token,
    sign_in,
)
from .test_ps_missions import ap_signed_revocation
from .test_ps_token_endpoint import problem, verify_at_resource

CHILD = "aauth:bot+search1@ap.example"


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


async def parent_asks(
    world: World, parent: Agent, child: Agent, resource_token: str | None = None, **config: Any
) -> httpx.Response:
    async with client(world.app(**config)) as http:
        token = resource_token or world.resource_token(child)
        return await request_token(http, parent, token, subagent_token=child.token)


def test_ps07_parent_obtains_a_token_bound_to_its_subagent(world: World) -> None:
    """AS-04 (at the PS): the auth token is the sub-agent's, with the parent in ``act``."""
    parent, child = world.agent(), world.agent("bot+search1", parent=AGENT)

    async def scenario() -> tuple[httpx.Response, dict[str, Any]]:
        async with client(world.app(auto_approve=(auto(agent=AGENT),))) as http:
            token = world.resource_token(child)
            response = await request_token(http, parent, token, subagent_token=child.token)
            return response, (await http.get("/.well-known/jwks.json")).json()

    response, jwks = run(scenario())
    assert response.status_code == 200, response.text
    claims = verify_at_resource(jwks, response.json()["auth_token"], child)
    assert claims.agent == CHILD
    assert claims.act is not None
    assert (claims.act.agent, claims.act.act) == (AGENT, None)


def test_rules_for_the_parent_do_not_cover_other_agents(world: World) -> None:
    """The request is decided as the parent's: a rule for the sub-agent alone does not apply."""
    parent, child = world.agent(), world.agent("bot+search1", parent=AGENT)
    rule = auto(agent=CHILD)
    response = run(parent_asks(world, parent, child, auto_approve=(rule,)))
    assert response.status_code == 202, response.text


def test_ps07_subagent_token_must_name_the_signer_as_parent(world: World) -> None:
    parent = world.agent()
    stranger_child = world.agent("other+x", parent="aauth:other@ap.example")
    body = problem(run(parent_asks(world, parent, stranger_child)), 400, "invalid_agent_token")
    assert "parent_agent" in body["detail"]


def test_ps07_top_level_token_is_not_a_subagent_token(world: World) -> None:
    parent, other = world.agent(), world.agent("other")
    problem(run(parent_asks(world, parent, other)), 400, "invalid_agent_token")


def test_ps07_resource_token_must_be_bound_to_the_subagent(world: World) -> None:
    parent, child = world.agent(), world.agent("bot+search1", parent=AGENT)
    for_parent = world.resource_token(parent)
    response = run(parent_asks(world, parent, child, for_parent))
    body = problem(response, 400, "invalid_resource_token")
    assert "agent" in body["detail"]
    wrong_key = world.resource_token(child, agent_jkt=parent.signer.thumbprint)
    problem(run(parent_asks(world, parent, child, wrong_key)), 400, "invalid_resource_token")


def test_subagent_token_from_another_provider_is_refused(world: World) -> None:
    parent = world.agent()
    other_keys = KeySet.generate()
    key = world.agent().key
    forged = issue_agent_token(
        other_keys,
        iss=world.ap,
        sub=CHILD,
        cnf_jwk=key.public_key(),
        ps=world.ps,
        parent_agent=AGENT,
    )
    child = Agent(CHILD, world.ap, key, forged, type(parent.signer)(key, forged))
    problem(run(parent_asks(world, parent, child)), 400, "invalid_agent_token")


def test_expired_subagent_token(world: World) -> None:
    parent = world.agent()
    child = world.agent("bot+search1", parent=AGENT, lifetime=60, now=1_000_000)
    problem(run(parent_asks(world, parent, child)), 400, "expired_agent_token")


def test_ps06_sub_agent_of_a_sub_agent_cannot_be_asked_for(world: World) -> None:
    """A sub-agent's own token request is refused (PS-06), so no sub-agent can obtain a token
    for a further sub-agent; and the provider refuses to mint one (AP-06)."""
    child = world.agent("bot+search1", parent=AGENT)
    key = world.agent().key
    with pytest.raises(Exception, match="sub-agent"):
        issue_agent_token(
            world.ap_keys,
            iss=world.ap,
            sub="aauth:bot+search1+deeper@ap.example",
            cnf_jwk=key.public_key(),
            parent_agent=CHILD,
        )
    grandchild = world.agent("bot+search2", parent=AGENT)
    body = problem(run(parent_asks(world, child, grandchild)), 400, "invalid_request")
    assert "PS-06" in body["detail"]


def test_person_sees_the_subagent_and_approves_for_the_parent(world: World) -> None:
    parent, child = world.agent(), world.agent("bot+search1", parent=AGENT)

    async def scenario() -> None:
        async with client(world.app()) as http:
            first = await request_token(
                http, parent, world.resource_token(child), subagent_token=child.token
            )
            assert first.status_code == 202, first.text
            url, code = interaction_of(first)
            await sign_in(http, "alice", ALICE_PASSWORD)
            page = await open_consent(http, url, code)
            assert CHILD in page.text
            assert AGENT in page.text
            decided = await decide(http, page)
            assert decided.status_code == 200
            location = first.headers["location"]
            headers = parent.headers("GET", location)
            done = await http.get(location, headers=headers)
            assert done.status_code == 200, done.text
            assert jwt.peek(done.json()["auth_token"])[1]["act"] == {"agent": AGENT}
            # the consent was the parent's: its next request for itself needs no person
            again = await request_token(http, parent, world.resource_token(parent))
            assert again.status_code == 200, again.text

    run(scenario())


async def revoke_as_provider(http: httpx.AsyncClient, world: World, agent: Agent) -> None:
    """The agent provider revokes ``agent``'s token (§F.11), signed as itself."""
    jti = jwt.peek(agent.token)[1]["jti"]
    raw, headers = ap_signed_revocation(world, {"iss": world.ap, "jti": jti})
    assert (await http.post("/revoke", content=raw, headers=headers)).status_code == 200


def test_ps24_a_revoked_subagent_token_is_refused_when_its_parent_presents_it(
    world: World,
) -> None:
    """PS-24: once its provider revoked a sub-agent's token, the parent presenting it as
    ``subagent_token`` gets no auth token for that sub-agent's key (the parent's own token,
    the signer, is not revoked)."""
    parent, child = world.agent(), world.agent("bot+search1", parent=AGENT)

    async def scenario() -> None:
        async with client(world.app(auto_approve=(auto(agent=AGENT),))) as http:
            await revoke_as_provider(http, world, child)
            token = world.resource_token(child)
            response = await request_token(http, parent, token, subagent_token=child.token)
            assert "revoked" in problem(response, 400, "invalid_agent_token")["detail"]

    run(scenario())


def test_ps24_a_subagent_token_revoked_while_the_person_decides_gets_no_auth_token(
    world: World,
) -> None:
    """PS-24: revoked after the parent asked and before the person approved, the sub-agent's
    token mints nothing: the approval is refused and the parent's poll gets no auth token."""
    parent, child = world.agent(), world.agent("bot+search1", parent=AGENT)

    async def scenario() -> None:
        async with client(world.app()) as http:
            token = world.resource_token(child)
            first = await request_token(http, parent, token, subagent_token=child.token)
            assert first.status_code == 202, first.text
            await sign_in(http, "alice", ALICE_PASSWORD)
            page = await open_consent(http, *interaction_of(first))
            await revoke_as_provider(http, world, child)
            refused = await decide(http, page)
            assert refused.status_code == 400, refused.text
            assert "invalid_agent_token" in refused.text
            location = first.headers["location"]
            polled = await http.get(location, headers=parent.headers("GET", location))
            assert "auth_token" not in polled.text
            assert polled.status_code != 200, polled.text

    run(scenario())
