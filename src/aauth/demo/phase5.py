"""Phase 5: missions. The agent proposes a mission to its person server (description, the
resource and scopes it expects to need); the person reviews it on the mission page and
approves; the approval is the mission blob and ``AAuth-Mission: approver=…;s256=…`` over its
exact bytes. Every request the agent then makes carries ``AAuth-Mission`` under its
signature; the resource copies it into its resource token, and the person server grants
what the mission approved without asking again, with the ``mission`` claim in the auth token.
A request beyond the mission (``data.write``) goes back to the person.

Automated, a simulated person decides through the real pages over HTTP; with ``--manual``
the URL and code are printed for a person to complete in a browser.
"""

from __future__ import annotations

from ..agent.poller import DeferredCallbacks, InteractionPrompt
from ..missions import MissionProposal, Tool
from .consent import agent_client, approving_person, person_server_factory
from .person import PersonAtHand
from .phase1 import expect
from .printer import Printer
from .world import World, running_world

__all__ = ["person_callbacks", "proposal_for", "run"]


def person_callbacks(printer: Printer, person: PersonAtHand, shown: list[str]) -> DeferredCallbacks:
    """The agent's callbacks: each prompt is recorded in ``shown``, then shown to ``person``."""

    def on_interaction(prompt: InteractionPrompt) -> None:
        shown.append(prompt.code)
        person.on_interaction(prompt)

    return DeferredCallbacks(
        on_interaction=on_interaction,
        on_status=lambda status: printer.note(f"pending request status: {status}"),
    )


def proposal_for(world: World, quarter: str = "Q3") -> MissionProposal:
    return MissionProposal(
        f"# {quarter} summary\n\nRead this quarter's data and summarise it for Alice's report.",
        tools=(Tool("Summarise", "Write a summary"),),
        resources={world.resource: ("data.read",)},
    )


def run(printer: Printer, manual: bool = False) -> None:
    printer.title("Phase 5 — missions (proposal, approval, AAuth-Mission, mission claims)")
    with running_world(printer, person_server=person_server_factory()) as world:
        person, shown = approving_person(printer, world, manual), list[str]()
        client, auth = agent_client(world, person_callbacks(printer, person, shown))
        with client:
            printer.note("the agent proposes a mission: read data.read at the resource")
            mission = auth.propose_mission(proposal_for(world))
            person.check()
            printer.note(f"approved; the agent keeps the blob as sent: {mission.blob.decode()}")
            printer.note(f"AAuth-Mission: approver={mission.ref.approver} s256={mission.ref.s256}")
            printer.note("under the mission, data.read is granted without asking the person")
            response = client.get(f"{world.resource}/data")
            expect(response.status_code == 200, f"GET /data ended with {response.status_code}")
            expect(len(shown) == 1, "the person was asked again for data.read")
            token = auth.cache.get(world.resource)
            assert token is not None
            printer.token("auth token (note its mission claim)", token)
            printer.note("data.write is beyond the mission: the person is asked")
            written = client.post(f"{world.resource}/data", json={"summary": "Q3 up 4%"})
            person.check()
            expect(written.status_code == 201, f"POST /data ended with {written.status_code}")
            expect(len(shown) == 2, "the person was not asked about data.write")
