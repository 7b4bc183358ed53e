"""Clarification chat at the person server (phase 8, §F.4): the person or a rule asks, the
agent answers on its pending URL, the consent page shows the conversation; V-34, PS-29,
AG-24 … AG-26 from the server's side, and every refusal."""

from __future__ import annotations

import asyncio
import json
import re
from html import unescape
from typing import Any

import httpx
import pytest

from aauth import jwt
from aauth.headers import ClarificationRequirement, parse_requirement
from aauth.person import PersonServerConfig
from aauth.person.config import ConfigError
from aauth.server.person_server import create_person_server
from aauth.store import SQLiteStore

from .conftest import (
    ALICE_PASSWORD,
    RESOURCE,
    Agent,
    World,
    client,
    csrf_of,
    decide,
    interaction_of,
    open_consent,
    request_token,
    sign_in,
    signed,
)
from .test_ps_consent import Clock

CLARIFY = ["interaction", "clarification"]
QUESTION = "Why do you need to *change* my documents?"


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def answer_body(text: object, action: str = "clarification_response") -> bytes:
    return json.dumps({"action": action, "clarification_response": text}).encode()


async def start(
    http: httpx.AsyncClient, world: World, agent: Agent, scope: str = "docs.read docs.write"
) -> tuple[str, str, str]:
    """A token request the person must decide, from an agent that can clarify."""
    first = await request_token(
        http, agent, world.resource_token(agent, scope), capabilities=CLARIFY
    )
    assert first.status_code == 202, first.text
    url, code = interaction_of(first)
    return first.headers["location"], url, code


async def ask(http: httpx.AsyncClient, page: httpx.Response, question: str) -> httpx.Response:
    """Type a question on the consent page and press Ask; lands back on the page."""
    action = re.search(r"<form method=post action='([^']+)'", page.text)
    code = re.search(r"name=code value='([^']+)'", page.text)
    assert action is not None
    assert code is not None
    form = {"csrf": csrf_of(page.text), "code": code.group(1), "decision": "ask"}
    form["question"] = question
    return await http.post(unescape(action.group(1)), data=form, follow_redirects=True)


async def asked(
    http: httpx.AsyncClient, world: World, agent: Agent, question: str
) -> tuple[str, str, str]:
    """A request the person has opened and asked ``question`` about:
    ``(pending URL, interaction url, code)``."""
    location, url, code = await start(http, world, agent)
    await sign_in(http, "alice", ALICE_PASSWORD)
    await ask(http, await open_consent(http, url, code), question)
    return location, url, code


def clarification_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 202, response.text
    requirement = parse_requirement(response.headers["aauth-requirement"])
    assert isinstance(requirement, ClarificationRequirement)
    assert response.headers["cache-control"] == "no-store"
    assert "location" in response.headers
    assert "retry-after" in response.headers
    body: dict[str, Any] = response.json()
    return body


def test_phase8_person_asks_agent_answers_twice_then_approves(world: World) -> None:
    agent = world.agent()

    async def scenario() -> None:
        async with client(world.app()) as http:
            location, url, code = await start(http, world, agent)
            await sign_in(http, "alice", ALICE_PASSWORD)
            page = await open_consent(http, url, code)
            assert "id=ask" in page.text
            assert "5 left" in page.text
            waiting = await ask(http, page, QUESTION)
            assert waiting.status_code == 200
            assert "id=waiting" in waiting.text
            assert "http-equiv=refresh" in waiting.text
            assert "id=ask" not in waiting.text  # one open question at a time

            asked = clarification_of(await signed(http, agent, "GET", location))
            assert asked["clarification"] == QUESTION
            assert asked["status"] == "interacting"
            assert 0 < asked["timeout"] <= 120
            reply = await signed(
                http, agent, "POST", location, answer_body("To add a <b>summary</b> sheet.")
            )
            assert reply.status_code == 202, reply.text
            assert interaction_of(reply) == (url, code)  # back to the person's decision

            page = await open_consent(http, url, code)
            assert "&lt;b&gt;summary&lt;/b&gt;" in page.text  # escaped, never markup
            assert "<b>summary</b>" not in page.text
            assert "4 left" in page.text
            page = await ask(http, page, "Only this quarter?")
            second = clarification_of(await signed(http, agent, "GET", location))
            assert second["clarification"] == "Only this quarter?"
            await signed(http, agent, "POST", location, answer_body("Yes."))

            page = await open_consent(http, url, code)
            assert page.text.index("summary") < page.text.index("Yes.")  # in order
            assert (await decide(http, page)).status_code == 200
            done = await signed(http, agent, "GET", location)
            assert done.status_code == 200, done.text
            assert jwt.peek(done.json()["auth_token"])[1]["scope"] == "docs.read docs.write"

    run(scenario())


def test_long_poll_wakes_when_the_person_asks(world: World) -> None:
    agent = world.agent()

    async def scenario() -> None:
        async with client(world.app()) as http:
            location, url, code = await start(http, world, agent)
            await sign_in(http, "alice", ALICE_PASSWORD)
            page = await open_consent(http, url, code)
            poll = asyncio.create_task(signed(http, agent, "GET", location, prefer="wait=30"))
            for _ in range(50):  # let the poll reach its wait (in-process: no I/O to await)
                await asyncio.sleep(0)
            assert not poll.done()
            await ask(http, page, QUESTION)
            answered = await asyncio.wait_for(poll, 10)
            assert clarification_of(answered)["clarification"] == QUESTION

    run(scenario())


def test_ps29_round_cap(world: World) -> None:
    agent = world.agent()

    async def scenario() -> None:
        async with client(world.app(clarification_rounds=2)) as http:
            location, url, code = await start(http, world, agent)
            await sign_in(http, "alice", ALICE_PASSWORD)
            for n in range(2):
                page = await open_consent(http, url, code)
                await ask(http, page, f"question {n}")
                await signed(http, agent, "POST", location, answer_body(f"answer {n}"))
            page = await open_consent(http, url, code)
            assert "id=ask" not in page.text  # no more questions offered
            refused = await ask(http, page, "a third one")
            assert refused.status_code == 400
            assert "at most 2 questions" in refused.text
            poll = await signed(http, agent, "GET", location)
            assert poll.status_code == 202
            assert "clarification" not in poll.json()
            # and an answer nobody asked for
            extra = await signed(http, agent, "POST", location, answer_body("unasked"))
            assert extra.status_code == 400
            assert "no clarification is outstanding" in extra.json()["detail"]

    run(scenario())


def test_ps29_oversized_or_malformed_answers_are_400_and_the_question_stays(
    world: World,
) -> None:
    agent = world.agent()

    async def scenario() -> None:
        async with client(world.app(clarification_max_length=100)) as http:
            location, _url, _code = await asked(http, world, agent, QUESTION)
            for body in (
                answer_body("x" * 101),
                answer_body(""),
                answer_body("bell\x07"),
                json.dumps({"action": "clarification_response"}).encode(),
                answer_body(7),
                json.dumps({"action": "updated_request"}).encode(),
            ):
                refused = await signed(http, agent, "POST", location, body)
                assert refused.status_code == 400, refused.text
                assert refused.json()["error"] == "invalid_request"
            still = clarification_of(await signed(http, agent, "GET", location))
            assert still["clarification"] == QUESTION
            fine = await signed(http, agent, "POST", location, answer_body("x" * 100))
            assert fine.status_code == 202

    run(scenario())


def test_v34_post_without_a_recognised_action_is_400_even_with_a_question(
    world: World,
) -> None:
    agent = world.agent()

    async def scenario() -> None:
        async with client(world.app()) as http:
            location, _url, _code = await asked(http, world, agent, QUESTION)
            for body in (
                json.dumps({"clarification_response": "seed style, no action"}).encode(),
                json.dumps({"action": "explain", "clarification_response": "x"}).encode(),
                b"not json",
            ):
                refused = await signed(http, agent, "POST", location, body)
                assert refused.status_code == 400
                assert "action" in refused.json()["detail"]

    run(scenario())


def test_v32_an_answer_from_another_agent_is_404(world: World) -> None:
    agent, other = world.agent(), world.agent("other")

    async def scenario() -> None:
        async with client(world.app()) as http:
            location, url, code = await asked(http, world, agent, QUESTION)
            stranger = await signed(http, other, "POST", location, answer_body("me!"))
            assert stranger.status_code == 404
            assert (await signed(http, other, "DELETE", location)).status_code == 404
            still = clarification_of(await signed(http, agent, "GET", location))
            assert still["clarification"] == QUESTION
            page = await open_consent(http, url, code)
            assert "me!" not in page.text

    run(scenario())


def test_ps29_unanswered_question_times_out() -> None:
    world, clock = World(), Clock()
    agent = world.agent()
    app = create_person_server(
        world.config(clarification_timeout=30),
        SQLiteStore(clock=clock),
        key_source=world.keys,
        clock=clock,
    )

    async def scenario() -> None:
        async with client(app) as http:
            location, url, code = await asked(http, world, agent, QUESTION)
            assert clarification_of(await signed(http, agent, "GET", location))["timeout"] == 30
            clock.now += 31
            late = await signed(http, agent, "POST", location, answer_body("sorry, late"))
            assert late.status_code == 408
            assert late.json()["error"] == "expired"
            assert (await signed(http, agent, "GET", location)).status_code == 410
            page = await open_consent(http, url, code)
            assert page.status_code == 408

    run(scenario())


def test_answer_restores_the_request_lifetime() -> None:
    world, clock = World(), Clock()
    agent = world.agent()
    app = create_person_server(
        world.config(clarification_timeout=30, pending_lifetime=600),
        SQLiteStore(clock=clock),
        key_source=world.keys,
        clock=clock,
    )

    async def scenario() -> None:
        async with client(app) as http:
            location, _url, _code = await asked(http, world, agent, QUESTION)
            clock.now += 20
            await signed(http, agent, "POST", location, answer_body("in time"))
            clock.now += 60  # past the question's deadline, well within the request's
            assert (await signed(http, agent, "GET", location)).status_code == 202

    run(scenario())


def test_ag26_updated_request_narrows_the_scope(world: World) -> None:
    agent = world.agent()

    async def scenario() -> None:
        async with client(world.app()) as http:
            location, url, code = await asked(http, world, agent, "Do you need write access?")

            def update(token: str, why: str = "Read-only is enough.") -> bytes:
                body = {"action": "updated_request", "resource_token": token, "justification": why}
                return json.dumps(body).encode()

            wider = world.resource_token(agent, "docs.read docs.write docs.admin")
            other = world.resource_token(agent, "docs.read", resource="https://mail.example")
            stranger = world.resource_token(agent, "docs.read", agent_id="aauth:x@ap.example")
            for token, words in (
                (wider, "only narrow"),
                (other, "not"),
                (stranger, "agent"),
                ("garbage", "resource token"),
            ):
                refused = await signed(http, agent, "POST", location, update(token))
                assert refused.status_code == 400, refused.text
                assert refused.json()["error"] == "invalid_resource_token"
                assert words in refused.json()["detail"]

            narrower = world.resource_token(agent, "docs.read")
            accepted = await signed(http, agent, "POST", location, update(narrower))
            assert accepted.status_code == 202, accepted.text
            page = await open_consent(http, url, code)
            assert "narrowed its request to <code>docs.read</code>" in page.text
            assert "docs.write" not in page.text
            await decide(http, page)
            done = await signed(http, agent, "GET", location)
            assert jwt.peek(done.json()["auth_token"])[1]["scope"] == "docs.read"

    run(scenario())


def test_delete_during_clarification_withdraws_the_request(world: World) -> None:
    agent = world.agent()

    async def scenario() -> None:
        async with client(world.app()) as http:
            location, url, code = await asked(http, world, agent, QUESTION)
            assert (await signed(http, agent, "DELETE", location)).status_code == 204
            assert (await signed(http, agent, "GET", location)).status_code == 410
            late = await signed(http, agent, "POST", location, answer_body("too late"))
            assert late.status_code == 410
            page = await open_consent(http, url, code)
            assert page.status_code == 410
            assert "withdrew" in page.text

    run(scenario())


def test_a_configured_rule_asks_agents_that_can_answer(world: World) -> None:
    agent = world.agent()
    rule = {"agent": "*", "resource": RESOURCE, "scopes": ["docs.write"], "question": QUESTION}
    config = PersonServerConfig.from_json(
        {"identifier": world.ps, "clarify": [rule], "people": [], "poll_interval": 1}
    )
    app = create_person_server(config, SQLiteStore(), key_source=world.keys)

    async def scenario() -> None:
        async with client(app) as http:
            location, _, _ = await start(http, world, agent)  # first 202: the interaction
            asked = clarification_of(await signed(http, agent, "GET", location, prefer="wait=5"))
            assert asked["clarification"] == QUESTION
            await signed(http, agent, "POST", location, answer_body("For the summary."))
            # a read-only request, or an agent that cannot answer, is not asked
            reader = await request_token(
                http, agent, world.resource_token(agent, "docs.read"), capabilities=CLARIFY
            )
            poll = await signed(http, agent, "GET", reader.headers["location"])
            assert "clarification" not in poll.json()
            mute = world.agent("mute")
            silent = await request_token(http, mute, world.resource_token(mute, "docs.write"))
            poll = await signed(http, mute, "GET", silent.headers["location"])
            assert "clarification" not in poll.json()

    run(scenario())


def test_policy_question_and_answer_are_shown_to_the_person(world: World) -> None:
    agent = world.agent()
    rule = {"scopes": ["docs.write"], "question": "Why <write>?"}
    config = world.config(
        clarify=PersonServerConfig.from_json({"identifier": world.ps, "clarify": [rule]}).clarify
    )
    app = create_person_server(config, SQLiteStore(), key_source=world.keys)

    async def scenario() -> None:
        async with client(app) as http:
            location, url, code = await start(http, world, agent)
            await signed(http, agent, "POST", location, answer_body("To summarise."))
            await sign_in(http, "alice", ALICE_PASSWORD)
            page = await open_consent(http, url, code)
            assert "This server's policy asked" in page.text
            assert "Why &lt;write&gt;?" in page.text
            assert "To summarise." in page.text

    run(scenario())


def test_agents_without_the_capability_cannot_be_asked(world: World) -> None:
    agent = world.agent()

    async def scenario() -> None:
        async with client(world.app()) as http:
            first = await request_token(http, agent, world.resource_token(agent))
            url, code = interaction_of(first)
            await sign_in(http, "alice", ALICE_PASSWORD)
            page = await open_consent(http, url, code)
            assert "id=ask" not in page.text
            refused = await ask(http, page, QUESTION)
            assert refused.status_code == 400
            assert "cannot answer questions" in refused.text

    run(scenario())


@pytest.mark.parametrize(
    "members",
    [
        {"clarify": [{"scopes": ["x"]}]},
        {"clarify": [{"scopes": ["x"], "question": ""}]},
        {"clarify": [{"question": "why?"}]},
        {"clarify": ["why?"]},
        {"clarification_rounds": 0},
        {"clarification_max_length": 10**6},
        {"clarification_timeout": -1},
    ],
)
def test_clarification_configuration_mistakes(members: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        PersonServerConfig.from_json({"identifier": "https://ps.example", **members})
