"""Phase 11: PS–AS trust. The access server keeps a list of the person servers it takes token
requests from. Two agents, each with its own person server, ask for the same resource: the
trusted PS's request is granted (both PSes pre-approve for their person, and this AS asks for
nothing more), the other PS is told plainly that this AS does not trust it (403
``insufficient_trust``), and its agent surfaces that error.
"""

from __future__ import annotations

from ..errors import AAuthError
from .federation import federated_world
from .phase1 import expect
from .phase7 import federated_client
from .printer import Printer


def run(printer: Printer, manual: bool = False) -> None:
    printer.title("Phase 11 — PS–AS trust (a trusted and an untrusted person server)")
    with federated_world(printer, person_servers=2, trusted=1, auto_approve=True) as world:
        trusted, untrusted = world.person_servers
        printer.note(f"the access server trusts {trusted} only; {untrusted} is not on its list")
        client, auth = federated_client(world, trusted, None)
        with client:
            response = client.get(f"{world.resource}/data")
        expect(response.status_code == 200, f"trusted PS: GET /data ended {response.status_code}")
        token = auth.cache.get(world.resource)
        assert token is not None
        printer.token("auth token via the trusted PS", token)
        client, auth = federated_client(world, untrusted, None)
        refused: AAuthError | None = None
        with client:
            try:
                client.get(f"{world.resource}/data")
            except AAuthError as exc:
                refused = exc
        expect(refused is not None, "the untrusted PS obtained a token")
        assert refused is not None
        expect(refused.code == "insufficient_trust", f"untrusted PS: {refused.code}")
        printer.note(f"the untrusted PS's agent was refused: {refused.code}: {refused.description}")
