"""AgentAuth relays a resource's interaction through its person server (§F.6) when it cannot
show the person a URL itself, and takes completion from the resource's pending URL only
(AG-31). The person server is the real ASGI app; the resource a small one that answers 202
with an interaction until the test says the person finished there."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from aauth.agent import AgentAuth
from aauth.agent.flow import run_async
from aauth.agent.poller import DeferredCallbacks, InteractionPrompt, PollSettings
from aauth.errors import UserUnreachable
from aauth.headers import InteractionRequirement, build_challenge

from .conftest import ALICE_PASSWORD, PS, Agent, World, client, go_on, sign_in
from .test_ps_token_endpoint import run

RESOURCE = "http://127.0.0.1:9"
CONFIRM = f"{RESOURCE}/confirm"


class Resource:
    """A resource whose ``/data`` needs the person at :data:`CONFIRM` first."""

    def __init__(self) -> None:
        self.polls = 0
        self.polled = asyncio.Condition()
        self.finished = False

    def _waiting(self) -> Response:
        requirement = InteractionRequirement(CONFIRM, "RCODE-1234")
        headers = build_challenge(
            requirement, location="/pending/1", retry_after=0, allow_loopback_http=True
        )
        return JSONResponse({"status": "pending"}, 202, headers)

    async def data(self, request: Request) -> Response:
        return self._waiting()

    async def pending(self, request: Request) -> Response:
        async with self.polled:
            self.polls += 1
            self.polled.notify_all()
        if self.finished:
            return JSONResponse({"data": "the booking"})
        return self._waiting()

    async def polled_more_than(self, count: int) -> None:
        async with self.polled:
            await self.polled.wait_for(lambda: self.polls > count)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/data", self.data), Route("/pending/1", self.pending)])


class Routed(httpx.AsyncBaseTransport):
    """Each origin to its in-process app."""

    def __init__(self, apps: dict[str, Any]) -> None:
        self._apps = {
            origin: httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
            for origin, app in apps.items()
        }

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        origin = f"{request.url.scheme}://{request.url.netloc.decode()}"
        return await self._apps[origin].handle_async_request(request)


def agent_auth(agent: Agent, callbacks: DeferredCallbacks | None = None) -> AgentAuth:
    poll = PollSettings(
        deadline=30, prefer_wait=0, max_interval=0.01, min_interval=0.01,
        allow_loopback_http=True,
    )  # fmt: skip
    return AgentAuth(agent.signer, poll=poll, callbacks=callbacks, allow_loopback_http=True)


def fetch(auth: AgentAuth, http: httpx.AsyncClient) -> asyncio.Task[httpx.Response]:
    """The agent's GET of the resource's data, driven through ``http``."""
    flow = auth.flow(httpx.Request("GET", f"{RESOURCE}/data"))
    return asyncio.ensure_future(run_async(flow, http))


@pytest.fixture
def loop_world() -> World:
    return World(loopback=True)


def scene(world: World, **config: Any) -> tuple[Agent, Starlette, Resource, Routed]:
    """An agent, the PS (configured with ``config``), the resource, and a transport to both;
    ``bound`` (default True) binds the agent to Alice."""
    agent = world.agent()
    if config.pop("bound", True):
        config["bindings"] = {agent.sub: "alice"}
    ps_app, resource = world.app(**config), Resource()
    return agent, ps_app, resource, Routed({PS: ps_app, RESOURCE: resource.app()})


def test_ag31_completion_comes_from_the_resource_not_the_relay(loop_world: World) -> None:
    """AG-31: the agent relays through the PS (no on_interaction), the person follows the
    relay (its form, with the session's CSRF token, PS-27) and comes back, the relay
    resolves, and the agent keeps polling the resource's pending URL until the resource
    itself answers."""
    agent, ps_app, resource, transport = scene(loop_world)

    async def scenario() -> None:
        async with httpx.AsyncClient(transport=transport) as http, client(ps_app) as alice:
            task = fetch(agent_auth(agent), http)
            await resource.polled_more_than(0)  # relayed, now polling the resource
            await sign_in(alice, "alice", ALICE_PASSWORD)
            inbox = await alice.get("/relays")
            link = inbox.text.split("href='", 1)[1].split("'", 1)[0]
            went = await go_on(alice, link)
            assert went.headers["location"].startswith(f"{CONFIRM}?code=RCODE-1234&callback=")
            assert (await alice.get(f"{link}/callback")).status_code == 200  # relay resolved
            seen = resource.polls
            await resource.polled_more_than(seen + 1)  # still polling the resource
            assert not task.done()
            resource.finished = True
            final = await asyncio.wait_for(task, 10)
            assert final.status_code == 200
            assert final.json() == {"data": "the booking"}

    run(scenario())


def test_ag31_resource_may_finish_before_the_relay_resolves(loop_world: World) -> None:
    """AG-31: the resource's answer ends the wait even while the relay is still open; the
    agent then withdraws the relay, so the person's inbox no longer shows it."""
    agent, ps_app, resource, transport = scene(loop_world)

    async def scenario() -> None:
        async with httpx.AsyncClient(transport=transport) as http, client(ps_app) as alice:
            task = fetch(agent_auth(agent), http)
            await resource.polled_more_than(0)
            await sign_in(alice, "alice", ALICE_PASSWORD)
            assert "needs you on a page" in (await alice.get("/relays")).text
            resource.finished = True
            assert (await asyncio.wait_for(task, 10)).status_code == 200
            assert "Nothing is waiting" in (await alice.get("/relays")).text

    run(scenario())


def test_ps23_no_channel_and_the_agent_polls_the_resource_alone(loop_world: World) -> None:
    """PS-23: an unbound agent's relay is 424 (non-terminal); the agent polls on."""
    agent, _, resource, transport = scene(loop_world, bound=False)

    async def scenario() -> None:
        async with httpx.AsyncClient(transport=transport) as http:
            task = fetch(agent_auth(agent), http)
            await resource.polled_more_than(0)
            resource.finished = True
            assert (await asyncio.wait_for(task, 10)).status_code == 200

    run(scenario())


def test_an_agent_that_can_show_the_url_does_not_relay(loop_world: World) -> None:
    agent, ps_app, resource, transport = scene(loop_world)
    prompts: list[InteractionPrompt] = []

    async def scenario() -> None:
        async with httpx.AsyncClient(transport=transport) as http, client(ps_app) as alice:
            task = fetch(agent_auth(agent, DeferredCallbacks(on_interaction=prompts.append)), http)
            await resource.polled_more_than(0)
            resource.finished = True
            assert (await asyncio.wait_for(task, 10)).status_code == 200
            assert [p.link for p in prompts] == [f"{CONFIRM}?code=RCODE-1234"]
            await sign_in(alice, "alice", ALICE_PASSWORD)
            assert "Nothing is waiting" in (await alice.get("/relays")).text

    run(scenario())


def test_relay_to_a_person_nobody_can_reach_is_user_unreachable(loop_world: World) -> None:
    """``user_unreachable`` is terminal: the agent stops instead of polling in vain."""
    agent, _, _, transport = scene(loop_world, bound=False, bind_on_first_approval=False)

    async def scenario() -> None:
        async with httpx.AsyncClient(transport=transport) as http:
            with pytest.raises(UserUnreachable):
                await fetch(agent_auth(agent), http)

    run(scenario())
