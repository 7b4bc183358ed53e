"""The participants a demo needs, started as real servers on 127.0.0.1 ephemeral ports.

Every participant runs its real ASGI app under uvicorn; identifiers are the loopback URLs
(``http://127.0.0.1:PORT``), which the library admits only because the demo turns on
``allow_loopback_http`` — a development switch, never a default.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ..agent.enrollment import request_agent_token
from ..agent.signer import AgentSigner
from ..keys import generate_key, thumbprint
from ..server.agent_provider import AgentProviderConfig, create_agent_provider
from ..server.resource_server import ResourceServerConfig, create_resource_server
from ..server.running import RunningServer
from .printer import Printer

__all__ = ["AGENT_LOCAL", "World", "running_world"]

AGENT_LOCAL = "assistant"


@dataclass
class World:
    """URLs of the running participants and the agent's credentials."""

    directory: Path
    printer: Printer
    resource: str = ""
    agent_provider: str = ""
    person_server: str = ""
    agent: AgentSigner | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def signer(self) -> AgentSigner:
        assert self.agent is not None, "this demo world has no agent provider"
        return self.agent

    def client(self, **options: Any) -> httpx.Client:
        """An HTTP client that prints every exchange."""
        return httpx.Client(event_hooks={"response": [self.printer.exchange]}, **options)


def _start(stack: contextlib.ExitStack, factory: Callable[[str], Any]) -> str:
    server = stack.enter_context(RunningServer.with_own_url(factory))
    return server.url


@contextlib.contextmanager
def running_world(
    printer: Printer,
    *,
    agent_provider: bool = True,
    person_server: Callable[[World, str], Any] | None = None,
    show_enrollment: bool = False,
) -> Iterator[World]:
    """Start the resource (and optionally the agent provider and a person server).

    ``person_server(world, url)`` builds the PS app for its URL, so each demo chooses its
    consent policy.
    """
    with tempfile.TemporaryDirectory(prefix="aauth-demo-") as tmp, contextlib.ExitStack() as stack:
        world = World(Path(tmp), printer)
        if person_server is not None:
            world.person_server = _start(stack, lambda url: person_server(world, url))
        enrollment_key = generate_key()
        world.extras["enrollment_key"] = enrollment_key  # more instances may enroll (phase 6)
        if agent_provider:
            agents = {AGENT_LOCAL: {"enrollment_jkt": thumbprint(enrollment_key)}}
            if world.person_server:
                agents[AGENT_LOCAL]["ps"] = world.person_server
            world.agent_provider = _start(
                stack,
                lambda url: create_agent_provider(
                    AgentProviderConfig.load(
                        {"identifier": url, "agents": agents, "allow_loopback_http": True}
                    )
                ),
            )
        trusted = [world.person_server] if world.person_server else []
        world.resource = _start(
            stack,
            lambda url: create_resource_server(
                ResourceServerConfig.load(
                    {
                        "identifier": url,
                        "trusted_issuers": trusted,
                        "name": "Demo data API",
                        "allow_loopback_http": True,
                    }
                )
            ),
        )
        if agent_provider:
            instance_key = generate_key()
            with world.client() if show_enrollment else httpx.Client() as client:
                token = request_agent_token(
                    world.agent_provider,
                    enrollment_key,
                    instance_key,
                    client,
                    allow_loopback_http=True,
                )
            world.agent = AgentSigner(instance_key, token)
        yield world
