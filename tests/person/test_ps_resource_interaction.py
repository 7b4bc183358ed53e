"""Resource-initiated interaction (PS-25, PS-26) over real HTTP on loopback: a resource token
carrying ``interaction``; the PS sends the person to the resource's own page with a per-flow
callback, then to its own consent, or ends the request as the callback's ``error`` says."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from aauth.server.person_server import create_person_server
from aauth.server.running import RunningServer
from aauth.tokens import Interaction, issue_resource_token

from .conftest import (
    ALICE_PASSWORD,
    Agent,
    World,
    auto,
    client,
    csrf_of,
    interaction_of,
    neighbours,
    request_token,
)

RESOURCE_CODE = "K7M2-P9QX"
_CONTINUE = re.compile(r"<a id=continue href='([^']+)'>")


@dataclass
class Live:
    """A person server and its neighbours on loopback ports. The resource also has its own
    interaction page ``/connect``: it notes the URL it was opened with in ``opened`` and
    sends the person back to ``callback`` with the error ``errors`` names for its code
    (none: success)."""

    world: World
    origin: str
    opened: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def live() -> Iterator[Live]:
    world = World(loopback=True)
    state = Live(world, "")

    async def connect(request: Request) -> RedirectResponse:
        state.opened.append(str(request.url))
        callback = request.query_params["callback"]
        error = state.errors.get(request.query_params["code"])
        joiner = "&" if urlsplit(callback).query else "?"
        return RedirectResponse(callback if error is None else f"{callback}{joiner}error={error}")

    def neighbour_app(url: str) -> Starlette:
        world.ap, world.resources = url, (url,)
        app = neighbours(world, callback=f"{url}/callback")
        app.router.routes.append(Route("/connect", connect))
        return app

    def person_server(url: str) -> Starlette:
        world.ps = url
        return create_person_server(world.config())

    with (
        RunningServer.with_own_url(neighbour_app) as neighbour,
        RunningServer.with_own_url(person_server),
    ):
        state.origin = neighbour.url
        yield state


def _start(world: World, origin: str, code: str = RESOURCE_CODE) -> tuple[httpx.Response, Agent]:
    agent = world.agent()
    token = world.resource_token(agent, interaction=Interaction(f"{origin}/connect", code))
    body = b'{"resource_token": "%s", "capabilities": ["interaction"]}' % token.encode()
    url = f"{world.ps}/token"
    first = httpx.post(url, content=body, headers=agent.headers("POST", url, body))
    return first, agent


def _token(app: Starlette, agent: Agent, token: str) -> httpx.Response:
    """POST /token to an in-process PS."""

    async def run() -> httpx.Response:
        async with client(app) as http:
            return await request_token(http, agent, token)

    return asyncio.run(run())


def _sign_in(browser: httpx.Client) -> None:
    form = browser.get("/login")
    data = {"username": "alice", "password": ALICE_PASSWORD, "csrf": csrf_of(form.text)}
    assert browser.post("/login", data=data).status_code == 303


def test_ps25_the_person_goes_through_the_resources_page_first(
    live: Live,
) -> None:
    """PS-25: the PS's own 202 for the agent; at the PS the person sees the code and a link
    to ``{interaction.url}?code=…&callback={per-flow PS callback}``; back from there, the
    PS's consent page (again, harmlessly, when the callback is visited twice); approval ends
    at the agent's callback with a token for the agent."""
    world, origin, opened = live.world, live.origin, live.opened
    first, agent = _start(world, origin)
    assert first.status_code == 202, first.text
    url, code = interaction_of(first)
    assert url == f"{world.ps}/interact"  # the PS's page, not the resource's
    callback = f"{origin}/callback?state=s1"
    with httpx.Client(base_url=world.ps) as browser:
        _sign_in(browser)
        page = browser.get(url, params={"code": code, "callback": callback}, follow_redirects=True)
        assert page.status_code == 200, page.text
        assert code in page.text
        link = _CONTINUE.search(page.text)
        assert link is not None
        target = unescape(link.group(1))
        query = parse_qs(urlsplit(target).query)
        assert target.startswith(f"{origin}/connect?")
        assert query["code"] == [RESOURCE_CODE]
        assert re.fullmatch(rf"{world.ps}/interact/[\w-]+/callback", query["callback"][0])
        consent = browser.get(target, follow_redirects=True)
        assert opened == [target]
        assert consent.status_code == 200, consent.text
        # Coming back twice (a reload, the link replayed) leads to the same consent page.
        again = browser.get(query["callback"][0])
        assert again.status_code == 303
        assert again.headers["location"] == consent.history[-1].headers["location"]
        assert "name=decision" in consent.text
        action = re.search(r"<form method=post action='([^']+)'", consent.text)
        assert action is not None
        form = {"csrf": csrf_of(consent.text), "code": code, "decision": "approve"}
        decided = browser.post(unescape(action.group(1)), data=form)
        assert decided.status_code == 303
        assert decided.headers["location"] == callback
    location = first.headers["location"]
    granted = httpx.get(location, headers=agent.headers("GET", location))
    assert granted.status_code == 200, granted.text
    assert "auth_token" in granted.json()


@pytest.mark.parametrize(
    ("error", "status", "polled"),
    [
        ("access_denied", 403, "denied"),
        ("user_abandoned", 403, "abandoned"),
        ("interaction_expired", 408, "expired"),
        ("temporarily_unavailable", 500, "server_error"),
        ("server_error", 500, "server_error"),
    ],
)
def test_ps26_a_callback_error_ends_the_request_mapped(
    live: Live, error: str, status: int, polled: str
) -> None:
    """PS-26: ``access_denied``→denied, ``user_abandoned``→abandoned,
    ``interaction_expired``→expired, the others→server_error; the person goes on to the
    agent's callback with the error (the same answer for a second visit of the callback),
    and the PS's consent page never shows."""
    world, origin = live.world, live.origin
    live.errors["ERR-" + error] = error
    first, agent = _start(world, origin, code="ERR-" + error)
    url, code = interaction_of(first)
    with httpx.Client(base_url=world.ps) as browser:
        _sign_in(browser)
        page = browser.get(url, params={"code": code, "callback": f"{origin}/callback"})
        page = browser.get(page.headers["location"])
        link = _CONTINUE.search(page.text)
        assert link is not None
        back = browser.get(unescape(link.group(1)))  # the resource's redirect
        assert back.status_code == 307
        ended = browser.get(back.headers["location"])
        assert ended.status_code == 303
        mapped = {"temporarily_unavailable": "server_error"}.get(error, error)
        assert ended.headers["location"] == f"{origin}/callback?error={mapped}"
        again = browser.get(back.headers["location"])  # a second visit changes nothing
        assert again.headers["location"] == ended.headers["location"]
    location = first.headers["location"]
    answer = httpx.get(location, headers=agent.headers("GET", location))
    assert answer.status_code == status
    assert answer.json()["error"] == polled


def test_ps25_an_interaction_url_egress_refuses_is_an_invalid_resource_token(
    world: World,
) -> None:
    """PS-25: egress admission before any redirect: a private address is refused at once."""
    agent = world.agent()
    token = world.resource_token(agent, interaction=Interaction("https://10.1.2.3/connect", "C"))
    refused = _token(world.app(), agent, token)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_resource_token"
    assert "not admitted" in refused.json()["detail"]


def test_ps25_a_plain_http_interaction_url_is_an_invalid_resource_token(
    world: World,
) -> None:
    """PS-25: ``interaction.url`` must be https (this PS allows no loopback http)."""
    agent = world.agent()
    token = issue_resource_token(
        world.resource_keys,
        iss=world.resources[0],
        aud=world.ps,
        agent=agent.sub,
        agent_jkt=agent.signer.thumbprint,
        scope="docs.read",
        interaction=Interaction("http://127.0.0.1:9/connect", "C"),
        allow_loopback_http=True,
    )
    refused = _token(world.app(), agent, token)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_resource_token"


def test_ps25_a_rule_does_not_skip_the_resources_page(world: World) -> None:
    """A request a rule would grant at once still needs the person: the resource's page."""
    agent = world.agent()
    token = world.resource_token(
        agent, interaction=Interaction("https://93.184.215.14/connect", "C")
    )
    deferred = _token(world.app(auto_approve=(auto(),)), agent, token)
    assert deferred.status_code == 202, deferred.text
