"""Phase 4 over real HTTP: the person server defers to its person (202 + interaction code),
the agent long-polls; the person approves or denies on the real pages, or never comes and
the agent's deadline cancels the request. On a blocking and on an async client."""

from __future__ import annotations

import pytest

from aauth.agent.poller import DeferredCallbacks, InteractionPrompt, PollTimeout
from aauth.demo.world import World
from aauth.errors import PendingDenied

from .conftest import (
    AgentFactory,
    PersonAtHand,
    assert_long_polls,
    deferred_by_the_person_server,
    poll_once,
    recorder,
)


def test_the_person_approves_and_the_waiting_agent_retries(
    consenting: World, open_agent: AgentFactory
) -> None:
    world, log = consenting, recorder(consenting)
    data, ps = f"{consenting.resource}/data", consenting.person_server
    person = PersonAtHand(world)
    with open_agent(world, person.callbacks) as agent:
        response = agent.request("GET", data)
        person.done()
        token = agent.auth.cache.get(world.resource)
    assert response.status_code == 200, response.text
    assert response.json()["subject"] is not None  # a person's grant: the token has a sub
    [prompt] = person.prompts
    assert prompt.url == f"{ps}/interact"
    assert [answer.status_code for answer in person.answers] == [200]
    trail, start = log.trail(), deferred_by_the_person_server(world)
    assert trail[: len(start)] == start
    assert_long_polls(trail[len(start) : -1], prompt.pending_url, 200)
    assert trail[-1] == ("GET", data, 200)
    assert token is not None
    assert log.responses[-1].request.headers["signature-key"] == f'sig=jwt;jwt="{token}"'
    assert poll_once(world, prompt.pending_url).status_code == 410  # reported once (§F.4)


def test_the_person_denies_and_the_resource_is_not_called_again(
    consenting: World, open_agent: AgentFactory
) -> None:
    world, log = consenting, recorder(consenting)
    data = f"{consenting.resource}/data"
    person = PersonAtHand(world, decision="deny")
    with open_agent(world, person.callbacks) as agent, pytest.raises(PendingDenied) as denied:
        agent.request("GET", data)
    person.done()
    assert (denied.value.code, denied.value.status) == ("denied", 403)
    assert agent.auth.cache.get(world.resource) is None
    [prompt] = person.prompts
    trail, start = log.trail(), deferred_by_the_person_server(world)
    assert trail[: len(start)] == start
    assert_long_polls(trail[len(start) :], prompt.pending_url, 403)  # and nothing after: no retry
    assert log.responses[-1].json()["error"] == "denied"
    assert poll_once(world, prompt.pending_url).status_code == 410


def test_the_deadline_passes_and_the_pending_request_is_cancelled(
    consenting: World, open_agent: AgentFactory
) -> None:
    world, log = consenting, recorder(consenting)
    data = f"{consenting.resource}/data"
    prompts: list[InteractionPrompt] = []  # shown, but nobody comes
    callbacks = DeferredCallbacks(on_interaction=prompts.append)
    with open_agent(world, callbacks) as agent:
        agent.deadline(1.5)
        with pytest.raises(PollTimeout):
            agent.request("GET", data)
    [prompt] = prompts
    # One long poll (Prefer: wait=1), a last look at the deadline, DELETE; no retry.
    assert log.trail() == [
        *deferred_by_the_person_server(world),
        ("GET", prompt.pending_url, 202),
        ("GET", prompt.pending_url, 202),
        ("DELETE", prompt.pending_url, 204),
    ]
    assert poll_once(world, prompt.pending_url).status_code == 410
