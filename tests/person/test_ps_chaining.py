"""Call chaining at the person server (§D.4): ``upstream_token`` checks (PS-16), the ``act``
chain (PS-17), no copied ``sub`` (PS-18), the depth bound, and who may decide (in process).

The intermediary is the resource ``docs.example`` acting as an agent: it vouches for itself
(agent token ``iss`` = ``docs.example``), and asks for a token to ``mail.example``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from aauth.agent.signer import AgentSigner
from aauth.egress import EgressPolicy
from aauth.keys import KeySet, generate_key
from aauth.person import TokenRevoker
from aauth.resource import RevokedTokens
from aauth.store import SQLiteStore
from aauth.tokens import (
    AGENT_TOKEN,
    AUTH_TOKEN,
    decode_unverified,
    issue_agent_token,
    issue_auth_token,
)
from aauth.tokens.wire import PERSON_DWK

from .conftest import (
    AGENT,
    ALICE_PASSWORD,
    AP,
    BOB_PASSWORD,
    OTHER_RESOURCE,
    PS,
    RESOURCE,
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

RULES = (auto("docs.read", resource=RESOURCE), auto("mail.read", resource=OTHER_RESOURCE))


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def intermediary(world: World, resource: str = RESOURCE, local: str = "docs") -> Agent:
    """``resource`` as an agent: its own key, an agent token it issued itself."""
    key = generate_key()
    sub = f"aauth:{local}@{resource.split('://', 1)[1]}"
    token = issue_agent_token(
        world.resource_keys, iss=resource, sub=sub, cnf_jwk=key.public_key(), ps=PS
    )
    return Agent(sub, resource, key, token, AgentSigner(key, token))


def claims(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return decode_unverified(AUTH_TOKEN, response.json()["auth_token"])


async def upstream_for(world: World, http: httpx.AsyncClient, agent: Agent) -> str:
    """The agent's auth token for ``docs.example`` (the intermediary)."""
    response = await request_token(http, agent, world.resource_token(agent, "docs.read"))
    assert response.status_code == 200, response.text
    return str(response.json()["auth_token"])


async def chained(
    world: World, http: httpx.AsyncClient, hop: Agent, upstream: str, **members: Any
) -> httpx.Response:
    token = world.resource_token(hop, "mail.read", resource=OTHER_RESOURCE)
    return await request_token(http, hop, token, upstream_token=upstream, **members)


def test_ps16_ps17_ps18_a_chained_token(world: World) -> None:
    agent, hop = world.agent(), intermediary(world)

    async def scenario() -> None:
        app = world.app(auto_approve=RULES, bindings={AGENT: "alice"})
        async with client(app) as http:
            upstream = await upstream_for(world, http, agent)
            downstream = claims(await chained(world, http, hop, upstream))
        first = decode_unverified(AUTH_TOKEN, upstream)
        assert downstream.aud == OTHER_RESOURCE
        assert downstream.agent == hop.sub  # the intermediary presents it (its key)
        assert downstream.jkt == hop.signer.thumbprint
        assert downstream.act.claim() == {"agent": AGENT}  # PS-17: on behalf of the agent
        assert first.sub is not None  # the person is known to both resources …
        assert downstream.sub is not None
        assert downstream.sub != first.sub  # … by a sub made for each, never copied (PS-18)

    run(scenario())


def test_ps18_no_person_upstream_means_no_sub_downstream(world: World) -> None:
    agent, hop = world.agent(), intermediary(world)

    async def scenario() -> None:
        async with client(world.app(auto_approve=RULES)) as http:
            upstream = await upstream_for(world, http, agent)
            downstream = claims(await chained(world, http, hop, upstream))
        assert decode_unverified(AUTH_TOKEN, upstream).sub is None
        assert downstream.sub is None
        assert downstream.scope == ("mail.read",)

    run(scenario())


def test_ps16_upstream_token_minted_for_another_resource(world: World) -> None:
    """The upstream token's ``aud`` must be the intermediary (its agent token's ``iss``)."""
    agent = world.agent()
    stranger = intermediary(world, OTHER_RESOURCE, "mail")

    async def scenario() -> httpx.Response:
        async with client(world.app(auto_approve=RULES)) as http:
            upstream = await upstream_for(world, http, agent)  # aud = docs.example
            token = world.resource_token(stranger, "docs.read", resource=RESOURCE)
            return await request_token(http, stranger, token, upstream_token=upstream)

    response = run(scenario())
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "intermediary" in response.json()["detail"]


def test_ps16_ps24_an_upstream_token_this_ps_revoked_is_not_extended(world: World) -> None:
    """§F.11: the agent's provider revokes its agent token, so the PS revokes the auth token
    issued under it. The intermediary still holds that token (its own agent token is fine)
    and presents it as ``upstream_token``: the PS extends nothing it has revoked."""
    agent, hop = world.agent(), intermediary(world)
    app = world.app(auto_approve=RULES, trusted_agent_providers=(AP, RESOURCE))

    async def scenario() -> None:
        async with client(app) as http:
            upstream = await upstream_for(world, http, agent)
            jti = decode_unverified(AGENT_TOKEN, agent.token).jti
            raw, headers = ap_signed_revocation(world, {"iss": AP, "jti": jti})
            revoked = await http.post("/revoke", content=raw, headers=headers)
            assert revoked.status_code == 200, revoked.text
            [outcome] = revoked.json()["auth_tokens"]
            assert outcome["jti"] == decode_unverified(AUTH_TOKEN, upstream).jti
            response = await chained(world, http, hop, upstream)
            assert response.status_code == 400, response.text
            assert response.json()["error"] == "invalid_request"
            assert "revoked" in response.json()["detail"]
            fresh = world.agent("fresh")  # another agent's grant still chains
            assert (
                await chained(world, http, hop, await upstream_for(world, http, fresh))
            ).status_code == 200

    run(scenario())


@pytest.mark.parametrize("upstream", ["eyJ", "not a token", "a.b.c"])
def test_ps16_garbled_upstream_tokens(world: World, upstream: str) -> None:
    hop = intermediary(world)

    async def scenario() -> httpx.Response:
        async with client(world.app(auto_approve=RULES)) as http:
            return await chained(world, http, hop, upstream)

    response = run(scenario())
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_ps16_only_this_ps_s_own_tokens_are_extended(world: World) -> None:
    """An auth token from another issuer (here minted with a resource's keys) is refused
    before any key is looked up."""
    agent, hop = world.agent(), intermediary(world)
    foreign = issue_auth_token(
        world.resource_keys,
        iss=OTHER_RESOURCE,
        dwk=PERSON_DWK,
        aud=RESOURCE,
        agent=AGENT,
        cnf_jwk=agent.key.public_key(),
        agent_exp=decode_unverified(AGENT_TOKEN, agent.token).exp,
        resource_scope="docs.read",
        scope="docs.read",
    )

    async def scenario() -> httpx.Response:
        async with client(world.app(auto_approve=RULES)) as http:
            return await chained(world, http, hop, foreign)

    response = run(scenario())
    assert response.status_code == 400
    assert "not trusted" in response.json()["detail"]


def test_the_chain_depth_is_bounded(world: World) -> None:
    """A second hop (mail.example calling docs.example) would name two agents in ``act``."""
    agent, first_hop = world.agent(), intermediary(world)
    second_hop = intermediary(world, OTHER_RESOURCE, "mail")
    rules = (*RULES, auto("docs.read", resource=RESOURCE))

    async def scenario(depth: int) -> httpx.Response:
        async with client(world.app(auto_approve=rules, max_chain_depth=depth)) as http:
            upstream = await upstream_for(world, http, agent)
            middle = await chained(world, http, first_hop, upstream)
            assert claims(middle).act.chain == (AGENT,)
            token = world.resource_token(second_hop, "docs.read", resource=RESOURCE)
            onward = middle.json()["auth_token"]
            return await request_token(http, second_hop, token, upstream_token=onward)

    allowed = run(scenario(2))
    assert claims(allowed).act.chain == (first_hop.sub, AGENT)
    refused = run(scenario(1))
    assert refused.status_code == 403
    assert refused.json()["error"] == "forbidden"
    assert "at most 1" in refused.json()["detail"]


def test_a_chained_request_without_a_person_or_rule_is_unreachable(world: World) -> None:
    agent, hop = world.agent(), intermediary(world)

    async def scenario() -> httpx.Response:
        async with client(world.app(auto_approve=RULES[:1])) as http:
            upstream = await upstream_for(world, http, agent)  # no person behind it
            return await chained(world, http, hop, upstream)

    response = run(scenario())
    assert response.status_code == 403
    assert response.json()["error"] == "user_unreachable"


def test_a_chained_request_needs_the_upstream_person_and_never_binds_the_intermediary(
    world: World,
) -> None:
    """Consent for a chained request belongs to the person behind the upstream grant; the
    intermediary asks with the interaction capability and gets a pending request."""
    agent, hop = world.agent(), intermediary(world)

    async def scenario() -> tuple[httpx.Response, httpx.Response]:
        app = world.app(auto_approve=RULES[:1], bindings={AGENT: "alice"})
        async with client(app) as http:
            upstream = await upstream_for(world, http, agent)
            pending = await chained(world, http, hop, upstream)
            again = await chained(world, http, hop, upstream)
            return pending, again

    pending, again = run(scenario())
    assert pending.status_code == 202
    assert again.status_code == 202  # still asks: the intermediary is bound to nobody
    assert pending.headers["location"] != again.headers["location"]  # PS-13


def test_only_the_upstream_person_decides_and_sees_the_chain(world: World) -> None:
    """Bob cannot decide Alice's chained request; Alice's consent page names the agent the
    intermediary acts for (§H.5: full context)."""
    agent, hop = world.agent(), intermediary(world)

    async def scenario() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        app = world.app(auto_approve=RULES[:1], bindings={AGENT: "alice"})
        async with client(app) as http:
            upstream = await upstream_for(world, http, agent)
            pending = await chained(world, http, hop, upstream)
            url, code = interaction_of(pending)
        async with client(app) as bob:
            await sign_in(bob, "bob", BOB_PASSWORD)
            refused = await open_consent(bob, url, code)
        async with client(app) as alice:
            await sign_in(alice, "alice", ALICE_PASSWORD)
            page = await open_consent(alice, url, code)
            decided = await decide(alice, page)
        return refused, page, decided

    refused, page, decided = run(scenario())
    assert refused.status_code == 403
    assert page.status_code == 200
    assert "id=chain" in page.text
    assert AGENT in page.text
    assert decided.status_code == 200


def test_an_intermediary_already_in_the_chain_is_refused(world: World) -> None:
    """docs → mail → docs again: a loop between resources ends at the PS (403)."""
    agent, docs = world.agent(), intermediary(world)
    mail = intermediary(world, OTHER_RESOURCE, "mail")
    rules = (*RULES, auto("docs.read", resource=RESOURCE))

    async def scenario() -> httpx.Response:
        async with client(world.app(auto_approve=rules, max_chain_depth=5)) as http:
            upstream = await upstream_for(world, http, agent)
            to_mail = (await chained(world, http, docs, upstream)).json()["auth_token"]
            token = world.resource_token(mail, "docs.read", resource=RESOURCE)
            back = await request_token(http, mail, token, upstream_token=to_mail)
            to_docs = claims(back)
            assert to_docs.act.chain == (docs.sub, AGENT)
            return await chained(world, http, docs, back.json()["auth_token"])

    refused = run(scenario())
    assert refused.status_code == 403
    assert "already appears" in refused.json()["detail"]


def _subagent_request(world: World, **settings: Any) -> tuple[httpx.Response, Agent, Agent]:
    """The intermediary (docs) asks for its sub-agent, extending the agent's grant:
    ``(answer, docs, sub-agent)``; ``settings`` configure the PS."""
    agent, docs = world.agent(), intermediary(world)
    key = generate_key()
    child_sub = "aauth:docs+w1@docs.example"
    child_token = issue_agent_token(
        world.resource_keys,
        iss=RESOURCE,
        sub=child_sub,
        cnf_jwk=key.public_key(),
        ps=PS,
        parent_agent=docs.sub,
    )
    child = Agent(child_sub, RESOURCE, key, child_token, AgentSigner(key, child_token))

    async def scenario() -> httpx.Response:
        rules = (*RULES, auto("mail.read", agent=docs.sub, resource="*"))
        async with client(world.app(auto_approve=rules, **settings)) as http:
            upstream = await upstream_for(world, http, agent)
            token = world.resource_token(child, "mail.read", resource=OTHER_RESOURCE)
            return await request_token(
                http, docs, token, upstream_token=upstream, subagent_token=child.token
            )

    return run(scenario()), docs, child


def test_a_subagent_of_the_intermediary_gets_the_whole_chain(world: World) -> None:
    """-10 "Parent-Mediated Authorization": when the parent holds an upstream token, the
    sub-agent's token names the parent in ``act`` with the upstream chain nested inside."""
    answer, docs, child = _subagent_request(world)
    downstream = claims(answer)
    assert downstream.agent == child.sub
    assert downstream.jkt == child.signer.thumbprint
    assert downstream.act.chain == (docs.sub, AGENT)


def test_ps17_a_subagent_counts_its_parent_in_the_chain_depth(world: World) -> None:
    """The parent that ``act`` names above the upstream chain counts against
    ``max_chain_depth``: with room for one agent, a sub-agent's chained token (naming the
    parent and the caller) is refused instead of minted one agent too deep."""
    refused, _, _ = _subagent_request(world, max_chain_depth=1)
    assert refused.status_code == 403, refused.text
    assert "at most 1" in refused.json()["detail"]


def test_a_revoked_token_is_recorded_before_its_resource_is_told() -> None:
    """§F.11: the PS's own record does not depend on reaching the resource (here: no
    discovery at all), so a revoked token is never extended even when its resource never
    heard of the revocation."""
    store = SQLiteStore()
    revoked = RevokedTokens(store)
    revoker = TokenRevoker(PS, KeySet.generate(), None, EgressPolicy(), revoked=revoked)
    outcomes = run(revoker.revoke([{"jti": "j-1", "resource": RESOURCE}]))
    assert outcomes == [("j-1", "no discovery configured")]
    assert revoked.is_revoked(PS, "j-1")
    assert not revoked.is_revoked(PS, "j-2")
