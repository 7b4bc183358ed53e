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

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from ..agent.poller import DeferredCallbacks, InteractionPrompt
from ..missions import MissionProposal, Tool
from .consent import PERSON, agent_client, person_server_factory
from .person import Person
from .phase1 import expect
from .printer import Printer
from .world import World, running_world

__all__ = ["PersonAtHand", "proposal_for", "run"]


@dataclass
class PersonAtHand:
    """The world's person: approves every prompt the agent shows, on their own thread (or,
    with ``manual``, prints what a person must do in a browser)."""

    printer: Printer
    world: World
    manual: bool = False
    decisions: list[int] = field(default_factory=list)
    failures: list[BaseException] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)

    @property
    def password(self) -> str:
        return str(self.world.extras["password"])

    def browser(self) -> Person:
        return Person(PERSON, self.password, httpx.Client(timeout=30))

    def callbacks(self) -> DeferredCallbacks:
        return DeferredCallbacks(
            on_interaction=self.prompted,
            on_status=lambda status: self.printer.note(f"pending request status: {status}"),
        )

    def prompted(self, prompt: InteractionPrompt) -> None:
        self.printer.note(f"the agent shows its person: open {prompt.url}  code {prompt.code}")
        if self.manual:
            print(
                f"\n  Open {prompt.link} in a browser, sign in as '{PERSON}' with password "
                f"'{self.password}', check the code {prompt.code} and approve.\n",
                file=sys.stderr,
            )
            return
        self.in_background(lambda person: person.decide(prompt))

    def in_background(self, act: Callable[[Person], httpx.Response]) -> threading.Thread:
        """Run ``act`` as the person on their own thread (the agent is long-polling)."""

        def run() -> None:
            try:
                person = self.browser()
                with person.client:
                    outcome = act(person)
                self.decisions.append(outcome.status_code)
                self.printer.note(f"{PERSON} decided on the page (HTTP {outcome.status_code})")
            except BaseException as exc:  # reported by the main thread
                self.failures.append(exc)

        thread = threading.Thread(target=run, daemon=True)
        self.threads.append(thread)
        thread.start()
        return thread

    def check(self) -> None:
        """Wait for what the person is doing; re-raise the first failure."""
        for thread in self.threads:
            thread.join(timeout=30)
        if self.failures:
            raise self.failures[0]


def proposal_for(world: World, quarter: str = "Q3") -> MissionProposal:
    return MissionProposal(
        f"# {quarter} summary\n\nRead this quarter's data and summarise it for Alice's report.",
        tools=(Tool("Summarise", "Write a summary"),),
        resources={world.resource: ("data.read",)},
    )


def run(printer: Printer, manual: bool = False) -> None:
    printer.title("Phase 5 — missions (proposal, approval, AAuth-Mission, mission claims)")
    with running_world(printer, person_server=person_server_factory()) as world:
        person = PersonAtHand(printer, world, manual)
        client, auth = agent_client(world, person.callbacks())
        with client:
            printer.note("the agent proposes a mission: read data.read at the resource")
            mission = auth.propose_mission(proposal_for(world))
            person.check()
            printer.note(f"approved; the agent keeps the blob as sent: {mission.blob.decode()}")
            printer.note(f"AAuth-Mission: approver={mission.ref.approver} s256={mission.ref.s256}")
            printer.note("under the mission, data.read is granted without asking the person")
            asked = len(person.decisions)
            response = client.get(f"{world.resource}/data")
            expect(response.status_code == 200, f"GET /data ended with {response.status_code}")
            expect(len(person.decisions) == asked, "the person was asked again for data.read")
            token = auth.cache.get(world.resource)
            assert token is not None
            printer.token("auth token (note its mission claim)", token)
            printer.note("data.write is beyond the mission: the person is asked")
            written = client.post(f"{world.resource}/data", json={"summary": "Q3 up 4%"})
            person.check()
            expect(written.status_code == 201, f"POST /data ended with {written.status_code}")
            expect(manual or len(person.decisions) == asked + 1, "nobody approved data.write")
