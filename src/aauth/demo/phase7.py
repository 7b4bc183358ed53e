"""Phase 7: PS–AS federation. The resource chose an access server, so its resource token is
addressed to that AS. The agent still asks only its person server; the PS asks its person,
then calls the AS's token endpoint signed as itself. The AS asks for payment (402, settled on
a simulated payment page), a person's approval on its own page, an answer to a question and
identity claims; the PS passes each step down to the agent on its own pending URL, supplies
the claims itself, verifies the AS's auth token and hands it to the agent.

Then call chaining through the access server (AS-08): an intermediary resource calls the
data resource as its own agent; it extends the agent's grant at the PS, which checks and
forwards the ``upstream_token`` to the AS; the AS's token names the agent in ``act``. This part
runs in a second world whose PS pre-approves and whose AS asks for nothing more.
"""

from __future__ import annotations

import httpx

from ..agent.auth import AgentAuth
from ..agent.poller import Clarification, DeferredCallbacks
from .consent import PERSON, signed_client
from .federation import FederatedWorld, federated_world
from .person import PersonAtHand
from .phase1 import expect
from .printer import Printer

STEPS = {
    "payment": "0.10 USD",
    "interaction": True,
    "clarification": "Which report will the agent write with this data?",
    "required_claims": ["sub", "name"],
}


def federated_client(
    world: FederatedWorld, ps: str, callbacks: DeferredCallbacks | None
) -> tuple[httpx.Client, AgentAuth]:
    """The agent of ``ps``, printing its exchanges with the resource and its PS."""
    return signed_client(world.agents[ps], world.printer, callbacks)


def run(printer: Printer, manual: bool = False) -> None:
    printer.title("Phase 7 — PS–AS federation (402 payment, AS interaction, clarification, claims)")
    with federated_world(printer, steps=STEPS) as world:
        person = PersonAtHand(
            printer,
            PERSON,
            world.password,
            lambda someone, prompt: someone.decide(prompt),
            task="approve (or pay)",
            did="approved (or paid)",
            manual=manual,
        )

        def on_clarification(question: Clarification) -> str:
            printer.note(f"the access server asks (through the PS): {question.question}")
            return "The Q3 summary for Alice's quarterly review."

        client, auth = federated_client(
            world,
            world.trusted_ps,
            DeferredCallbacks(
                on_interaction=person.on_interaction, on_clarification=on_clarification
            ),
        )
        with client:
            response = client.get(f"{world.resource}/data")
        person.check()
        expect(response.status_code == 200, f"GET /data ended with {response.status_code}")
        token = auth.cache.get(world.resource)
        assert token is not None
        printer.token("auth token (issued by the access server)", token)
        printer.note(f"the resource answered {response.json()}")
    chaining(printer)


def chaining(printer: Printer) -> None:
    """Call chaining through the access server: the intermediary's downstream exchange is
    printed (``PS → AS`` lines included), then what the data resource saw."""
    printer.title("Phase 7 — call chaining through the access server (upstream_token, AS-08)")
    with federated_world(printer, auto_approve=True, intermediary=True) as world:
        client, auth = federated_client(world, world.trusted_ps, None)
        with client:
            response = client.get(f"{world.intermediary}/chained")
        expect(response.status_code == 200, f"GET /chained ended with {response.status_code}")
        answer = response.json()
        expect(answer["act"] == [auth.agent_id], f"act is {answer['act']}, not the agent")
        printer.note(
            f"the data resource saw agent {answer['agent']} (the intermediary) acting for "
            f"{answer['act']} with scope {answer['scope']}"
        )
