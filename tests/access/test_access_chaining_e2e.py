"""AS-08 end to end: the agent calls an intermediary resource, which calls the data resource
(governed by the access server) as its own agent. The intermediary extends the agent's grant
at the PS that issued it; the PS federates, forwarding ``upstream_token``; the AS checks it and
issues a token naming the agent in ``act``. All real servers on loopback ports."""

from __future__ import annotations

import httpx
import pytest

from aauth.agent.auth import AgentAuth
from aauth.agent.poller import DeferredCallbacks
from aauth.demo.federation import FederatedWorld, federated_world
from aauth.demo.phase7 import federated_client
from aauth.errors import AAuthError

from .conftest import People, quiet
from .test_access_e2e import AsCaller


def _chained(
    world: FederatedWorld, callbacks: DeferredCallbacks | None = None
) -> tuple[httpx.Response, AgentAuth]:
    client, auth = federated_client(world, world.trusted_ps, callbacks)
    with client:
        response = client.get(f"{world.intermediary}/chained")
    return response, auth


def test_as08_call_chaining_through_the_access_server() -> None:
    with federated_world(quiet(), auto_approve=True, intermediary=True) as world:
        response, auth = _chained(world)
    assert response.status_code == 200, response.text
    answer = response.json()
    host = world.intermediary.split("://", 1)[1]
    assert answer["agent"] == f"aauth:resource@{host}"
    assert answer["act"] == [auth.agent_id]  # the intermediary checked iss = the AS
    assert answer["scope"] == ["data.read"]
    assert answer["subject"] is None  # the upstream grant named nobody; nothing copied


def test_as08_the_as_refuses_an_upstream_token_not_minted_for_the_caller() -> None:
    """Over HTTP, signed as the trusted PS: the agent's own token for the intermediary is
    presented with the agent's agent token, whose ``iss`` is not that token's ``aud``."""
    with federated_world(quiet(), auto_approve=True, intermediary=True) as world:
        response, auth = _chained(world)
        assert response.status_code == 200, response.text
        upstream = auth.cache.get(world.intermediary)
        assert upstream is not None
        caller = AsCaller(world, world.trusted_ps)
        body = {
            "resource_token": caller.resource_token(),
            "agent_token": world.agents[world.trusted_ps].agent_token,
            "upstream_token": upstream,
        }
        refused = caller.post(body)
        forged = caller.post({**body, "upstream_token": upstream[:-4] + "AAAA"})
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_request"
    assert "intermediary" in refused.json()["detail"]
    assert forged.status_code == 400
    assert "upstream token" in forged.json()["detail"]


def test_as08_a_chained_call_whose_access_server_needs_the_person() -> None:
    """-10 "Interaction Chaining" across three servers: the AS needs the person; the PS
    relays that through its own code, the intermediary through its own (RS-20). The agent
    shows the intermediary's page only; the person goes intermediary → PS → AS and back
    along the per-flow callbacks, and the chained call completes."""
    with federated_world(
        quiet(), steps={"interaction": True}, auto_approve=True, intermediary=True
    ) as world:
        people = People(world)
        response, auth = _chained(world, people.callbacks())
        people.done()
    assert response.status_code == 200, response.text
    assert response.json()["act"] == [auth.agent_id]
    assert [prompt.url for prompt in people.prompts] == [f"{world.intermediary}/interact"]
    ps, as_ = world.trusted_ps, world.access_server
    hops = [url.split("?")[0] for url in people.visited if "?code=" in url]
    assert hops[0] == f"{world.intermediary}/interact"
    assert f"{ps}/interact" in hops
    assert f"{as_}/interact" in hops
    back = [url for url in people.visited if url.startswith(f"{world.intermediary}/interact/cal")]
    assert back, "the PS sent the person back to the intermediary's callback"


def test_ps26_a_denial_at_the_access_server_ends_the_chained_call() -> None:
    """PS-26 along a chain: the AS sends the person back to the PS with
    ``?error=access_denied``; the PS's request ends ``denied``, and so does the
    intermediary's."""
    with federated_world(
        quiet(), steps={"interaction": True}, auto_approve=True, intermediary=True
    ) as world:
        people = People(world, as_decision="deny")
        with pytest.raises(AAuthError) as denied:
            _chained(world, people.callbacks())
        people.done()
    assert denied.value.code == "denied"
    assert any("/callback?error=access_denied" in url for url in people.visited)
