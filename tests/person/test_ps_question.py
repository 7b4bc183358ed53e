"""An agent's ``question`` relayed to its person (§F.6 ``interaction_endpoint``): a 202 with
``requirement=approval`` while the person reads it in their ``/relays`` inbox, then
``200 {"answer": …}`` or ``403 denied`` on the pending URL (PS-23, PS-21, PS-27, V-42)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aauth.headers import ApprovalRequirement, parse_requirement
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


@dataclass
class Asked:
    """A question waiting in Alice's inbox: the agent's client, Alice's (signed in), the
    agent's pending URL and the question's page."""

    agent: Agent
    http: httpx.AsyncClient
    alice: httpx.AsyncClient
    location: str
    link: str

    async def poll(self, **headers: str) -> httpx.Response:
        return await signed(self.http, self.agent, "GET", self.location, None, **headers)

    async def reply(self, decision: str = "answer", **fields: str) -> httpx.Response:
        """Press a button on the question page (its form carries the session's CSRF token)."""
        page = await self.alice.get(self.link)
        assert page.status_code == 200, page.text
        form = {"csrf": csrf_of(page.text), "decision": decision, **fields}
        return await self.alice.post(self.link, data=form)

    async def inbox(self) -> str:
        return (await self.alice.get("/relays")).text


@asynccontextmanager
async def asked(agent: Agent, app: Any, **members: Any) -> AsyncIterator[Asked]:
    async with client(app) as http, client(app) as alice:
        answer = await ask(http, agent, question_body(**members))
        assert answer.status_code == 202, answer.text
        await sign_in(alice, "alice", ALICE_PASSWORD)
        inbox = (await alice.get("/relays")).text
        assert "asks you a question" in inbox, inbox
        link = inbox.split("href='", 1)[1].split("'", 1)[0]
        yield Asked(agent, http, alice, answer.headers["location"], link)


def page_error(response: httpx.Response) -> str | None:
    match = _PAGE_ERROR.search(response.text)
    return match.group(1) if match else None


@pytest.fixture
def bound() -> tuple[Agent, Any]:
    """An agent and a person server that binds it to Alice."""
    world = World()
    agent = world.agent()
    return agent, world.app(bindings={agent.sub: "alice"})


def test_ps23_question_is_answered_on_the_persons_page(bound: tuple[Agent, Any]) -> None:
    """PS-23/V-42: 202 ``requirement=approval`` (no code), the question escaped on Alice's
    page, her answer posted with CSRF (PS-27), ``200 {"answer"}`` once, then 410."""
    agent, app = bound

    async def scenario() -> None:
        async with client(app) as http:
            first = await ask(http, agent, question_body())
            assert first.json() == {"status": "pending"}
            requirement = parse_requirement(first.headers["aauth-requirement"])
            assert isinstance(requirement, ApprovalRequirement)
            assert first.headers["location"].startswith(f"{PS}/pending/")
        async with asked(agent, app) as q:
            page = await q.alice.get(q.link)
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text  # untrusted (V-42)
            assert "<script>alert" not in page.text
            assert agent.sub in page.text
            assert (await q.poll()).status_code == 202
            answered = await q.reply(answer="Yes, the *refundable* one.\nThanks")
            assert answered.status_code == 200, answered.text
            assert "Nothing is waiting" not in await q.inbox()  # the first question waits
            assert (await q.alice.get(q.link)).status_code == 404
            done = await q.poll()
            assert done.status_code == 200
            assert done.json() == {"answer": "Yes, the *refundable* one.\nThanks"}
            assert (await q.poll()).status_code == 410

    run(scenario())


def test_declined_question_is_denied(bound: tuple[Agent, Any]) -> None:
    """The person declines: the agent's poll gets 403 ``denied`` (the draft's polling error)."""

    async def scenario() -> None:
        async with asked(*bound) as q:
            declined = await q.reply("decline")
            assert declined.status_code == 200, declined.text
            assert "Nothing is waiting" in await q.inbox()
            problem(await q.poll(), 403, "denied")

    run(scenario())


def test_long_poll_returns_when_the_person_answers(bound: tuple[Agent, Any]) -> None:
    """``Prefer: wait`` holds the agent's poll until the answer is written."""

    async def scenario() -> None:
        async with asked(*bound) as q:
            waiting = asyncio.ensure_future(q.poll(prefer="wait=30"))
            await asyncio.sleep(0)
            assert (await q.reply(answer="No")).status_code == 200
            polled = await waiting
            assert polled.status_code == 200
            assert polled.json() == {"answer": "No"}

    run(scenario())


def test_question_max_wait_expires() -> None:
    """``max_wait`` bounds the question as it bounds a relay: 408 ``expired`` after it, and
    the person's inbox no longer shows it."""
    world = World()
    agent = world.agent()
    now = [time.time()]
    config = world.config(bindings={agent.sub: "alice"})
    app = create_person_server(config, SQLiteStore(), key_source=world.keys, clock=lambda: now[0])

    async def scenario() -> None:
        async with asked(agent, app, max_wait=30) as q:
            now[0] += 31
            problem(await q.poll(), 408, "expired")
            assert "Nothing is waiting" in await q.inbox()
            assert (await q.alice.get(q.link)).status_code == 404

    run(scenario())


def test_another_person_cannot_see_or_answer(bound: tuple[Agent, Any]) -> None:
    """PS-27: only the bound person; Bob (signed in, his own valid CSRF token) gets the
    same 404 as for an unknown relay, and the question still waits for Alice."""

    async def scenario() -> None:
        async with asked(*bound) as q, client(bound[1]) as bob:
            await sign_in(bob, "bob", BOB_PASSWORD)
            assert "Nothing is waiting" in (await bob.get("/relays")).text
            shown = await bob.get(q.link)
            assert (shown.status_code, page_error(shown)) == (404, "not_found")
            unknown = await bob.get("/relays/unknown")
            assert (unknown.status_code, page_error(unknown)) == (404, "not_found")
            bobs_csrf = csrf_of((await bob.get("/interact")).text)  # his session's
            form = {"csrf": bobs_csrf, "decision": "answer", "answer": "Bob says yes"}
            answered = await bob.post(q.link, data=form)
            assert (answered.status_code, page_error(answered)) == (404, "not_found")
            declined = await bob.post(q.link, data={**form, "decision": "decline"})
            assert (declined.status_code, page_error(declined)) == (404, "not_found")
            assert (await q.poll()).status_code == 202
            assert (await q.alice.get(q.link)).status_code == 200

    run(scenario())


def test_a_question_has_no_page_to_go_to(bound: tuple[Agent, Any]) -> None:
    """The relay's *Go to the page* form and its callback are not a question's: 404 even with
    the session's CSRF token, and nothing changes."""

    async def scenario() -> None:
        async with asked(*bound) as q:
            csrf = csrf_of((await q.alice.get(q.link)).text)
            went = await q.alice.post(f"{q.link}/go", data={"csrf": csrf})
            back = await q.alice.get(f"{q.link}/callback")
            for response in (went, back):
                assert (response.status_code, page_error(response)) == (404, "not_found")
            assert (await q.poll()).status_code == 202
            assert (await q.alice.get(q.link)).status_code == 200

    run(scenario())


def test_ps21_question_under_a_mission_is_logged_and_refused_once_it_ended(
    bound: tuple[Agent, Any],
) -> None:
    """PS-21: the question and its answer go to the mission's log; after revocation a
    question naming the mission gets 403 ``mission_terminated``."""
    agent, app = bound

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            ref = await approved(http, alice, agent)
        mission = {"approver": ref.approver, "s256": ref.s256}
        async with asked(agent, app, mission=mission) as q:
            assert (await q.reply(answer="Go")).status_code == 200
            log = (await q.alice.get(f"/missions/{ref.s256}")).text
            assert "question asked" in log
            assert "question answered" in log
            assert "&lt;script&gt;" in log  # the log shows the question escaped too (V-42)
            assert (await act(q.alice, ref.s256, "revoke")).status_code == 200
            refused = await ask(q.http, agent, question_body(mission=mission))
            problem(refused, 403, "mission_terminated")

    run(scenario())


@pytest.mark.parametrize(
    ("changes", "status", "error"),
    [
        ({}, 424, "interaction_unavailable"),
        ({"bind_on_first_approval": False}, 403, "user_unreachable"),
    ],
)
def test_ps23_question_without_a_person_to_ask(
    changes: dict[str, Any], status: int, error: str
) -> None:
    """PS-23: no person bound to the agent, no channel: 424 ``interaction_unavailable``; no
    person of this PS may ever answer for it: 403 ``user_unreachable``."""
    world = World()
    agent = world.agent()

    async def scenario() -> None:
        async with client(world.app(**changes)) as http:
            problem(await ask(http, agent, question_body()), status, error)

    run(scenario())


_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(members=st.dictionaries(st.sampled_from(["question", "max_wait", "mission"]), _VALUES))
def test_any_question_body_is_asked_or_refused_with_an_aauth_code(
    bound: tuple[Agent, Any], members: dict[str, Any]
) -> None:
    """Whatever the members of a ``question`` hold: 202, or a 4xx with an AAuth error code
    (400, or 403 ``mission_terminated`` for a well-formed mission this PS never approved)."""
    agent, app = bound

    async def scenario() -> httpx.Response:
        async with client(app) as http:
            raw = json.dumps({"type": "question", **members}, allow_nan=True).encode()
            return await ask(http, agent, raw)

    response = run(scenario())
    if response.status_code != 202:
        assert response.status_code in (400, 403), response.text
        assert isinstance(response.json()["error"], str)
