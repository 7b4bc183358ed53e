"""Phases 5 and 12 over real HTTP: the demo's resource, agent provider and person server on
loopback ports, the agent's ``AgentAuth`` (blocking and async clients), and the person on the
real pages, including a question about the proposal before approval. The negative side: a
digest that matches no approved bytes, a request beyond the mission, a token of another
mission, and use after termination or revocation."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest

from aauth.agent.auth import AgentAuth
from aauth.agent.poller import Clarification, DeferredCallbacks, PollTimeout
from aauth.demo.consent import PERSON, agent_client
from aauth.demo.person import Person
from aauth.demo.phase5 import proposal_for
from aauth.demo.world import World
from aauth.errors import MissionTerminated
from aauth.headers import AuthTokenRequirement, MissionRef, parse_requirement
from aauth.missions import ApprovedMission, mission_s256
from aauth.tokens import decode_unverified
from aauth.tokens.verifier import AUTH_TOKEN, RESOURCE_TOKEN

from .conftest import AgentFactory, PersonAtHand, recorder


def person_browser(world: World) -> Person:
    return Person(PERSON, str(world.extras["password"]), httpx.Client(timeout=30))


def mission_page(world: World, mission: ApprovedMission) -> str:
    return f"{world.person_server}/missions/{mission.ref.s256}"


def approve_mission(world: World, quarter: str = "Q3") -> tuple[ApprovedMission, PersonAtHand]:
    """The agent proposes; the person approves on the pages; the agent adopts the mission."""
    person = PersonAtHand(world)
    client, auth = agent_client(world, person.callbacks)
    with client:
        mission = auth.propose_mission(proposal_for(world, quarter))
    person.done()
    return mission, person


def test_phase5_the_agent_works_under_its_approved_mission(
    consenting: World, open_agent: AgentFactory
) -> None:
    """AG-28, AG-29: every resource request carries the approval's ``AAuth-Mission``
    verbatim; RS-08: the resource token copies it; the PS grants within the mission."""
    world, log = consenting, recorder(consenting)
    mission, person = approve_mission(world)
    assert len(person.prompts) == 1  # the proposal
    start = len(log.responses)
    with open_agent(world, person.callbacks) as agent:
        agent.auth.mission = mission
        response = agent.request("GET", f"{world.resource}/data")
    assert response.status_code == 200, response.text
    assert len(person.prompts) == 1  # nobody was asked again: the mission approved it
    # The first exchange is the resource's metadata (AG-05); then the challenge.
    challenge = next(r for r in log.responses[start:] if r.request.url.path == "/data")
    assert challenge.status_code == 401
    assert challenge.request.headers["aauth-mission"].startswith('approver="http://127.0.0.1')
    requirement = parse_requirement(
        challenge.headers["aauth-requirement"], allow_loopback_http=True
    )
    assert isinstance(requirement, AuthTokenRequirement)
    offered = decode_unverified(
        RESOURCE_TOKEN, requirement.resource_token, allow_loopback_http=True
    )
    assert offered.mission == mission.ref  # RS-08
    token = agent.auth.cache.get(world.resource)
    assert token is not None
    assert decode_unverified(AUTH_TOKEN, token, allow_loopback_http=True).mission == mission.ref


def test_a_mission_digest_that_matches_no_approved_bytes_is_refused(consenting: World) -> None:
    world = consenting
    mission, person = approve_mission(world)
    forged = ApprovedMission(
        MissionRef(mission.ref.approver, mission_s256(mission.blob + b" ")), mission.blob
    )
    client, auth = agent_client(world, person.callbacks)
    auth.mission = forged
    with client, pytest.raises(MissionTerminated):
        client.get(f"{world.resource}/data")
    assert auth.mission_ended
    assert len(person.prompts) == 1  # the PS asked nobody


def test_a_request_beyond_the_mission_goes_to_the_person(consenting: World) -> None:
    world = consenting
    mission, _ = approve_mission(world)
    prompts: list[object] = []  # shown, but nobody comes
    client, auth = agent_client(world, DeferredCallbacks(on_interaction=prompts.append))
    auth.mission = mission
    auth.poll = replace(auth.poll, deadline=1.5)
    with client:
        assert client.get(f"{world.resource}/data").status_code == 200
        with pytest.raises(PollTimeout):
            client.post(f"{world.resource}/data", json={"note": "write is not in the mission"})
    assert len(prompts) == 1


def test_a_token_of_another_mission_is_not_used_under_this_one(consenting: World) -> None:
    world = consenting
    first, person = approve_mission(world, "Q3")
    second, _ = approve_mission(world, "Q4")
    client, auth = agent_client(world, person.callbacks)
    auth.mission = first
    with client:
        assert client.get(f"{world.resource}/data").status_code == 200
        held = auth.cache.get(world.resource)
        auth.mission = second  # the cache still holds the first mission's token
        assert client.get(f"{world.resource}/data").status_code == 200
    token = auth.cache.get(world.resource)
    assert token is not None
    assert token != held
    assert decode_unverified(AUTH_TOKEN, token, allow_loopback_http=True).mission == second.ref


def accept_when_reported(world: World, mission: ApprovedMission) -> threading.Thread:
    """The person waits for the completion to reach the mission page, then accepts it."""

    def accept() -> None:
        browser = person_browser(world)
        with browser.client:
            deadline = time.monotonic() + 30
            while "id=accept" not in browser.visit(mission_page(world, mission)).text:
                assert time.monotonic() < deadline, "no completion on the mission page"
                time.sleep(0.05)
            assert browser.click(mission_page(world, mission), "accept").status_code == 200

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    return thread


@contextlib.contextmanager
def working_under(
    world: World, mission: ApprovedMission
) -> Iterator[tuple[httpx.Client, AgentAuth]]:
    """The agent's client under ``mission``, after one successful read."""
    client, auth = agent_client(world)
    auth.mission = mission
    with client:
        assert client.get(f"{world.resource}/data").status_code == 200
        yield client, auth


def test_phase12_use_after_termination_is_mission_terminated(consenting: World) -> None:
    """PS-21 after completion; AG-33: the agent stops acting on the mission."""
    world = consenting
    mission, _ = approve_mission(world)
    with working_under(world, mission) as (client, auth):
        accepting = accept_when_reported(world, mission)
        assert auth.complete_mission("Q3 summarised") == {"mission_status": "terminated"}
        accepting.join(timeout=30)
        with pytest.raises(MissionTerminated):  # AG-33: the agent stops by itself
            client.get(f"{world.resource}/data")
    stale, stale_auth = agent_client(world)
    stale_auth.mission = mission
    with stale, pytest.raises(MissionTerminated) as refused:  # and the PS refuses
        stale.get(f"{world.resource}/data")
    assert refused.value.status == 403
    browser = person_browser(world)
    with browser.client:
        page = browser.visit(mission_page(world, mission))
    assert "terminated (completed)" in page.text
    assert "Q3 summarised" in page.text


def test_phase12_use_after_revocation(consenting: World) -> None:
    """§F.11: the PS revokes the mission's tokens at the resource (V-44); the resource
    refuses the token, the PS answers mission_terminated (PS-21)."""
    world = consenting
    mission, _ = approve_mission(world)
    with working_under(world, mission) as (client, auth):
        token = auth.cache.get(world.resource)
        assert token is not None
        browser = person_browser(world)
        with browser.client:
            assert browser.click(mission_page(world, mission), "revoke").status_code == 200
            page = browser.visit(mission_page(world, mission)).text
        assert "terminated (revoked)" in page
        assert "outcome=<code>revoked</code>" in page  # the resource was told (§F.11)
        url = f"{world.resource}/data"
        direct = httpx.get(url, headers=world.signer.sign("GET", url, token=token))
        assert direct.status_code == 401  # the resource learnt of it: the token counts as absent
        with pytest.raises(MissionTerminated):
            client.get(url)


def test_async_propose_and_complete(consenting: World) -> None:
    world = consenting
    person = PersonAtHand(world)
    _, auth = agent_client(world, person.callbacks)

    async def scenario() -> None:
        mission = await auth.apropose_mission(proposal_for(world))
        person.done()
        accepting = accept_when_reported(world, mission)
        answer = await auth.acomplete_mission("done")
        accepting.join(timeout=30)
        assert answer == {"mission_status": "terminated"}
        assert auth.mission_ended

    asyncio.run(scenario())


def test_phase12_proposal_question_answer_approval_token_under_the_mission(
    consenting: World,
) -> None:
    """Proposal → clarification → approval → a token under the mission, on real servers:
    the person asks on the proposal page, the agent's ``on_clarification`` answers on the
    pending URL (V-34, PS-29), the person approves, and the auth token names the mission."""
    world = consenting
    question = "Which quarter, and will you change anything?"
    person = PersonAtHand(world, questions=(question,))
    asked: list[str] = []

    def on_clarification(clarification: Clarification) -> str:
        asked.append(clarification.question)
        return "Only Q3, read-only: <i>nothing</i> changes."

    callbacks = replace(person.callbacks, on_clarification=on_clarification)
    client, auth = agent_client(world, callbacks)
    with client:
        mission = auth.propose_mission(proposal_for(world))
        person.done()
        assert client.get(f"{world.resource}/data").status_code == 200
    assert asked == [question]
    assert person.answers[-1].status_code == 200
    assert "Mission approved" in person.answers[-1].text
    token = auth.cache.get(world.resource)
    assert token is not None
    assert decode_unverified(AUTH_TOKEN, token, allow_loopback_http=True).mission == mission.ref
