"""The four-party world of phases 7 and 11: agent provider, person servers, a resource that
chose an access server, and that access server, all real servers on loopback ports.

The resource and its access server must know each other's URLs, so both ports are reserved
before either app is built. With ``intermediary`` a second resource, which trusts the person
servers, sits in front of the data resource and calls it as its own agent (call chaining
through the access server, AS-08). Every request a person server makes to the access server is
printed (``PS → AS``), next to the agent's own exchanges.
"""

from __future__ import annotations

import contextlib
import secrets
import tempfile
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ..access import AccessServerConfig
from ..agent.enrollment import request_agent_token
from ..agent.signer import AgentSigner
from ..asgi import ASGIApp, Receive, Scope, Send
from ..keys import generate_key, thumbprint
from ..person.config import PersonServerConfig
from ..server.access_server import create_access_server
from ..server.agent_provider import AgentProviderConfig, create_agent_provider
from ..server.person_server import create_person_server
from ..server.resource_server import ResourceServerConfig, create_resource_server
from ..server.running import RunningServer
from .consent import PERSON
from .printer import Printer

__all__ = ["FederatedWorld", "federated_world"]


@dataclass
class FederatedWorld:
    """URLs of the running participants; ``agents`` maps a PS URL to the agent it serves."""

    printer: Printer
    directory: Path
    password: str
    resource: str = ""
    access_server: str = ""
    person_servers: list[str] = field(default_factory=list)
    agent_provider: str = ""
    intermediary: str = ""
    agents: dict[str, AgentSigner] = field(default_factory=dict)

    @property
    def trusted_ps(self) -> str:
        return self.person_servers[0]


def _printing(app: ASGIApp, printer: Printer) -> ASGIApp:
    """``app``, printing each request a person server makes and the status it gets."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(("/token", "/pending")):
            await app(scope, receive, send)
            return

        async def sending(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                printer.note(f"PS → AS  {scope['method']} {scope['path']}  ← {message['status']}")
            await send(message)

        await app(scope, receive, sending)

    return wrapped


def _person_server(url: str, password: str, directory: Path, auto_approve: bool) -> Any:
    rules = [{"agent": "*", "resource": "*", "scopes": ["data.read"]}] if auto_approve else []
    config = PersonServerConfig.from_json(
        {
            "identifier": url,
            "name": "Demo person server",
            "people": [{"id": PERSON, "name": "Alice", "password": password}],
            "auto_approve": rules,
            "poll_interval": 0,
            "db": str(directory / f"ps-{url.rsplit(':', 1)[1]}.db"),
            "key_file": str(directory / f"ps-{url.rsplit(':', 1)[1]}-keys.json"),
            "allow_loopback_http": True,
        }
    )
    return create_person_server(config)


@contextlib.contextmanager
def federated_world(
    printer: Printer,
    *,
    steps: Mapping[str, Any] | None = None,
    person_servers: int = 1,
    trusted: int = 1,
    auto_approve: bool = False,
    intermediary: bool = False,
) -> Iterator[FederatedWorld]:
    """Start the participants; the AS runs ``steps`` (AccessServerConfig members such as
    ``payment``, ``interaction``, ``required_claims``) and trusts the first ``trusted`` of the
    ``person_servers``. Each PS has the person ``alice``; the AS has an account for her too."""
    with tempfile.TemporaryDirectory(prefix="aauth-demo-") as tmp, contextlib.ExitStack() as stack:
        password = secrets.token_urlsafe(12)
        world = FederatedWorld(printer, Path(tmp), password)
        for _ in range(person_servers):
            ps = stack.enter_context(
                RunningServer.with_own_url(
                    lambda url: _person_server(url, password, world.directory, auto_approve)
                )
            )
            world.person_servers.append(ps.url)
        resource, access = RunningServer.reserved(), RunningServer.reserved()
        world.resource, world.access_server = resource.url, access.url
        as_config = AccessServerConfig.from_json(
            {
                "identifier": access.url,
                "name": "Demo access server",
                "resources": [resource.url],
                "trusted_person_servers": world.person_servers[:trusted],
                "people": [{"id": PERSON, "name": "Alice", "password": password}],
                "poll_interval": 0,
                "db": str(world.directory / "as.db"),
                "allow_loopback_http": True,
                **(steps or {}),
            }
        )
        access.mount(_printing(create_access_server(as_config), printer))
        resource_config = {
            "identifier": resource.url,
            "access_server": access.url,
            "key_file": str(world.directory / "resource-keys.json"),
            "name": "Demo data API",
            "allow_loopback_http": True,
        }
        resource.mount(create_resource_server(ResourceServerConfig.load(resource_config)))
        stack.enter_context(access)
        stack.enter_context(resource)
        if intermediary:
            world.intermediary = _intermediary(stack, world)
        world.agent_provider = _agents(stack, world)
        yield world


def _intermediary(stack: contextlib.ExitStack, world: FederatedWorld) -> str:
    """A resource whose ``/chained`` calls the data resource, extending the caller's grant."""

    def build(url: str) -> Any:
        port = url.rsplit(":", 1)[1]
        config = {
            "identifier": url,
            "trusted_issuers": world.person_servers,
            "downstream_url": f"{world.resource}/data",
            "store": str(world.directory / f"resource-{port}.db"),
            "key_file": str(world.directory / f"resource-{port}-keys.json"),
            "name": "Demo intermediary",
            "allow_loopback_http": True,
        }
        return create_resource_server(ResourceServerConfig.load(config), on_downstream=shown)

    def shown(response: httpx.Response) -> None:
        world.printer.note("the intermediary calls downstream, as its own agent:")
        world.printer.exchange(response)
        if b'"upstream_token"' in response.request.content:
            world.printer.note("(the body carries the agent's token as upstream_token)")

    return stack.enter_context(RunningServer.with_own_url(build)).url


def _agents(stack: contextlib.ExitStack, world: FederatedWorld) -> str:
    """An agent provider with one agent per person server, and their agent tokens."""
    enrollment = {ps: generate_key() for ps in world.person_servers}
    agents: dict[str, Any] = {
        f"assistant{index}": {"enrollment_jkt": thumbprint(key), "ps": ps}
        for index, (ps, key) in enumerate(enrollment.items())
    }
    provider = stack.enter_context(
        RunningServer.with_own_url(
            lambda url: create_agent_provider(
                AgentProviderConfig.load(
                    {"identifier": url, "agents": agents, "allow_loopback_http": True}
                )
            )
        )
    )
    with httpx.Client() as client:
        for ps, key in enrollment.items():
            instance = generate_key()
            token = request_agent_token(
                provider.url, key, instance, client, allow_loopback_http=True
            )
            world.agents[ps] = AgentSigner(instance, token)
    return provider.url
