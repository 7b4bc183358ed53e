"""A person server with its neighbours: an agent provider, resources, agents and people.

In-process tests pin issuer keys with a StaticKeySource and talk to the ASGI app through
httpx.ASGITransport; live tests serve the neighbours' metadata on loopback so the person
server discovers their keys the way it does in production.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aauth_signing import SigningKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from aauth.agent.signer import AgentSigner
from aauth.headers import InteractionRequirement, parse_requirement
from aauth.keys import KeySet, generate_key
from aauth.keysource import StaticKeySource
from aauth.person import AutoApproval, PersonServerConfig
from aauth.person.passwords import ScryptParams, hash_password
from aauth.person.persons import Person
from aauth.server.person_server import create_person_server
from aauth.server.running import RunningServer
from aauth.store import SQLiteStore
from aauth.tokens import issue_agent_token, issue_resource_token

PS = "https://ps.example"
AP = "https://ap.example"
RESOURCE = "https://docs.example"
OTHER_RESOURCE = "https://mail.example"
AGENT = "aauth:bot@ap.example"
ALICE_PASSWORD = "wonderland"
BOB_PASSWORD = "builder"
INTERACTION = ["interaction"]

# Tests hash at a cost far below the default (scrypt is deliberately slow): an explicit setting.
FAST_SCRYPT = ScryptParams(n=2**10)
ALICE = Person("alice", "Alice", hash_password(ALICE_PASSWORD, FAST_SCRYPT))
BOB = Person("bob", "Bob", hash_password(BOB_PASSWORD, FAST_SCRYPT))
_CSRF = re.compile(r"name='?csrf'? value='([^']+)'")


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match is not None, html
    return match.group(1)


@dataclass
class Agent:
    """An agent of the world's agent provider: key, agent token and signer."""

    sub: str
    iss: str
    key: SigningKey
    token: str
    signer: AgentSigner

    def headers(
        self, method: str, url: str, body: bytes | None = None, **extra: str
    ) -> dict[str, str]:
        headers = {k.replace("_", "-"): v for k, v in extra.items()}
        if body is not None:
            headers["content-type"] = "application/json"
        headers.update(self.signer.sign(method, url, headers, body))
        return headers


@dataclass
class World:
    """Issuer keys, agents and a person-server configuration, all in memory."""

    ps: str = PS
    ap: str = AP
    resources: tuple[str, ...] = (RESOURCE, OTHER_RESOURCE)
    ap_keys: KeySet = field(default_factory=KeySet.generate)
    resource_keys: KeySet = field(default_factory=KeySet.generate)
    loopback: bool = False

    @property
    def keys(self) -> StaticKeySource:
        jwks = {self.ap: self.ap_keys.jwks()}
        jwks.update({resource: self.resource_keys.jwks() for resource in self.resources})
        return StaticKeySource(jwks)

    def agent(
        self,
        local: str = "bot",
        *,
        parent: str | None = None,
        lifetime: int = 3600,
        now: float | None = None,
        ps: str | None = "",
    ) -> Agent:
        """A fresh agent key and agent token; ``ps`` "" names the world's person server."""
        key = generate_key()
        sub = f"aauth:{local}@{self.ap.split('://', 1)[1]}"
        token = issue_agent_token(
            self.ap_keys,
            iss=self.ap,
            sub=sub,
            cnf_jwk=key.public_key(),
            ps=self.ps if ps == "" else ps,
            parent_agent=parent,
            lifetime=lifetime,
            now=now,
            allow_loopback_http=self.loopback,
        )
        return Agent(sub, self.ap, key, token, AgentSigner(key, token))

    def resource_token(
        self,
        agent: Agent,
        scope: str = "docs.read",
        *,
        resource: str | None = None,
        aud: str | None = None,
        agent_id: str | None = None,
        agent_jkt: str | None = None,
        now: float | None = None,
        **extra: Any,
    ) -> str:
        return issue_resource_token(
            self.resource_keys,
            iss=resource or self.resources[0],
            aud=aud or self.ps,
            agent=agent_id or agent.sub,
            agent_jkt=agent_jkt or agent.signer.thumbprint,
            scope=scope,
            now=now,
            allow_loopback_http=self.loopback,
            **extra,
        )

    def config(self, **changes: Any) -> PersonServerConfig:
        values: dict[str, Any] = {
            "identifier": self.ps,
            "people": (ALICE, BOB),
            "allow_loopback_http": self.loopback,
            "poll_interval": 1,
            "password_scrypt_n": FAST_SCRYPT.n,
        }
        values.update(changes)
        return PersonServerConfig(**values)

    def app(self, store: SQLiteStore | None = None, **changes: Any) -> Starlette:
        return create_person_server(
            self.config(**changes), store or SQLiteStore(), key_source=self.keys
        )


def auto(scopes: str = "docs.read", agent: str = "*", resource: str = RESOURCE) -> AutoApproval:
    return AutoApproval(agent, resource, frozenset(scopes.split()))


def client(app: Starlette, base_url: str = PS, address: str = "127.0.0.1") -> httpx.AsyncClient:
    """An in-process client of ``app``, seen as coming from ``address``."""
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url=base_url)


def token_body(resource_token: str, **members: Any) -> bytes:
    return json.dumps({"resource_token": resource_token, **members}).encode()


async def request_token(
    http: httpx.AsyncClient,
    agent: Agent,
    resource_token: str,
    *,
    capabilities: list[str] | None = None,
    **members: Any,
) -> httpx.Response:
    """POST /token, signed; ``capabilities`` defaults to ``["interaction"]``."""
    if capabilities is None:
        capabilities = INTERACTION
    body = token_body(resource_token, capabilities=capabilities, **members)
    url = str(http.base_url.join("/token"))
    return await http.post(url, content=body, headers=agent.headers("POST", url, body))


async def signed(
    http: httpx.AsyncClient,
    agent: Agent,
    method: str,
    url: str,
    body: bytes | None = None,
    **extra: str,
) -> httpx.Response:
    headers = agent.headers(method, url, body, **extra)
    return await http.request(method, url, content=body, headers=headers)


async def post_login(
    http: httpx.AsyncClient, person: str, password: str, **fields: str
) -> httpx.Response:
    """Fetch the sign-in form (its CSRF token and cookie), then submit it."""
    form = await http.get("/login")
    assert form.status_code == 200
    data = {"username": person, "password": password, "next": "/interact", **fields}
    return await http.post("/login", data={"csrf": csrf_of(form.text), **data})


def post_login_sync(
    browser: httpx.Client, person: str, password: str, **fields: str
) -> httpx.Response:
    """:func:`post_login` for a blocking client."""
    form = browser.get("/login")
    assert form.status_code == 200
    data = {"username": person, "password": password, **fields}
    return browser.post("/login", data={"csrf": csrf_of(form.text), **data})


async def sign_in(http: httpx.AsyncClient, person: str, password: str) -> None:
    """Sign in through the login form, as a browser would."""
    response = await post_login(http, person, password)
    assert response.status_code == 303, response.text


async def open_consent(http: httpx.AsyncClient, url: str, code: str) -> httpx.Response:
    """What the person's browser does with the agent's link: enter the code, land on consent."""
    response = await http.get(url, params={"code": code}, follow_redirects=True)
    return response


async def decide(
    http: httpx.AsyncClient, page: httpx.Response, decision: str = "approve"
) -> httpx.Response:
    """Press a button on a consent page (its form posts back to the page's own URL)."""
    action = re.search(r"<form method=post action='([^']+)'", page.text)
    assert action is not None, page.text
    code = re.search(r"name=code value='([^']+)'", page.text)
    assert code is not None
    target = action.group(1).replace("&amp;", "&")
    form = {"csrf": csrf_of(page.text), "code": code.group(1), "decision": decision}
    return await http.post(target, data=form)


async def go_on(http: httpx.AsyncClient, relay_page: str) -> httpx.Response:
    """Press *Go to the page* on the relay page at ``relay_page`` (its form posts the
    session's CSRF token)."""
    page = await http.get(relay_page)
    action = re.search(r"<form method=post action='([^']+)'", page.text)
    assert action is not None, page.text
    return await http.post(action.group(1), data={"csrf": csrf_of(page.text)})


def interaction_of(response: httpx.Response) -> tuple[str, str]:
    """``(url, code)`` of a 202's interaction requirement."""
    requirement = parse_requirement(response.headers["aauth-requirement"], allow_loopback_http=True)
    assert isinstance(requirement, InteractionRequirement)
    assert requirement.url is not None
    return requirement.url, requirement.code


def neighbours(world: World, callback: str | None = None) -> Starlette:
    """The agent provider and the resource as one loopback origin: their well-known documents
    and JWKS, for the person server to discover."""

    def document(body: Mapping[str, Any]) -> Any:
        async def endpoint(request: Request) -> JSONResponse:
            return JSONResponse(dict(body))

        return endpoint

    origin = world.ap
    agent_doc: dict[str, Any] = {
        "issuer": origin,
        "jwks_uri": f"{origin}/ap-jwks.json",
        "name": "Trip Planner",
        "localhost_callback_allowed": False,
    }
    if callback is not None:
        agent_doc["callback_endpoint"] = callback
    resource_doc = {
        "issuer": origin,
        "jwks_uri": f"{origin}/resource-jwks.json",
        "name": "Docs",
        "scope_descriptions": {"docs.read": "Read your documents"},
    }
    return Starlette(
        routes=[
            Route("/.well-known/aauth-agent.json", document(agent_doc)),
            Route("/.well-known/aauth-resource.json", document(resource_doc)),
            Route("/ap-jwks.json", document(world.ap_keys.jwks())),
            Route("/resource-jwks.json", document(world.resource_keys.jwks())),
        ]
    )


def live_servers(
    callback: bool = False, bound: bool = False, **changes: Any
) -> tuple[World, RunningServer, RunningServer]:
    """The neighbours (agent provider and resource in one origin) and a person server
    (configured with ``changes``; with ``bound`` the world's agent ``bot`` is bound to Alice)
    on loopback ports, not yet started: ``(world, neighbour server, person server)``."""
    world = World(loopback=True)

    def neighbour_app(url: str) -> Starlette:
        world.ap, world.resources = url, (url,)
        return neighbours(world, callback=f"{url}/callback" if callback else None)

    def person_server(url: str) -> Starlette:
        world.ps = url
        if bound:  # the agent's identifier names the neighbours' origin, known only now
            changes["bindings"] = {world.agent().sub: "alice"}
        return create_person_server(world.config(**changes))

    neighbour_server = RunningServer.with_own_url(neighbour_app)
    return world, neighbour_server, RunningServer.with_own_url(person_server)


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll a condition of another process (server start-up) until it holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(0.02)


@pytest.fixture
def world() -> World:
    return World()
