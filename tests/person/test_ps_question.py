"""An agent's ``question`` relayed to its person (§F.6 ``interaction_endpoint``): a 202 with
``requirement=approval`` while the person reads it in their ``/relays`` inbox, then
``200 {"answer": …}`` or ``403 denied`` on the pending URL (PS-23, PS-21, PS-27, V-42)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

import httpx
import pytest

from aauth.headers import ApprovalRequirement, parse_requirement
from aauth.missions import MAX_DESCRIPTION
from aauth.server.person_server import create_person_server
from aauth.store import SQLiteStore

from .conftest import (
    ALICE_PASSWORD,
    BOB_PASSWORD,
    PS,
    Agent,
    World,
    client,
    csrf_of,
    sign_in,
    signed,
)
from .test_ps_missions import act, approved
from .test_ps_token_endpoint import problem, run

QUESTION = "Book the **refundable** fare? <script>alert(1)</script>"
_PAGE_ERROR = re.compile(r"<code id=error>([^<]+)</code>")


def question_body(**members: Any) -> bytes:
    body = {"type": "question", "question": QUESTION, **members}
    return json.dumps({k: v for k, v in body.items() if v is not None}).encode()


async def ask(http: httpx.AsyncClient, agent: Agent, body: bytes) -> httpx.Response:
    url = f"{PS}/interaction"
    return await http.post(url, content=body, headers=agent.headers("POST", url, body))


async def inbox_link(person: httpx.AsyncClient) -> str:
    """The path of the one question waiting in the person's inbox."""
    inbox = await person.get("/relays")
    assert "asks you a question" in inbox.text, inbox.text
    return inbox.text.split("href='", 1)[1].split("'", 1)[0]


async def reply(
    person: httpx.AsyncClient, link: str, decision: str = "answer", **fields: str
) -> httpx.Response:
    """Press a button on the question page (its form carries the session's CSRF token)."""
    page = await person.get(link)
    assert page.status_code == 200, page.text
    form = {"csrf": csrf_of(page.text), "decision": decision, **fields}
    return await person.post(link, data=form)


def page_error(response: httpx.Response) -> str | None:
    match = _PAGE_ERROR.search(response.text)
    return match.group(1) if match else None


@pytest.fixture
def bound() -> tuple[World, Agent, Any]:
    """A person server where the agent is bound to Alice."""
    world = World()
    agent = world.agent()
    return world, agent, world.app(bindings={agent.sub: "alice"})


def test_ps23_question_is_answered_on_the_persons_page(bound: tuple[World, Agent, Any]) -> None:
    """PS-23/V-42: 202 ``requirement=approval`` (no code), the question escaped on Alice's
    page, her answer posted with CSRF (PS-27), ``200 {"answer"}`` once, then 410."""
    _, agent, app = bound

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            asked = await ask(http, agent, question_body())
            assert asked.status_code == 202, asked.text
            assert asked.json() == {"status": "pending"}
            requirement = parse_requirement(asked.headers["aauth-requirement"])
            assert isinstance(requirement, ApprovalRequirement)
            location = asked.headers["location"]
            assert location.startswith(f"{PS}/pending/")
            await sign_in(alice, "alice", ALICE_PASSWORD)
            link = await inbox_link(alice)
            page = await alice.get(link)
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text  # untrusted (V-42)
            assert "<script>alert" not in page.text
            assert agent.sub in page.text
            assert (await signed(http, agent, "GET", location)).status_code == 202
            answered = await reply(alice, link, answer="Yes, the *refundable* one.\nThanks")
            assert answered.status_code == 200, answered.text
            assert "Nothing is waiting" in (await alice.get("/relays")).text
            assert (await alice.get(link)).status_code == 404
            done = await signed(http, agent, "GET", location)
            assert done.status_code == 200
            assert done.json() == {"answer": "Yes, the *refundable* one.\nThanks"}
            assert (await signed(http, agent, "GET", location)).status_code == 410

    run(scenario())


def test_declined_question_is_denied(bound: tuple[World, Agent, Any]) -> None:
    """The person declines: the agent's poll gets 403 ``denied`` (the draft's polling error)."""
    _, agent, app = bound

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            location = (await ask(http, agent, question_body())).headers["location"]
            await sign_in(alice, "alice", ALICE_PASSWORD)
            declined = await reply(alice, await inbox_link(alice), "decline")
            assert declined.status_code == 200, declined.text
            problem(await signed(http, agent, "GET", location), 403, "denied")

    run(scenario())


def test_long_poll_returns_when_the_person_answers(bound: tuple[World, Agent, Any]) -> None:
    """``Prefer: wait`` holds the agent's poll until the answer is written."""
    _, agent, app = bound

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            location = (await ask(http, agent, question_body())).headers["location"]
            await sign_in(alice, "alice", ALICE_PASSWORD)
            link = await inbox_link(alice)
            waiting = asyncio.ensure_future(signed(http, agent, "GET", location, prefer="wait=30"))
            await asyncio.sleep(0)
            assert (await reply(alice, link, answer="No")).status_code == 200
            polled = await waiting
            assert polled.status_code == 200
            assert polled.json() == {"answer": "No"}

    run(scenario())


def test_question_max_wait_expires(bound: tuple[World, Agent, Any]) -> None:
    """``max_wait`` bounds the question as it bounds a relay: 408 ``expired`` after it, and
    the person's inbox no longer shows it."""
    world, agent, _ = bound
    now = [time.time()]
    config = world.config(bindings={agent.sub: "alice"})
    app = create_person_server(config, SQLiteStore(), key_source=world.keys, clock=lambda: now[0])

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            asked = await ask(http, agent, question_body(max_wait=30))
            assert asked.status_code == 202
            await sign_in(alice, "alice", ALICE_PASSWORD)
            link = await inbox_link(alice)
            now[0] += 31
            problem(await signed(http, agent, "GET", asked.headers["location"]), 408, "expired")
            assert "Nothing is waiting" in (await alice.get("/relays")).text
            assert (await alice.get(link)).status_code == 404

    run(scenario())


def test_another_person_cannot_see_or_answer(bound: tuple[World, Agent, Any]) -> None:
    """PS-27: only the bound person; Bob (signed in, his own valid CSRF token) gets the
    same 404 as for an unknown relay, and the question still waits for Alice."""
    _, agent, app = bound

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice, client(app) as bob:
            location = (await ask(http, agent, question_body())).headers["location"]
            await sign_in(alice, "alice", ALICE_PASSWORD)
            link = await inbox_link(alice)
            await sign_in(bob, "bob", BOB_PASSWORD)
            assert "Nothing is waiting" in (await bob.get("/relays")).text
            shown = await bob.get(link)
            assert shown.status_code == 404
            assert page_error(shown) == "not_found"
            unknown = await bob.get("/relays/unknown")
            assert (unknown.status_code, page_error(unknown)) == (404, "not_found")
            bobs_csrf = csrf_of((await bob.get("/interact")).text)  # his session's
            form = {"csrf": bobs_csrf, "decision": "answer", "answer": "Bob says yes"}
            answered = await bob.post(link, data=form)
            assert (answered.status_code, page_error(answered)) == (404, "not_found")
            declined = await bob.post(link, data={**form, "decision": "decline"})
            assert (declined.status_code, page_error(declined)) == (404, "not_found")
            assert (await signed(http, agent, "GET", location)).status_code == 202
            assert (await alice.get(link)).status_code == 200

    run(scenario())


@pytest.mark.parametrize(
    ("form", "cookies", "status", "error"),
    [
        ({}, True, 403, "forbidden"),
        ({"csrf": "wrong"}, True, 403, "forbidden"),
        ({"csrf": ""}, True, 403, "forbidden"),
        ({"csrf": None}, False, 401, "access_denied"),
    ],
)
def test_ps27_answer_needs_the_session_and_its_csrf_token(
    bound: tuple[World, Agent, Any],
    form: dict[str, str | None],
    cookies: bool,
    status: int,
    error: str,
) -> None:
    """PS-27: a POST without the session, or without its CSRF token, is refused and the
    question is left as it was."""
    _, agent, app = bound

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            location = (await ask(http, agent, question_body())).headers["location"]
            await sign_in(alice, "alice", ALICE_PASSWORD)
            link = await inbox_link(alice)
            real = csrf_of((await alice.get(link)).text)
            fields = {k: real if v is None else v for k, v in form.items()}
            data = {**fields, "decision": "answer", "answer": "forged"}
            sender = alice if cookies else http
            refused = await sender.post(link, data=data)
            assert (refused.status_code, page_error(refused)) == (status, error)
            assert (await signed(http, agent, "GET", location)).status_code == 202
            assert (await alice.get(link)).status_code == 200

    run(scenario())


def test_cross_site_answer_is_refused(bound: tuple[World, Agent, Any]) -> None:
    """A form another site made Alice's browser send is refused before it is read."""
    _, agent, app = bound

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            location = (await ask(http, agent, question_body())).headers["location"]
            await sign_in(alice, "alice", ALICE_PASSWORD)
            link = await inbox_link(alice)
            form = {"csrf": csrf_of((await alice.get(link)).text), "decision": "answer"}
            forged = await alice.post(
                link, data={**form, "answer": "x"}, headers={"origin": "https://evil.example"}
            )
            assert (forged.status_code, page_error(forged)) == (403, "forbidden")
            assert (await signed(http, agent, "GET", location)).status_code == 202

    run(scenario())


@pytest.mark.parametrize(
    ("fields", "status", "error"),
    [
        ({"decision": "answer"}, 400, "invalid_request"),
        ({"decision": "answer", "answer": "   "}, 400, "invalid_request"),
        ({"decision": "answer", "answer": "a\x00b"}, 400, "invalid_request"),
        ({"decision": "answer", "answer": "x" * (MAX_DESCRIPTION + 1)}, 400, "invalid_request"),
        ({"decision": "maybe", "answer": "x"}, 400, "invalid_request"),
        ({"answer": "x"}, 400, "invalid_request"),
    ],
)
def test_bad_answers_are_refused(
    bound: tuple[World, Agent, Any], fields: dict[str, str], status: int, error: str
) -> None:
    """An empty, oversized or control-character answer, or no decision: 400, and the question
    still waits."""
    _, agent, app = bound

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            location = (await ask(http, agent, question_body())).headers["location"]
            await sign_in(alice, "alice", ALICE_PASSWORD)
            link = await inbox_link(alice)
            form = {"csrf": csrf_of((await alice.get(link)).text), **fields}
            refused = await alice.post(link, data=form)
            assert (refused.status_code, page_error(refused)) == (status, error)
            assert (await signed(http, agent, "GET", location)).status_code == 202

    run(scenario())


def test_a_question_has_no_page_to_go_to(bound: tuple[World, Agent, Any]) -> None:
    """The relay's onward link and callback are not a question's: 404, nothing changes."""
    _, agent, app = bound

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            location = (await ask(http, agent, question_body())).headers["location"]
            await sign_in(alice, "alice", ALICE_PASSWORD)
            link = await inbox_link(alice)
            for path in (f"{link}/go", f"{link}/callback"):
                response = await alice.request("GET", path)
                assert response.status_code in (404, 405), response.text
            assert (await signed(http, agent, "GET", location)).status_code == 202

    run(scenario())


@pytest.mark.parametrize(
    ("members", "status", "error"),
    [
        ({"question": None}, 400, "invalid_request"),
        ({"question": 7}, 400, "invalid_request"),
        ({"question": ["Which?"]}, 400, "invalid_request"),
        ({"question": ""}, 400, "invalid_request"),
        ({"question": "x" * (MAX_DESCRIPTION + 1)}, 400, "invalid_request"),
        ({"question": "bell\x07"}, 400, "invalid_request"),
        ({"max_wait": 0}, 400, "invalid_request"),
        ({"max_wait": "30"}, 400, "invalid_request"),
        ({"mission": "nope"}, 400, "invalid_request"),
        ({"mission": {"approver": PS, "s256": "A" * 43}}, 403, "mission_terminated"),
        ({"type": "questions"}, 400, "invalid_request"),
        ({"type": None}, 400, "invalid_request"),
    ],
)
def test_question_refusals(
    bound: tuple[World, Agent, Any], members: dict[str, Any], status: int, error: str
) -> None:
    """A missing, non-string, empty, oversized or control-character question, a bad
    ``max_wait`` or ``mission``, an unknown ``type``: the AAuth error, nothing waiting."""
    _, agent, app = bound

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            problem(await ask(http, agent, question_body(**members)), status, error)
            await sign_in(alice, "alice", ALICE_PASSWORD)
            assert "Nothing is waiting" in (await alice.get("/relays")).text

    run(scenario())


def test_ps21_question_under_a_mission_is_logged_and_refused_once_it_ended() -> None:
    """PS-21: the question and its answer go to the mission's log; after revocation a
    question naming the mission gets 403 ``mission_terminated``."""
    world = World()
    agent = world.agent()
    app = world.app(bindings={agent.sub: "alice"})

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            ref = await approved(http, alice, agent)
            mission = {"approver": ref.approver, "s256": ref.s256}
            asked = await ask(http, agent, question_body(mission=mission))
            assert asked.status_code == 202, asked.text
            assert (await reply(alice, await inbox_link(alice), answer="Go")).status_code == 200
            log = (await alice.get(f"/missions/{ref.s256}")).text
            assert "question asked" in log
            assert "question answered" in log
            assert "&lt;script&gt;" in log  # the log shows the question escaped too (V-42)
            assert (await act(alice, ref.s256, "revoke")).status_code == 200
            refused = await ask(http, agent, question_body(mission=mission))
            problem(refused, 403, "mission_terminated")

    run(scenario())


def test_ps23_question_without_a_bound_person_is_interaction_unavailable() -> None:
    """PS-23: no person bound to the agent, no channel: 424 ``interaction_unavailable``."""
    world = World()
    agent = world.agent()

    async def scenario() -> None:
        async with client(world.app()) as http:
            problem(await ask(http, agent, question_body()), 424, "interaction_unavailable")

    run(scenario())


def test_question_nobody_may_answer_is_user_unreachable() -> None:
    """No person of this PS may ever answer for the agent: 403 ``user_unreachable``."""
    world = World()
    agent = world.agent()

    async def scenario() -> None:
        async with client(world.app(bind_on_first_approval=False)) as http:
            problem(await ask(http, agent, question_body()), 403, "user_unreachable")

    run(scenario())
