"""Phase 9, interaction chaining, over real HTTP: the person server must ask its person before
the intermediary may call downstream. The intermediary answers the agent with its own 202,
pending URL, interaction URL and code (RS-20); the person enters there, is sent on to the
person server and back; the intermediary delivers the downstream answer at its own pending
URL. Denial, cancellation and a reused code end it as the protocol says."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from aauth.agent.enrollment import request_agent_token
from aauth.agent.flow import run_sync
from aauth.agent.poller import DeferredCallbacks, InteractionPrompt, PollTimeout
from aauth.agent.signer import AgentSigner
from aauth.demo.consent import PERSON, person_server_factory
from aauth.demo.person import Person
from aauth.demo.world import World, running_world
from aauth.errors import Gone, PendingAbandoned, PendingDenied, ServerError
from aauth.keys import generate_key
from aauth.pending import PendingState
from aauth.resource import Deferred
from aauth.server.resource_server import create_resource_server
from aauth.server.running import RunningServer
from aauth.tokens import AGENT_TOKEN, AUTH_TOKEN, decode_unverified

from .conftest import (
    Agent,
    AgentFactory,
    PersonAtHand,
    Recorder,
    assert_long_polls,
    poll_once,
    recorder,
)


@pytest.fixture
def chained() -> Iterator[World]:
    """An intermediary in front of the data resource; the PS asks its person every time."""
    with running_world(Recorder(), person_server=person_server_factory(), chained=1) as world:
        yield world


def deferred_by_hand(
    world: World, open_agent: AgentFactory, person: PersonAtHand
) -> tuple[str, httpx.Response]:
    """The agent's token for the intermediary, and the intermediary's 202 for a chained call
    made with it by hand (signed, nobody polling)."""
    [intermediary] = world.intermediaries
    with open_agent(world, person.callbacks) as agent:
        approved_at(agent, person, intermediary)
        token = agent.auth.cache.get(intermediary)
    assert token is not None
    url = f"{intermediary}/chained"
    headers = {"AAuth-Capabilities": "interaction"}
    headers.update(world.signer.sign("GET", url, headers, token=token))
    deferred = httpx.get(url, headers=headers)
    assert deferred.status_code == 202
    return token, deferred


def approved_at(agent: Agent, person: PersonAtHand, intermediary: str) -> None:
    """The agent's own auth token for the intermediary first (phase 4, data.read)."""
    assert agent.request("GET", f"{intermediary}/data").status_code == 200
    person.done()


def test_rs20_the_agent_gets_the_intermediarys_own_202_and_then_the_result(
    chained: World, open_agent: AgentFactory
) -> None:
    world, log = chained, recorder(chained)
    [intermediary] = world.intermediaries
    person = PersonAtHand(world)
    with open_agent(world, person.callbacks) as agent:
        response = agent.request("GET", f"{intermediary}/chained")
        person.done()
        upstream = agent.auth.cache.get(intermediary)
    assert response.status_code == 200, response.text
    own, chained_prompt = person.prompts
    assert own.url == f"{world.person_server}/interact"  # the agent's own consent first
    # RS-20: what the agent is shown is the intermediary's, never the person server's.
    assert chained_prompt.url == f"{intermediary}/interact"
    assert chained_prompt.pending_url.startswith(f"{intermediary}/pending/")
    assert chained_prompt.code != own.code
    assert [answer.status_code for answer in person.answers] == [200, 200]
    answer = response.json()
    assert answer["act"] == [agent.auth.agent_id]
    assert upstream is not None
    upstream_sub = decode_unverified(AUTH_TOKEN, upstream, allow_loopback_http=True).sub
    # PS-18: the person is known downstream by a sub made for that resource, not copied.
    assert answer["subject"] is not None
    assert upstream_sub is not None
    assert answer["subject"] != upstream_sub
    trail = log.trail()
    start = trail.index(("GET", f"{intermediary}/chained", 202))
    deferred = log.responses[start].headers
    # V-31: the intermediary's own 202 is complete, and names nothing of the person server.
    assert deferred["location"] == chained_prompt.pending_url
    assert deferred["retry-after"].isdigit()
    assert deferred["cache-control"] == "no-store"
    assert world.person_server not in str(deferred)
    assert_long_polls(trail[start + 1 :], chained_prompt.pending_url, 200)
    assert poll_once(world, chained_prompt.pending_url).status_code == 410  # reported once


def test_ag19_a_post_answered_202_is_polled_with_get_and_never_resent(
    chained: World, open_agent: AgentFactory
) -> None:
    world, log = chained, recorder(chained)
    [intermediary] = world.intermediaries
    person = PersonAtHand(world)
    note = {"note": "from the agent"}
    with open_agent(world, person.callbacks) as agent:
        stored = agent.request("POST", f"{intermediary}/chained", json=note)
        person.done()
        read = agent.request("GET", f"{intermediary}/chained")
        person.done()
    assert stored.status_code == 200, stored.text
    assert stored.json()["stored"] == note
    posts = [r for r in log.responses if r.request.method == "POST" and "chained" in str(r.url)]
    # One POST with the body answered 401 (no token yet), one retry with the token answered
    # 202; after that only GETs of the pending URL, without a body.
    assert [r.status_code for r in posts] == [401, 202]
    assert all(json.loads(r.request.content) == note for r in posts)
    polls = [r for r in log.responses if str(r.request.url).startswith(f"{intermediary}/pending/")]
    assert polls
    assert all(r.request.method == "GET" and r.request.content == b"" for r in polls)
    # The item was stored for the person downstream, and reads back through the chain.
    assert read.status_code == 200, read.text
    assert read.json()["items"] == [note]


def test_the_downstream_person_denies(chained: World, open_agent: AgentFactory) -> None:
    world = chained
    [intermediary] = world.intermediaries
    person = PersonAtHand(world, ["approve", "deny"])
    with open_agent(world, person.callbacks) as agent:
        approved_at(agent, person, intermediary)
        with pytest.raises(PendingDenied) as denied:
            agent.request("GET", f"{intermediary}/chained")
        person.done()
    assert (denied.value.code, denied.value.status) == ("denied", 403)
    chained_prompt = person.prompts[-1]
    assert chained_prompt.url == f"{intermediary}/interact"
    # The person server sent the person back to the intermediary with error=access_denied.
    assert person.answers[-1].url.path == "/interact/callback"
    assert "not approved" in person.answers[-1].text
    assert poll_once(world, chained_prompt.pending_url).status_code == 410


def test_a_cancelled_chained_interaction_is_cancelled_downstream_too(
    chained: World, open_agent: AgentFactory
) -> None:
    world = chained
    [intermediary] = world.intermediaries
    person = PersonAtHand(world)
    entered: list[httpx.Response] = []

    def enter_twice(prompt: InteractionPrompt) -> None:
        """The person opens the link twice and never goes on: the code is single use."""
        with httpx.Client() as browser:
            entered.append(browser.get(prompt.link))
            entered.append(browser.get(prompt.link))

    with open_agent(world, person.callbacks) as agent:
        approved_at(agent, person, intermediary)
        agent.auth.callbacks = DeferredCallbacks(on_interaction=enter_twice)
        agent.deadline(1.5)
        with pytest.raises(PollTimeout):
            agent.request("GET", f"{intermediary}/chained")
    first, second = entered
    assert first.status_code == 200
    assert "id=continue" in first.text
    assert second.status_code == 410  # V-37: the code was used
    assert "already been used" in second.text
    chaining = world.apps[intermediary].state.chaining.chained
    deletes = [r for r in recorder(world).responses if r.request.method == "DELETE"]
    [request_id] = [r.url.path.rsplit("/", 1)[1] for r in deletes]
    request = chaining.pending.get(request_id)
    assert request is not None
    assert request.state is PendingState.CANCELLED
    assert poll_once(world, chaining.location(request_id)).status_code == 410
    # The downstream pending request was cancelled too: polling it as the intermediary is 410.
    deferred = Deferred.from_json(request.payload["deferred"])
    with httpx.Client() as http, pytest.raises(Gone):
        run_sync(chaining.client.resume(deferred, 0), http)


def test_rs17_the_interaction_endpoint_refuses_unknown_codes_and_flows(chained: World) -> None:
    [intermediary] = chained.intermediaries
    with httpx.Client() as browser:
        unknown = browser.get(f"{intermediary}/interact", params={"code": "ABCD-EFGH"})
        missing = browser.get(f"{intermediary}/interact")
        flow = browser.get(f"{intermediary}/interact/callback", params={"flow": "nope"})
    assert unknown.status_code == 410
    assert "cannot be used" in unknown.text
    assert missing.status_code == 400
    assert flow.status_code == 404


def test_v38_wrong_codes_are_rate_limited(chained: World) -> None:
    [intermediary] = chained.intermediaries
    with httpx.Client() as browser:
        statuses = [
            browser.get(f"{intermediary}/interact", params={"code": "ABCD-EFGH"}).status_code
            for _ in range(11)
        ]
    assert statuses[:10] == [410] * 10
    assert statuses[10] == 429


def test_an_agent_without_the_interaction_capability_is_told_the_person_is_unreachable(
    chained: World, open_agent: AgentFactory
) -> None:
    world = chained
    [intermediary] = world.intermediaries
    person = PersonAtHand(world)
    with open_agent(world, person.callbacks) as agent:
        approved_at(agent, person, intermediary)
        response = agent.request(
            "GET", f"{intermediary}/chained", headers={"AAuth-Capabilities": "clarification"}
        )
    assert response.status_code == 403
    assert response.json()["error"] == "user_unreachable"


def test_a_person_server_callback_error_is_mapped(chained: World, open_agent: AgentFactory) -> None:
    """PS-26 mapping at the intermediary: ``user_abandoned`` → ``abandoned``."""
    world = chained
    [intermediary] = world.intermediaries
    person = PersonAtHand(world)
    with open_agent(world, person.callbacks) as agent:
        approved_at(agent, person, intermediary)
        chaining = world.apps[intermediary].state.chaining.chained
        caller_prompts: list[InteractionPrompt] = []

        def abandon(prompt: InteractionPrompt) -> None:
            caller_prompts.append(prompt)
            with httpx.Client() as browser:
                browser.get(prompt.link)
                request_id = prompt.pending_url.rsplit("/", 1)[1]
                pending = chaining.pending.get(request_id)
                assert pending is not None
                flow = pending.interaction_id
                browser.get(
                    f"{intermediary}/interact/callback",
                    params={"flow": flow, "error": "user_abandoned"},
                )

        agent.auth.callbacks = DeferredCallbacks(on_interaction=abandon)
        with pytest.raises(PendingAbandoned) as ended:
            agent.request("GET", f"{intermediary}/chained")
    assert (ended.value.code, ended.value.status) == ("abandoned", 403)
    assert caller_prompts


def test_a_restarted_intermediary_loses_nothing(chained: World, open_agent: AgentFactory) -> None:
    """The intermediary stops while its person is asked; restarted from its store and key
    files, it sends the person on and delivers the result at the same pending URL."""
    world = chained
    [intermediary] = world.intermediaries
    person = PersonAtHand(world)
    token, deferred = deferred_by_hand(world, open_agent, person)
    pending_url = deferred.headers["location"]
    requirement = deferred.headers["aauth-requirement"]
    code = requirement.split('code="', 1)[1].split('"', 1)[0]
    old = world.servers[intermediary]
    old.stop()
    app = create_resource_server(world.configs[intermediary])
    with RunningServer(app, port=old.port):
        prompt = InteractionPrompt(f"{intermediary}/interact", code, pending_url)
        person.prompted(prompt)
        person.done()
        poll = world.signer.sign("GET", pending_url, token=token)
        delivered = httpx.get(pending_url, headers=poll)
    assert delivered.status_code == 200, delivered.text
    agent_token = world.signer.agent_token
    assert agent_token is not None
    agent = decode_unverified(AGENT_TOKEN, agent_token, allow_loopback_http=True)
    assert delivered.json()["act"] == [agent.sub]


def test_rs17_the_person_ends_at_the_agents_callback(
    chained: World, open_agent: AgentFactory
) -> None:
    """The agent may send its person with ``&callback=`` (its provider's published
    ``callback_endpoint``): the intermediary sends them there when the flow ends; any other
    callback is refused before anything happens (§H.5)."""
    world = chained
    [intermediary] = world.intermediaries
    person = PersonAtHand(world)
    callback = f"{world.agent_provider}/callback?session=7"
    landed: list[httpx.Response] = []
    refused: list[httpx.Response] = []

    def with_callback(prompt: InteractionPrompt) -> None:
        with httpx.Client() as browser:
            evil = httpx.QueryParams({"code": prompt.code, "callback": "http://127.0.0.1:9/x"})
            refused.append(browser.get(f"{prompt.url}?{evil}"))
            alice = Person(PERSON, person.password, browser)
            landed.append(alice.decide(prompt, callback=callback))

    with open_agent(world, person.callbacks) as agent:
        approved_at(agent, person, intermediary)
        agent.auth.callbacks = DeferredCallbacks(on_interaction=with_callback)
        response = agent.request("GET", f"{intermediary}/chained")
    assert response.status_code == 200, response.text
    [bad] = refused
    assert bad.status_code == 400
    [page] = landed
    assert str(page.url) == callback  # the agent provider's page (it serves none: 404)


def test_v32_only_the_agent_and_key_that_asked_may_poll(
    chained: World, open_agent: AgentFactory
) -> None:
    """Another instance of the same agent (its own key and agent token) gets 404 at the
    intermediary's pending URL, for polls and for DELETE."""
    world = chained
    [intermediary] = world.intermediaries
    person = PersonAtHand(world)
    prompts: list[InteractionPrompt] = []
    with open_agent(world, person.callbacks) as agent:
        approved_at(agent, person, intermediary)
        agent.auth.callbacks = DeferredCallbacks(on_interaction=prompts.append)
        agent.deadline(0.5)
        with pytest.raises(PollTimeout):
            agent.request("GET", f"{intermediary}/chained")
    other_key = generate_key()
    with httpx.Client() as http:
        other_token = request_agent_token(
            world.agent_provider,
            world.extras["enrollment_key"],
            other_key,
            http,
            allow_loopback_http=True,
        )
    other = AgentSigner(other_key, other_token)
    [prompt] = prompts
    url = prompt.pending_url
    assert httpx.get(url, headers=other.sign("GET", url)).status_code == 404
    assert httpx.delete(url, headers=other.sign("DELETE", url)).status_code == 404


def test_a_second_intermediarys_own_interaction_is_not_relayed(open_agent: AgentFactory) -> None:
    """Only one intermediary's consent is chained: the first intermediary does not claim the
    ``interaction`` capability downstream (it could not relay a second interaction), so the
    next one is told its person is unreachable, and the request ends with a server error
    rather than a 202 nobody can complete."""
    with running_world(Recorder(), person_server=person_server_factory(), chained=2) as world:
        first, _ = world.intermediaries
        person = PersonAtHand(world)
        with open_agent(world, person.callbacks) as agent, pytest.raises(ServerError) as ended:
            agent.request("GET", f"{first}/chained")
        person.done()
    assert "user_unreachable" in ended.value.description
    assert [prompt.url for prompt in person.prompts] == [
        f"{world.person_server}/interact",
        f"{first}/interact",
    ]


def test_an_unreachable_person_server_keeps_the_chained_request_pending(
    chained: World, open_agent: AgentFactory
) -> None:
    world = chained
    person = PersonAtHand(world)
    token, deferred = deferred_by_hand(world, open_agent, person)
    world.servers[world.person_server].stop()
    pending_url = deferred.headers["location"]
    poll = httpx.get(pending_url, headers=world.signer.sign("GET", pending_url, token=token))
    assert poll.status_code == 202  # still pending: nothing is lost while the PS is away
    assert poll.json() == {"status": "pending"}
