"""The agent asks its person a question through the person server (§F.6 ``question``):
:meth:`AgentAuth.ask_person` / :meth:`~AgentAuth.aask_person` and ``aauth ask`` against a
real person server on loopback, the person answering on their ``/relays`` page (PS-23,
PS-27); expiry and ``interaction_unavailable`` through the ASGI app in-process."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aauth.agent import AgentAuth, ask_person
from aauth.agent.flow import run_async
from aauth.agent.poller import PollSettings
from aauth.cli import main
from aauth.demo.person import Person
from aauth.errors import InteractionUnavailable, InvalidRequest, PendingDenied, PendingExpired
from aauth.keys import private_jwk
from aauth.server.person_server import create_person_server
from aauth.store import SQLiteStore

from .conftest import ALICE_PASSWORD, PS, World, live_servers

POLL = PollSettings(deadline=30, max_interval=0.05, allow_loopback_http=True)


@pytest.fixture(scope="module")
def live() -> Iterator[World]:
    """A person server on loopback whose agent ``bot`` is bound to Alice, and its neighbours."""
    world, neighbour_server, ps_server = live_servers(bound=True)
    with neighbour_server, ps_server:
        yield world


def person_replies(world: World, answer: str | None) -> None:
    """Alice waits for the question in her inbox and answers (None: declines) it."""
    with httpx.Client(timeout=30) as browser:
        page = Person("alice", ALICE_PASSWORD, browser).answer_question(world.ps, answer)
        assert page.status_code == 200, page.text


def in_thread(call: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    """``call`` on a thread; its result (or exception) lands in the dict."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = call()
        except Exception as exc:  # handed to the test, which asserts on it
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def test_ps23_ask_person_returns_the_persons_answer(live: World) -> None:
    """PS-23: the question reaches Alice's inbox; ``ask_person`` returns her Markdown."""
    auth = AgentAuth(live.agent().signer, poll=POLL, allow_loopback_http=True)
    thread, outcome = in_thread(lambda: auth.ask_person("Which **fare**?", max_wait=60))
    person_replies(live, "The refundable one")
    thread.join(timeout=30)
    assert outcome == {"result": "The refundable one"}


def test_aask_person_returns_the_persons_answer(live: World) -> None:
    """The asynchronous form, on the event loop, while the person answers elsewhere."""
    auth = AgentAuth(live.agent().signer, poll=POLL, allow_loopback_http=True)

    async def scenario() -> str:
        asking = asyncio.ensure_future(auth.aask_person("Window or aisle?"))
        await asyncio.to_thread(person_replies, live, "Aisle")
        return await asking

    assert asyncio.run(scenario()) == "Aisle"


def test_declined_question_raises_pending_denied(live: World) -> None:
    auth = AgentAuth(live.agent().signer, poll=POLL, allow_loopback_http=True)
    thread, outcome = in_thread(lambda: auth.ask_person("May I spend $500?"))
    person_replies(live, None)
    thread.join(timeout=30)
    assert isinstance(outcome.get("error"), PendingDenied), outcome


def test_a_bad_question_is_refused_before_anything_is_sent(live: World) -> None:
    auth = AgentAuth(live.agent().signer, poll=POLL, allow_loopback_http=True)
    with pytest.raises(InvalidRequest, match="'question'"):
        auth.ask_person("")
    with pytest.raises(InvalidRequest, match="max_wait"):
        auth.ask_person("Which?", max_wait=0)


def _cli_agent(world: World, tmp_path: Path, local: str = "bot") -> list[str]:
    agent = world.agent(local)
    key = tmp_path / f"{local}.jwk"
    key.write_text(json.dumps(private_jwk(agent.key)))
    return ["--key", str(key), "--agent-token", agent.token, "--allow-loopback"]


def test_aauth_ask_prints_the_answer(
    live: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    options = _cli_agent(live, tmp_path)
    thread, outcome = in_thread(lambda: main(["ask", *options, "Which hotel?"]))
    person_replies(live, "The one by the station")
    thread.join(timeout=30)
    assert outcome == {"result": 0}
    assert capsys.readouterr().out == "The one by the station\n"


def test_aauth_ask_errors_are_one_line(
    live: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """PS-23: an agent bound to nobody gets 424 ``interaction_unavailable``: one line, exit 1;
    a bad ``--max-wait`` is a usage error."""
    options = _cli_agent(live, tmp_path, "stranger")
    assert main(["ask", *options, "Anyone there?"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("aauth ask: error: interaction_unavailable: ")
    assert main(["ask", *options, "--max-wait", "0", "Anyone?"]) == 2
    assert "--max-wait" in capsys.readouterr().err


class Later(httpx.AsyncBaseTransport):
    """The PS app in-process; every poll of a pending URL happens ``step`` seconds later."""

    def __init__(self, app: Any, now: list[float], step: float) -> None:
        self._inner = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        self._now, self._step = now, step

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path.startswith("/pending/"):
            self._now[0] += self._step
        return await self._inner.handle_async_request(request)


def _asked(bound: bool, step: float, max_wait: int | None) -> Any:
    """Run the ``ask_person`` flow against an in-process PS with its own clock."""
    world = World()
    agent = world.agent()
    now = [time.time()]
    config = world.config(bindings={agent.sub: "alice"} if bound else {})
    app = create_person_server(config, SQLiteStore(), key_source=world.keys, clock=lambda: now[0])
    settings = PollSettings(deadline=30, prefer_wait=0, max_interval=0.01, min_interval=0.01)
    flow = ask_person(PS, "Still there?", agent.signer, max_wait=max_wait, settings=settings)

    async def scenario() -> Any:
        async with httpx.AsyncClient(transport=Later(app, now, step)) as http:
            return await run_async(flow, http)

    return asyncio.run(scenario())


def test_max_wait_expiry_raises_pending_expired() -> None:
    """``max_wait`` elapses before anyone answers: the poll's 408 is PendingExpired."""
    with pytest.raises(PendingExpired):
        _asked(bound=True, step=31, max_wait=30)


def test_ps23_no_bound_person_raises_interaction_unavailable() -> None:
    with pytest.raises(InteractionUnavailable):
        _asked(bound=False, step=0, max_wait=None)
