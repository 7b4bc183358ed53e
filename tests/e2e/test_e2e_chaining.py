"""Phase 7, call chaining, over real HTTP: the agent calls an intermediary resource, which
calls the data resource as its own agent, extending the agent's grant with ``upstream_token``
at the person server that issued it (§D.4). On a blocking and on an async client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from aauth.agent.flow import run_sync
from aauth.demo.consent import person_server_factory
from aauth.demo.world import World, running_world
from aauth.errors import InvalidRequest
from aauth.metadata import well_known_url
from aauth.resource import DownstreamCall

from .conftest import AgentFactory, Recorder, recorder


@pytest.fixture
def chained() -> Iterator[World]:
    """An intermediary in front of the data resource; the PS pre-approves data.read."""
    factory = person_server_factory(auto_approve_scopes=["data.read"])
    with running_world(Recorder(), person_server=factory, chained=1) as world:
        yield world


def test_ps17_the_downstream_token_names_the_intermediary_and_the_agent_in_act(
    chained: World, open_agent: AgentFactory
) -> None:
    world, log = chained, recorder(chained)
    [intermediary] = world.intermediaries
    with open_agent(world, None) as agent:
        response = agent.request("GET", f"{intermediary}/chained")
    assert response.status_code == 200, response.text
    answer = response.json()
    host = intermediary.split("://", 1)[1]
    assert answer["agent"] == f"aauth:resource@{host}"  # the intermediary signs as itself
    assert answer["act"] == [agent.auth.agent_id]  # … on behalf of the agent (PS-17)
    assert answer["subject"] is None  # the upstream grant named nobody: no sub (PS-18)
    assert answer["scope"] == ["data.read"]
    # The agent saw only its own exchange with the intermediary and its PS.
    ps = world.person_server
    assert log.trail() == [
        ("GET", well_known_url(intermediary, "aauth-resource.json"), 200),  # AG-05
        ("GET", f"{intermediary}/chained", 401),
        ("GET", well_known_url(intermediary, "jwks.json"), 200),  # AG-11
        ("GET", well_known_url(ps, "aauth-person.json"), 200),
        ("POST", f"{ps}/token", 200),
        ("GET", f"{intermediary}/chained", 200),
    ]


def test_rs19_the_intermediary_publishes_its_agent_metadata(chained: World) -> None:
    [intermediary] = chained.intermediaries
    document = httpx.get(well_known_url(intermediary, "aauth-agent.json")).json()
    assert document["issuer"] == intermediary
    assert document["jwks_uri"] == well_known_url(intermediary, "jwks.json")
    assert document["callback_endpoint"] == f"{intermediary}/interact/callback"


def test_ps16_an_upstream_token_for_another_audience_is_refused(
    chained: World, open_agent: AgentFactory
) -> None:
    """An intermediary cannot extend a grant made to someone else: here it presents the
    agent's auth token for the data resource itself (``aud`` is not the intermediary)."""
    world = chained
    [intermediary] = world.intermediaries
    with open_agent(world, None) as agent:
        assert agent.request("GET", f"{world.resource}/data").status_code == 200
        elsewhere = agent.auth.cache.get(world.resource)
    assert elsewhere is not None
    client = world.apps[intermediary].state.chaining.chained.client
    call = DownstreamCall("GET", f"{world.resource}/data")
    with httpx.Client() as http, pytest.raises(InvalidRequest, match="intermediary"):
        run_sync(client.call(call, elsewhere, interaction=False), http)


def test_ps16_a_forged_upstream_token_is_refused(chained: World, open_agent: AgentFactory) -> None:
    world = chained
    [intermediary] = world.intermediaries
    with open_agent(world, None) as agent:
        assert agent.request("GET", f"{intermediary}/data").status_code == 200
        upstream = agent.auth.cache.get(intermediary)
    assert upstream is not None
    head, body, signature = upstream.split(".")
    forged = f"{head}.{body}.{signature[:-4]}AAAA"
    client = world.apps[intermediary].state.chaining.chained.client
    call = DownstreamCall("GET", f"{world.resource}/data")
    with httpx.Client() as http, pytest.raises(InvalidRequest, match="upstream token"):
        run_sync(client.call(call, forged, interaction=False), http)


def test_ps17_two_intermediaries_nest_the_chain(open_agent: AgentFactory) -> None:
    factory = person_server_factory(auto_approve_scopes=["data.read"])
    with running_world(Recorder(), person_server=factory, chained=2) as world:
        first, second = world.intermediaries
        with open_agent(world, None) as agent:
            response = agent.request("GET", f"{first}/chained")
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["agent"] == f"aauth:resource@{second.split('://', 1)[1]}"
        assert answer["act"] == [f"aauth:resource@{first.split('://', 1)[1]}", agent.auth.agent_id]


def test_a_chain_deeper_than_the_person_server_allows_is_refused(
    open_agent: AgentFactory,
) -> None:
    factory = person_server_factory(auto_approve_scopes=["data.read"], max_chain_depth=1)
    with running_world(Recorder(), person_server=factory, chained=2) as world:
        first, second = world.intermediaries
        with open_agent(world, None) as agent:
            one_hop = agent.request("GET", f"{second}/chained")
            two_hops = agent.request("GET", f"{first}/chained")
    assert one_hop.status_code == 200  # act names one agent: allowed
    assert two_hops.status_code == 502  # the second intermediary was refused downstream
    problem = two_hops.json()
    assert problem["error"] == "downstream_error"
    assert "forbidden" in problem["detail"]
    assert "at most 1" in problem["detail"]


def test_an_unreachable_downstream_is_a_502(open_agent: AgentFactory) -> None:
    factory = person_server_factory(auto_approve_scopes=["data.read"])
    with running_world(Recorder(), person_server=factory, chained=2) as world:
        first, second = world.intermediaries
        world.servers[second].stop()
        with open_agent(world, None) as agent:
            response = agent.request("GET", f"{first}/chained")
    assert response.status_code == 502
    assert response.json()["error"] == "downstream_error"
    assert "cannot reach" in response.json()["detail"]
