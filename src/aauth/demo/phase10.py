"""Phase 10: the resource's authorization endpoint. The resource publishes
``authorization_endpoint`` in ``aauth-resource.json``; an agent that knows the scope it needs
there asks for a resource token up front (``POST /authorize``, §F.2) and goes to its person
server with it, so its first call to the API already carries an auth token: no 401.
"""

from __future__ import annotations

from .consent import agent_client, person_server_factory
from .phase3 import show_grant
from .printer import Printer
from .world import running_world


def run(printer: Printer, manual: bool = False) -> None:
    printer.title("Phase 10 — the resource's authorization endpoint (no 401 round trip)")
    factory = person_server_factory(auto_approve_scopes=["data.read"])
    with running_world(printer, person_server=factory) as world:
        client, auth = agent_client(world)
        auth.scopes[world.resource] = "data.read"
        printer.note(f"the agent knows it wants data.read at {world.resource}")
        with client:
            response = client.get(f"{world.resource}/data")
        show_grant(printer, auth, world.resource, response)
