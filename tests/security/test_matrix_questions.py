"""The negative matrix for an agent's question to its person (§F.6 ``type`` ``question``):
bad bodies at the ``interaction_endpoint`` and forged, foreign or session-less answers on the
person's ``/relays`` page, each with the exact status and AAuth error code it must get
(the person server's ASGI app in-process, a fresh one per row; PS-23, PS-27, V-42). A row
with no code is a positive control: the same request done right."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import httpx
import pytest

from aauth.missions import MAX_DESCRIPTION

from ..person.conftest import ALICE_PASSWORD, BOB_PASSWORD, PS, Agent, World, client, csrf_of
from ..person.conftest import sign_in as _sign_in
from .matrix import HttpCase, http_cases
from .test_matrix_servers import EVIL, assert_row

Row = Callable[[World], Awaitable[httpx.Response]]
CASES: list[HttpCase] = []


def case(name: str, status: int, code: str | None, covers: str) -> Callable[[Row], Row]:
    def register(run: Row) -> Row:
        ids = [part.strip() for part in covers.split(",")]
        CASES.append(HttpCase(name, run, status, code or "", *ids))  # type: ignore[arg-type]
        return run

    return register


def _bound(world: World) -> tuple[Agent, Any]:
    agent = world.agent()
    return agent, world.app(bindings={agent.sub: "alice"})


async def _ask(http: httpx.AsyncClient, agent: Agent, body: dict[str, Any]) -> httpx.Response:
    raw = json.dumps(body).encode()
    url = f"{PS}/interaction"
    return await http.post(url, content=raw, headers=agent.headers("POST", url, raw))


async def _body(world: World, *, body: dict[str, Any], bound: bool = True) -> httpx.Response:
    agent, app = _bound(world) if bound else (world.agent(), world.app())
    async with client(app) as http:
        return await _ask(http, agent, body)


_BODIES: list[tuple[str, dict[str, Any], int, str]] = [
    ("question a number", {"question": 7}, 400, "invalid_request"),
    ("question an array", {"question": ["Which?"]}, 400, "invalid_request"),
    ("question missing", {}, 400, "invalid_request"),
    ("question blank", {"question": "  \n"}, 400, "invalid_request"),
    ("question with a NUL", {"question": "a\x00b"}, 400, "invalid_request"),
    ("question over the cap", {"question": "x" * (MAX_DESCRIPTION + 1)}, 400, "invalid_request"),
    ("max_wait negative", {"question": "Which?", "max_wait": -1}, 400, "invalid_request"),
    ("max_wait a float", {"question": "Which?", "max_wait": 1.5}, 400, "invalid_request"),
    ("max_wait a string", {"question": "Which?", "max_wait": "30"}, 400, "invalid_request"),
    ("mission a string", {"question": "Which?", "mission": "nope"}, 400, "invalid_request"),
]
for _name, _body_members, _status, _error in _BODIES:
    case(f"interaction endpoint: {_name}", _status, _error, "PS-23, item 4/5")(
        partial(_body, body={"type": "question", **_body_members})
    )
case("interaction endpoint: an unknown type", 400, "invalid_request", "PS-23")(
    partial(_body, body={"type": "quiz", "question": "Which?"})
)
case("interaction endpoint: no type", 400, "invalid_request", "PS-23")(
    partial(_body, body={"question": "Which?"})
)
case("interaction endpoint: a question under no such mission", 403, "mission_terminated", "PS-21")(
    partial(
        _body,
        body={
            "type": "question",
            "question": "Which?",
            "mission": {"approver": PS, "s256": "A" * 43},
        },
    )
)
case("interaction endpoint: a question, no person bound", 424, "interaction_unavailable", "PS-23")(
    partial(_body, body={"type": "question", "question": "Which?"}, bound=False)
)


Client = httpx.AsyncClient
Answer = Callable[[Client, Client, Client, str, str], Awaitable[httpx.Response]]


async def _answer(world: World, *, send: Answer) -> httpx.Response:
    """A question waiting in Alice's inbox; ``send(alice, bob, nobody signed in, question
    page, Alice's CSRF token)`` answers it somehow. A refusal must leave it waiting."""
    agent, app = _bound(world)
    async with client(app) as http, client(app) as alice, client(app) as bob:
        asked = await _ask(http, agent, {"type": "question", "question": "<b>Which?</b>"})
        assert asked.status_code == 202, asked.text
        await _sign_in(alice, "alice", ALICE_PASSWORD)
        await _sign_in(bob, "bob", BOB_PASSWORD)
        inbox = (await alice.get("/relays")).text
        link = inbox.split("href='", 1)[1].split("'", 1)[0]
        page = await alice.get(link)
        assert "&lt;b&gt;Which?&lt;/b&gt;" in page.text  # V-42
        response = await send(alice, bob, http, link, csrf_of(page.text))
        if response.status_code != 200:
            polled = await http.get(
                asked.headers["location"], headers=agent.headers("GET", asked.headers["location"])
            )
            assert polled.status_code == 202, "a refused answer changed the question"
        return response


def _form(csrf: str | None, **extra: str) -> dict[str, str]:
    fields = {"decision": "answer", "answer": "Yes", **extra}
    return fields if csrf is None else {"csrf": csrf, **fields}


_ANSWERS: list[tuple[str, Answer, int, str | None]] = [
    ("with its form", lambda a, b, n, link, csrf: a.post(link, data=_form(csrf)), 200, None),
    ("declined with its form", lambda a, b, n, link, csrf: a.post(
        link, data=_form(csrf, decision="decline")), 200, None),
    ("without the CSRF token", lambda a, b, n, link, csrf: a.post(link, data=_form(None)), 403,
     "forbidden"),
    ("with a wrong CSRF token", lambda a, b, n, link, csrf: a.post(link, data=_form("x" * 43)), 403,
     "forbidden"),
    ("with an empty CSRF token", lambda a, b, n, link, csrf: a.post(link, data=_form("")), 403,
     "forbidden"),
    ("without a session", lambda a, b, n, link, csrf: n.post(link, data=_form(csrf)), 401,
     "access_denied"),
    ("from another site", lambda a, b, n, link, csrf: a.post(
        link, data=_form(csrf), headers={"Origin": EVIL}), 403, "forbidden"),
    ("as JSON", lambda a, b, n, link, csrf: a.post(link, json=_form(csrf)), 400, "invalid_request"),
    ("with an answer over the cap", lambda a, b, n, link, csrf: a.post(
        link, data=_form(csrf, answer="x" * (MAX_DESCRIPTION + 1))), 400, "invalid_request"),
    ("with no decision", lambda a, b, n, link, csrf: a.post(link, data={"csrf": csrf}), 400,
     "invalid_request"),
    ("with another decision", lambda a, b, n, link, csrf: a.post(
        link, data=_form(csrf, decision="maybe")), 400, "invalid_request"),
    ("with no answer", lambda a, b, n, link, csrf: a.post(
        link, data={"csrf": csrf, "decision": "answer"}), 400, "invalid_request"),
    ("with a blank answer", lambda a, b, n, link, csrf: a.post(
        link, data=_form(csrf, answer=" \n ")), 400, "invalid_request"),
    ("with a NUL in the answer", lambda a, b, n, link, csrf: a.post(
        link, data=_form(csrf, answer="a\x00b")), 400, "invalid_request"),
]  # fmt: skip
for _name, _send, _status, _code in _ANSWERS:
    case(f"relays: answering a question {_name}", _status, _code, "PS-27")(
        partial(_answer, send=_send)
    )


async def _bobs(alice: Client, bob: Client, nobody: Client, link: str, _: str) -> Any:
    """Bob, signed in, answers Alice's question with his own session's valid token."""
    return await bob.post(link, data=_form(csrf_of((await bob.get("/interact")).text)))


case("relays: another person answering a question", 404, "not_found", "PS-27")(
    partial(_answer, send=_bobs)
)


@pytest.mark.parametrize("row", http_cases(CASES))
def test_matrix_questions(row: HttpCase) -> None:
    send: Any = row.send
    assert_row(row, asyncio.run(send(World())))
