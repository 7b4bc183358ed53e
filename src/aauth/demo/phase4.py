"""Phase 4: user delegation. The person server needs its person's consent: it answers 202
with an interaction URL and code; the agent shows them and long-polls the pending URL; the
person signs in and approves on the consent page; the waiting agent gets the auth token the
moment that happens, and retries.

Automated, a simulated person approves through the real pages over HTTP; with ``--manual``
the URL and code are printed for a person to complete in a browser.
"""

from __future__ import annotations

import sys
import threading

import httpx

from ..agent.poller import DeferredCallbacks, InteractionPrompt
from .consent import PERSON, agent_client, person_server_factory
from .person import Person
from .phase1 import expect
from .printer import Printer
from .world import running_world


def run(printer: Printer, manual: bool = False) -> None:
    printer.title("Phase 4 — user delegation (202, interaction code, long poll, consent)")
    with running_world(printer, person_server=person_server_factory()) as world:
        password = str(world.extras["password"])
        decisions: list[int] = []
        failures: list[BaseException] = []

        def approve(prompt: InteractionPrompt) -> None:
            try:
                with httpx.Client() as browser:
                    outcome = Person(PERSON, password, browser).decide(prompt)
                decisions.append(outcome.status_code)
                printer.note(f"{PERSON} approved on the consent page (HTTP {outcome.status_code})")
            except BaseException as exc:  # reported by the main thread
                failures.append(exc)

        def on_interaction(prompt: InteractionPrompt) -> None:
            printer.note(f"the agent shows its person: open {prompt.url}  code {prompt.code}")
            if manual:
                print(
                    f"\n  Open {prompt.link} in a browser, sign in as '{PERSON}' with password "
                    f"'{password}', check the code {prompt.code} and approve.\n",
                    file=sys.stderr,
                )
                return
            threading.Thread(target=approve, args=(prompt,), daemon=True).start()

        client, auth = agent_client(
            world,
            DeferredCallbacks(
                on_interaction=on_interaction,
                on_status=lambda status: printer.note(f"pending request status: {status}"),
            ),
        )
        with client:
            response = client.get(f"{world.resource}/data")
        if failures:
            raise failures[0]
        expect(response.status_code == 200, f"GET /data ended with {response.status_code}")
        expect(manual or bool(decisions), "nobody approved, yet the agent got a token")
        token = auth.cache.get(world.resource)
        assert token is not None
        printer.token("auth token", token)
        printer.note(f"the resource answered {response.json()}")
