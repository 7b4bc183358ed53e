"""Shared pieces of the access-server tests: the four-party demo world, and the agent and
person that act in it."""

from __future__ import annotations

import io
import threading

import httpx

from aauth.agent.auth import AgentAuth
from aauth.agent.poller import Clarification, DeferredCallbacks, InteractionPrompt
from aauth.demo.consent import PERSON
from aauth.demo.federation import FederatedWorld
from aauth.demo.person import Person
from aauth.demo.phase7 import federated_client
from aauth.demo.printer import Printer


def quiet() -> Printer:
    return Printer(io.StringIO())


class People:
    """Alice, completing every page the agent shows her (at the PS and the AS) on her own
    thread, with ``decision`` (``approve`` or ``deny``) on the AS's interaction page."""

    def __init__(self, world: FederatedWorld, as_decision: str = "approve") -> None:
        self.world = world
        self.as_decision = as_decision
        self.prompts: list[InteractionPrompt] = []
        self.pages: list[httpx.Response] = []
        self.visited: list[str] = []
        """Every URL the person's browser asked for, in order."""
        self.failures: list[BaseException] = []
        self._threads: list[threading.Thread] = []

    def callbacks(self, answer: str | None = "For the Q3 report.") -> DeferredCallbacks:
        def clarify(question: Clarification) -> str | None:
            return answer

        return DeferredCallbacks(on_interaction=self.prompted, on_clarification=clarify)

    def prompted(self, prompt: InteractionPrompt) -> None:
        self.prompts.append(prompt)
        thread = threading.Thread(target=self._act, args=(prompt,), daemon=True)
        self._threads.append(thread)
        thread.start()

    def _act(self, prompt: InteractionPrompt) -> None:
        """Approve at the PS; on the AS's pages the PS sends the person on to, decide
        ``as_decision``."""

        def seen(request: httpx.Request) -> None:
            self.visited.append(str(request.url))

        try:
            with httpx.Client(timeout=30, event_hooks={"request": [seen]}) as browser:
                person = Person(PERSON, self.world.password, browser)
                self.pages.append(person.decide(prompt, "approve", onward=self.as_decision))
        except BaseException as exc:
            self.failures.append(exc)

    def done(self) -> None:
        for thread in self._threads:
            thread.join(timeout=30)
        if self.failures:
            raise self.failures[0]


def fetch(
    world: FederatedWorld, ps: str, callbacks: DeferredCallbacks | None
) -> tuple[httpx.Response, AgentAuth]:
    client, auth = federated_client(world, ps, callbacks)
    with client:
        return client.get(f"{world.resource}/data"), auth
