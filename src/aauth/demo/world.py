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
    """URLs of the running participants and the agent's credentials.

    ``intermediaries`` are resources that call onward (call chaining): the first is the one
    the agent calls, each forwards ``/chained`` to the next, the last to ``resource``'s
    ``/data``; they keep their state and keys in ``directory``. ``apps`` and ``configs``
    hold each resource's ASGI app and configuration by URL, ``servers`` every participant's
    running server (to stop one).
    """

    directory: Path
    printer: Printer
    resource: str = ""
    agent_provider: str = ""
    person_server: str = ""
    intermediaries: list[str] = field(default_factory=list)
    apps: dict[str, Any] = field(default_factory=dict)
    configs: dict[str, ResourceServerConfig] = field(default_factory=dict)
    servers: dict[str, RunningServer] = field(default_factory=dict)
    agent: AgentSigner | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def signer(self) -> AgentSigner:
        assert self.agent is not None, "this demo world has no agent provider"
        return self.agent

    def client(self, **options: Any) -> httpx.Client:
        """An HTTP client that prints every exchange."""
        return httpx.Client(event_hooks={"response": [self.printer.exchange]}, **options)


def _start(stack: contextlib.ExitStack, world: World, factory: Callable[[str], Any]) -> str:
    server = stack.enter_context(RunningServer.with_own_url(factory))
    world.servers[server.url] = server
    return server.url


@contextlib.contextmanager
def running_world(
    printer: Printer,
    *,
    agent_provider: bool = True,
    person_server: Callable[[World, str], Any] | None = None,
    show_enrollment: bool = False,
    chained: int = 0,
    show_downstream: bool = False,
) -> Iterator[World]:
    """Start the resource (and optionally the agent provider, a person server, and
    ``chained`` intermediaries in front of the resource; ``show_downstream`` prints what they
    exchange downstream too).

    ``person_server(world, url)`` builds the PS app for its URL, so each demo chooses its
    consent policy.
    """
    with tempfile.TemporaryDirectory(prefix="aauth-demo-") as tmp, contextlib.ExitStack() as stack:
        world = World(Path(tmp), printer)
        if person_server is not None:
            world.person_server = _start(stack, world, lambda url: person_server(world, url))
        enrollment_key = generate_key()
        world.extras["enrollment_key"] = enrollment_key  # more instances may enroll (phase 6)
        if agent_provider:
            agents = {AGENT_LOCAL: {"enrollment_jkt": thumbprint(enrollment_key)}}
            if world.person_server:
                agents[AGENT_LOCAL]["ps"] = world.person_server
            world.agent_provider = _start(
                stack,
                world,
                lambda url: create_agent_provider(
                    AgentProviderConfig.load(
                        {
                            "identifier": url,
                            "agents": agents,
                            "callback_endpoint": f"{url}/callback",
                            "allow_loopback_http": True,
                        }
                    )
                ),
            )
        trusted = [world.person_server] if world.person_server else []

        def resource(name: str, downstream: str | None) -> Callable[[str], Any]:
            def build(url: str) -> Any:
                config: dict[str, Any] = {
                    "identifier": url,
                    "trusted_issuers": trusted,
                    "name": name,
                    "allow_loopback_http": True,
                }
                if downstream is not None:
                    port = url.rsplit(":", 1)[1]
                    config["downstream_url"] = downstream
                    config["store"] = str(world.directory / f"resource-{port}.db")
                    config["key_file"] = str(world.directory / f"resource-{port}-keys.json")
                loaded = world.configs[url] = ResourceServerConfig.load(config)
                shown = None
                if show_downstream and downstream is not None:

                    def shown(response: httpx.Response) -> None:
                        printer.note(f"{name} calls downstream, as its own agent:")
                        printer.exchange(response)
                        if b'"upstream_token"' in response.request.content:
                            printer.note("(the body carries the agent's token as upstream_token)")

                app = world.apps[url] = create_resource_server(loaded, on_downstream=shown)
                return app

            return build

        world.resource = _start(stack, world, resource("Demo data API", None))
        downstream = f"{world.resource}/data"
        for hop in range(chained, 0, -1):
            url = _start(stack, world, resource(f"Demo intermediary {hop}", downstream))
            world.intermediaries.insert(0, url)
            downstream = f"{url}/chained"
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
