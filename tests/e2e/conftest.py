"""End to end: the real participants on loopback ports (aauth.demo.world), the demo agent's
``AgentAuth`` behind a blocking or an async httpx client, and a person using the real pages.

Every exchange the agent makes, with the resource and with its person server, passes through
the world's printer; a :class:`Recorder` keeps them (and prints nowhere) so a test can check
which requests were made, in which order, with which answers.
"""

from __future__ import annotations

import contextlib
import io
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import httpx
import pytest
from anyio.from_thread import start_blocking_portal

from aauth.agent.auth import AgentAuth
from aauth.agent.poller import DeferredCallbacks, InteractionPrompt
from aauth.demo.consent import PERSON, agent_client, person_server_factory
from aauth.demo.person import Person
from aauth.demo.printer import Printer
from aauth.demo.world import World, running_world
from aauth.metadata import well_known_url
from aauth.tokens.wire import PERSON_DWK, RESOURCE_DWK

Exchange = tuple[str, str, int]
"""``(method, URL without its query, status)`` of one request the agent made."""


class Recorder(Printer):
    """A printer that writes to a string and remembers every exchange it is shown."""

    def __init__(self) -> None:
        super().__init__(io.StringIO())
        self.responses: list[httpx.Response] = []

    def exchange(self, response: httpx.Response) -> None:
        self.responses.append(response)
        super().exchange(response)

    def trail(self, start: int = 0) -> list[Exchange]:
        """The exchanges since the ``start``-th, in the order they ended."""
        return [_exchange(response) for response in self.responses[start:]]


def _exchange(response: httpx.Response) -> Exchange:
    request = response.request
    return request.method, str(request.url.copy_with(query=None)), response.status_code


def recorder(world: World) -> Recorder:
    assert isinstance(world.printer, Recorder)
    return world.printer


def assert_long_polls(exchanges: list[Exchange], pending_url: str, final: int) -> None:
    """``exchanges`` are polls of ``pending_url``: any number answered 202 (pending, then
    interacting once the person opens the page), then one answered ``final``."""
    assert exchanges, "the agent never polled"
    assert exchanges[-1] == ("GET", pending_url, final), exchanges
    assert all(e == ("GET", pending_url, 202) for e in exchanges[:-1]), exchanges


def deferred_by_the_person_server(world: World) -> list[Exchange]:
    """How the agent's first request for ``/data`` begins when its person must be asked:
    the resource's metadata (AG-05), challenge, the resource's JWKS to verify it (AG-11), the
    person server's metadata, then a token request answered 202."""
    ps = world.person_server
    return [
        ("GET", well_known_url(world.resource, RESOURCE_DWK), 200),
        ("GET", f"{world.resource}/data", 401),
        ("GET", f"{world.resource}/.well-known/jwks.json", 200),
        ("GET", well_known_url(ps, PERSON_DWK), 200),
        ("POST", f"{ps}/token", 202),
    ]


@dataclass
class Agent:
    """The demo agent: its auth, and ``request(method, url, **options)`` on its client."""

    auth: AgentAuth
    request: Callable[..., httpx.Response]

    def deadline(self, seconds: float) -> None:
        """Give up on a pending token request after ``seconds`` (and cancel it)."""
        self.auth.poll = replace(self.auth.poll, deadline=seconds)


@contextlib.contextmanager
def blocking_agent(world: World, callbacks: DeferredCallbacks | None) -> Iterator[Agent]:
    """``aauth.demo.consent.agent_client``: AgentAuth on an ``httpx.Client``."""
    client, auth = agent_client(world, callbacks)
    with client:
        yield Agent(auth, client.request)


@contextlib.contextmanager
def async_agent(world: World, callbacks: DeferredCallbacks | None) -> Iterator[Agent]:
    """The same agent's auth on an ``httpx.AsyncClient`` (AgentAuth's async driver), run on
    an event loop in a portal thread so one test body drives both kinds of client."""
    unused, auth = agent_client(world, callbacks)
    unused.close()  # only its AgentAuth is wanted

    async def exchange(response: httpx.Response) -> None:
        world.printer.exchange(response)

    client = httpx.AsyncClient(auth=auth, event_hooks={"response": [exchange]}, timeout=60)
    with start_blocking_portal() as portal, portal.wrap_async_context_manager(client):

        def request(method: str, url: str, **options: Any) -> httpx.Response:
            return portal.call(partial(client.request, method, url, **options))

        yield Agent(auth, request)


AgentFactory = Callable[[World, DeferredCallbacks | None], contextlib.AbstractContextManager[Agent]]


@pytest.fixture(params=["sync", "async"])
def open_agent(request: pytest.FixtureRequest) -> AgentFactory:
    """``open_agent(world, callbacks)``: the demo agent on a blocking or an async client."""
    return blocking_agent if request.param == "sync" else async_agent


@pytest.fixture
def autonomous() -> Iterator[World]:
    """Phase 3: resource, agent provider and a person server that pre-approves data.read."""
    factory = person_server_factory(auto_approve_scopes=["data.read"])
    with running_world(Recorder(), person_server=factory) as world:
        yield world


@pytest.fixture
def consenting() -> Iterator[World]:
    """Phase 4: the same, with a person server that asks its person every time."""
    with running_world(Recorder(), person_server=person_server_factory()) as world:
        yield world


class PersonAtHand:
    """The world's person, deciding each prompt the agent shows through the real login and
    consent pages, on their own thread (the agent is long-polling meanwhile); first asking
    ``questions`` one by one, each time waiting for the agent's answer (phase 8)."""

    def __init__(
        self, world: World, decision: str | list[str] = "approve", questions: tuple[str, ...] = ()
    ) -> None:
        """``decision`` for every prompt, or one per prompt in the order they come."""
        self.password = str(world.extras["password"])
        self.decisions = [decision] if isinstance(decision, str) else list(decision)
        self.questions = questions
        self.prompts: list[InteractionPrompt] = []
        self.answers: list[httpx.Response] = []
        self.failures: list[BaseException] = []
        self._threads: list[threading.Thread] = []

    @property
    def callbacks(self) -> DeferredCallbacks:
        return DeferredCallbacks(on_interaction=self.prompted)

    def prompted(self, prompt: InteractionPrompt) -> None:
        self.prompts.append(prompt)
        turn = min(len(self.prompts), len(self.decisions)) - 1
        decision = self.decisions[turn]
        thread = threading.Thread(target=self._decide, args=(prompt, decision), daemon=True)
        self._threads.append(thread)
        thread.start()

    def _decide(self, prompt: InteractionPrompt, decision: str) -> None:
        try:
            with httpx.Client(timeout=30) as browser:
                person = Person(PERSON, self.password, browser)
                self.answers.append(person.converse(prompt, self.questions, decision))
        except BaseException as exc:  # re-raised on the test's thread by done()
            self.failures.append(exc)

    def done(self) -> None:
        """Wait for every decision; re-raise the first failure."""
        for thread in self._threads:
            thread.join(timeout=30)
        if self.failures:
            raise self.failures[0]


def poll_once(world: World, pending_url: str) -> httpx.Response:
    """One more signed poll of a pending URL, as the agent (with its agent token)."""
    return httpx.get(pending_url, headers=world.signer.sign("GET", pending_url))
