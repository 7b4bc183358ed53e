"""Phase 8 over real HTTP: while the person decides, they ask the agent questions on the real
consent page; the agent's long poll gets ``requirement=clarification``, its ``on_clarification``
callback (sync or async, on a blocking or an async client) answers with a signed POST, and the
person approves. The negative side on the same servers: a withdrawn request, a question left
unanswered past its timeout, an answer from another agent, an oversized answer, one round
too many (AG-24, AG-25, V-32, V-34, PS-29)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from aauth.agent.enrollment import request_agent_token
from aauth.agent.poller import Clarification, DeferredCallbacks, InteractionPrompt
from aauth.agent.signer import AgentSigner
from aauth.demo.consent import PERSON, person_server_factory
from aauth.demo.person import Person
from aauth.demo.world import World, running_world
from aauth.errors import PendingAbandoned, PendingExpired
from aauth.headers import AuthTokenRequirement, InteractionRequirement, find_requirement
from aauth.keys import generate_key

from .conftest import AgentFactory, PersonAtHand, Recorder, recorder

QUESTIONS = ("Why do you need my data?", "For how long?")


@pytest.mark.parametrize("callback", ["sync", "async"])
def test_the_person_asks_the_agent_answers_and_the_person_approves(
    consenting: World, open_agent: AgentFactory, callback: str
) -> None:
    world, log = consenting, recorder(consenting)
    person = PersonAtHand(world, questions=QUESTIONS)
    asked: list[Clarification] = []

    def answer(question: Clarification) -> str:
        asked.append(question)
        return f"answer {len(asked)}: <i>markdown</i>"

    async def answer_async(question: Clarification) -> str:
        return answer(question)

    callbacks = DeferredCallbacks(
        on_interaction=person.prompted,
        on_clarification=answer if callback == "sync" else answer_async,
    )
    with open_agent(world, callbacks) as agent:
        response = agent.request("GET", f"{world.resource}/data")
        person.done()
    assert response.status_code == 200, response.text
    assert [q.question for q in asked] == list(QUESTIONS)
    assert all(q.timeout is not None and 0 < q.timeout <= 120 for q in asked)
    [prompt] = person.prompts
    posts = [e for e in log.trail() if e[0] == "POST" and e[1] == prompt.pending_url]
    assert posts == [("POST", prompt.pending_url, 202)] * 2
    clarifications = [
        r for r in log.responses if r.status_code == 202 and "clarification" in r.json()
    ]
    assert [r.json()["clarification"] for r in clarifications] == list(QUESTIONS)
    assert all(
        r.headers["aauth-requirement"] == "requirement=clarification" for r in clarifications
    )
    sent = [json.loads(r.request.content) for r in log.responses if r.request.method == "POST"][-2:]
    assert sent[0] == {
        "action": "clarification_response",
        "clarification_response": "answer 1: <i>markdown</i>",
    }
    assert [a.status_code for a in person.answers] == [200]


def test_the_agent_withdraws_instead_of_answering(
    consenting: World, open_agent: AgentFactory
) -> None:
    world, log = consenting, recorder(consenting)
    pages: list[httpx.Response] = []

    def converse(prompt: InteractionPrompt) -> None:
        with httpx.Client(timeout=30) as browser:
            person = Person(PERSON, str(world.extras["password"]), browser)
            pages.append(person.await_answer(person.ask(person.open(prompt), "Why?")))

    threads: list[threading.Thread] = []

    def prompted(prompt: InteractionPrompt) -> None:
        threads.append(threading.Thread(target=converse, args=(prompt,)))
        threads[-1].start()

    callbacks = DeferredCallbacks(on_interaction=prompted, on_clarification=lambda q: None)
    with open_agent(world, callbacks) as agent, pytest.raises(PendingAbandoned):
        agent.request("GET", f"{world.resource}/data")
    for thread in threads:
        thread.join(timeout=30)
    assert ("DELETE", log.trail()[-1][1], 204) == log.trail()[-1]
    [page] = pages
    assert page.status_code == 410
    assert "withdrew" in page.text


@pytest.fixture
def strict() -> Iterator[World]:
    """A person server with tight caps: one round, 60-character answers, 1 s to answer."""
    factory = person_server_factory(
        clarification_rounds=1, clarification_max_length=60, clarification_timeout=1
    )
    with running_world(Recorder(), person_server=factory) as world:
        yield world


def test_an_unanswered_question_times_out(strict: World, open_agent: AgentFactory) -> None:
    world = strict
    expired = threading.Event()
    pages: list[httpx.Response] = []

    def converse(prompt: InteractionPrompt) -> None:
        with httpx.Client(timeout=30) as browser:
            person = Person(PERSON, str(world.extras["password"]), browser)
            pages.append(person.await_answer(person.ask(person.open(prompt), "Why?")))
        expired.set()  # the page reloaded until the request expired unanswered

    def too_slow(question: Clarification) -> str:
        assert question.timeout is not None
        assert question.timeout <= 1
        expired.wait(30)
        return "sorry, I was busy"

    callbacks = DeferredCallbacks(
        on_interaction=lambda p: threading.Thread(target=converse, args=(p,)).start(),
        on_clarification=too_slow,
    )
    with open_agent(world, callbacks) as agent, pytest.raises(PendingExpired):
        agent.request("GET", f"{world.resource}/data")
    [page] = pages
    assert page.status_code == 408


def _challenge(world: World, signer: AgentSigner) -> str:
    url = f"{world.resource}/data"
    response = httpx.get(url, headers=signer.sign("GET", url, {}))
    requirement = find_requirement(response.headers.multi_items(), allow_loopback_http=True)
    assert isinstance(requirement, AuthTokenRequirement)
    return requirement.resource_token


def _signed(
    signer: AgentSigner, method: str, url: str, body: dict[str, Any] | None = None
) -> httpx.Response:
    content = None if body is None else json.dumps(body).encode()
    headers = {"content-type": "application/json"} if content is not None else {}
    headers.update(signer.sign(method, url, headers, content))
    return httpx.request(method, url, headers=headers, content=content, timeout=30)


def test_refusals_on_real_servers(strict: World) -> None:
    """Another agent's answer (404), an oversized answer (400), a POST without an action
    (400), a second question past the one-round cap (400 on the page), an answer nobody asked
    for (400)."""
    world = strict
    agent = world.signer
    other_key = generate_key()  # another instance of the same agent: a different agent id
    with httpx.Client() as client:
        token = request_agent_token(
            world.agent_provider,
            world.extras["enrollment_key"],
            other_key,
            client,
            instance="other",
            allow_loopback_http=True,
        )
    other = AgentSigner(other_key, token)
    capabilities = ["interaction", "clarification"]
    body = {"resource_token": _challenge(world, agent), "capabilities": capabilities}
    first = _signed(agent, "POST", f"{world.person_server}/token", body)
    assert first.status_code == 202, first.text
    location = first.headers["location"]
    requirement = find_requirement(first.headers.multi_items(), allow_loopback_http=True)
    assert isinstance(requirement, InteractionRequirement)
    assert requirement.url
    prompt = InteractionPrompt(requirement.url, requirement.code, location)
    with httpx.Client(timeout=30) as browser:
        person = Person(PERSON, str(world.extras["password"]), browser)
        page = person.ask(person.open(prompt), "Why?")
        assert "id=waiting" in page.text
        answer = {"action": "clarification_response", "clarification_response": "To help."}
        assert _signed(other, "POST", location, answer).status_code == 404
        assert _signed(other, "GET", location).status_code == 404
        assert _signed(agent, "POST", location, {"clarification_response": "x"}).status_code == 400
        big = {**answer, "clarification_response": "x" * 61}
        oversized = _signed(agent, "POST", location, big)
        assert oversized.status_code == 400
        assert "longer than 60" in oversized.json()["detail"]
        assert _signed(agent, "POST", location, answer).status_code == 202
        page = person.await_answer(page)
        assert "To help." in page.text
        assert "id=ask" not in page.text
        refused = person.ask(page, "And another thing?")
        assert refused.status_code == 400
        assert "at most 1 questions" in refused.text
        unasked = {**answer, "clarification_response": "Nobody asked, but…"}
        assert _signed(agent, "POST", location, unasked).status_code == 400
