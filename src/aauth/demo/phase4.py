"""Phase 4: user delegation. The person server needs its person's consent: it answers 202
with an interaction URL and code; the agent shows them and long-polls the pending URL; the
person signs in and approves on the consent page; the waiting agent gets the auth token the
moment that happens, and retries.

Automated, a simulated person approves through the real pages over HTTP; with ``--manual``
the URL and code are printed for a person to complete in a browser.
"""

from __future__ import annotations

from ..agent.poller import DeferredCallbacks
from .consent import agent_client, approving_person, person_server_factory
from .phase1 import expect
from .printer import Printer
from .world import running_world


def run(printer: Printer, manual: bool = False) -> None:
    printer.title("Phase 4 — user delegation (202, interaction code, long poll, consent)")
    with running_world(printer, person_server=person_server_factory()) as world:
        person = approving_person(printer, world, manual)
        client, auth = agent_client(
            world,
            DeferredCallbacks(
                on_interaction=person.on_interaction,
                on_status=lambda status: printer.note(f"pending request status: {status}"),
            ),
        )
        with client:
            response = client.get(f"{world.resource}/data")
        person.check()
        expect(response.status_code == 200, f"GET /data ended with {response.status_code}")
        expect(manual or bool(person.outcomes), "nobody approved, yet the agent got a token")
        token = auth.cache.get(world.resource)
        assert token is not None
        printer.token("auth token", token)
        printer.note(f"the resource answered {response.json()}")
