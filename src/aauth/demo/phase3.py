"""Phase 3: autonomous authorization. The resource answers an agent token with a resource
token; the agent's person server, whose policy already allows this, turns it into an auth
token at once; the agent retries with it and gets the data. No person is involved.
"""

from __future__ import annotations

import httpx

from ..agent.auth import AgentAuth
from .consent import agent_client, person_server_factory
from .phase1 import expect
from .printer import Printer
from .world import running_world


def run(printer: Printer, manual: bool = False) -> None:
    printer.title("Phase 3 — autonomous authorization (resource token → auth token → retry)")
    factory = person_server_factory(auto_approve_scopes=["data.read"])
    with running_world(printer, person_server=factory) as world:
        printer.note(f"the person server at {world.person_server} pre-approves data.read")
        client, auth = agent_client(world)
        with client:
            response = client.get(f"{world.resource}/data")
        show_grant(printer, auth, world.resource, response)


def show_grant(printer: Printer, auth: AgentAuth, resource: str, response: httpx.Response) -> None:
    """Check the agent got the data and holds an auth token; print both."""
    expect(response.status_code == 200, f"GET /data ended with {response.status_code}")
    token = auth.cache.get(resource)
    expect(token is not None, "the agent holds no auth token for the resource")
    assert token is not None
    printer.token("auth token", token)
    printer.note(f"the resource answered {response.json()}")
