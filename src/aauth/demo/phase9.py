"""Phase 9: call chaining and interaction chaining. The agent calls an intermediary resource
that needs the data resource downstream to answer. The intermediary acts as an agent of its
own (it vouches for itself in ``aauth-agent.json``): it hands the agent's auth token to the
person server as ``upstream_token`` and gets a token whose ``act`` names the agent (phase 7,
§D.4). When the person server must ask its person first, the intermediary answers the agent
with its own 202, pending URL, interaction URL and code; the person enters there, is sent on
to the person server and back, and the agent's poll returns the downstream result.

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
    printer.title("Phase 9 — call chaining and interaction chaining (an intermediary resource)")
    factory = person_server_factory(auto_approve_scopes=["data.read"])
    with running_world(printer, person_server=factory, chained=1, show_downstream=True) as world:
        [intermediary] = world.intermediaries
        person = approving_person(printer, world, manual)
        client, auth = agent_client(world, DeferredCallbacks(on_interaction=person.on_interaction))
        with client:
            printer.note(
                f"call chaining: GET {intermediary}/chained — the person server pre-approves "
                "data.read, so nobody is asked"
            )
            read = client.get(f"{intermediary}/chained")
            expect(read.status_code == 200, f"GET /chained ended with {read.status_code}")
            answer = read.json()
            printer.note(
                f"the data resource saw agent {answer['agent']} acting for {answer['act']}"
            )
            expect(answer["act"] == [auth.agent_id], "the downstream act does not name the agent")
            printer.note(
                "interaction chaining: POST /chained needs data.write, which the person must "
                "approve — first for the agent, then for the intermediary's downstream call"
            )
            wrote = client.post(f"{intermediary}/chained", json={"note": "chained"})
        person.check()
        expect(wrote.status_code == 200, f"POST /chained ended with {wrote.status_code}")
        printer.note(f"the intermediary delivered at its pending URL: {wrote.json()}")
        expect(wrote.json().get("stored") == {"note": "chained"}, "the note was not stored")
