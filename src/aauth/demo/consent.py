"""What phases 3 and 4 share: a person server with one person, and an agent that uses the
AAuth ``httpx.Auth`` to call the resource's protected data."""

from __future__ import annotations

import secrets
import sys
import threading
from collections.abc import Sequence
from typing import Any

import httpx

from ..agent.auth import AgentAuth
from ..agent.poller import DeferredCallbacks, InteractionPrompt, PollSettings
from ..person.config import PersonServerConfig
from ..server.person_server import create_person_server
from .person import Person
from .world import World

__all__ = ["PERSON", "Approver", "agent_client", "person_server_factory"]

PERSON = "alice"


def person_server_factory(auto_approve_scopes: Sequence[str] = (), **settings: Any) -> Any:
    """A PS factory for :func:`running_world`: one person, with a fresh password kept on the
    world, and optionally an auto-approval rule (phase 3); ``settings`` are further
    configuration members (e.g. ``max_chain_depth``)."""

    def build(world: World, url: str) -> Any:
        password = secrets.token_urlsafe(12)
        world.extras["password"] = password
        rules = (
            [{"agent": "*", "resource": "*", "scopes": list(auto_approve_scopes)}]
            if auto_approve_scopes
            else []
        )
        config = PersonServerConfig.from_json(
            {
                "identifier": url,
                "name": "Demo person server",
                "people": [{"id": PERSON, "name": "Alice", "password": password}],
                "auto_approve": rules,
                "poll_interval": 0,  # Retry-After: 0 — the agent long-polls right away
                "allow_loopback_http": True,
                **settings,
            }
        )
        return create_person_server(config)

    return build


def agent_client(
    world: World, callbacks: DeferredCallbacks | None = None
) -> tuple[httpx.Client, AgentAuth]:
    """The agent's HTTP client (every request signed, challenges answered) and its auth."""
    hooks: dict[str, list[Any]] = {"response": [world.printer.exchange]}
    auth = AgentAuth(
        world.signer,
        callbacks=callbacks,
        justification="Summarise this quarter's data for Alice's report.",
        poll=PollSettings(allow_loopback_http=True, deadline=600),
        allow_loopback_http=True,
        event_hooks=hooks,
    )
    return httpx.Client(auth=auth, event_hooks=hooks, timeout=60), auth


class Approver:
    """The agent's ``on_interaction``: shows the prompt, then the demo's person approves it
    through the real pages on their own thread; with ``manual``, a person is told what to do
    in a browser instead."""

    def __init__(self, world: World, manual: bool) -> None:
        self.printer = world.printer
        self.password = str(world.extras["password"])
        self.manual = manual
        self.decisions: list[int] = []
        self.failures: list[BaseException] = []

    def __call__(self, prompt: InteractionPrompt) -> None:
        self.printer.note(f"the agent shows its person: open {prompt.url}  code {prompt.code}")
        if self.manual:
            print(
                f"\n  Open {prompt.link} in a browser, sign in as '{PERSON}' with password "
                f"'{self.password}' where asked, check the code {prompt.code} and approve.\n",
                file=sys.stderr,
            )
            return
        threading.Thread(target=self._approve, args=(prompt,), daemon=True).start()

    def _approve(self, prompt: InteractionPrompt) -> None:
        try:
            with httpx.Client() as browser:
                outcome = Person(PERSON, self.password, browser).decide(prompt)
            self.decisions.append(outcome.status_code)
            self.printer.note(f"{PERSON} approved (HTTP {outcome.status_code} at {outcome.url})")
        except BaseException as exc:  # reported by check(), on the demo's thread
            self.failures.append(exc)

    def check(self) -> None:
        """Re-raise the first failure of a simulated approval."""
        if self.failures:
            raise self.failures[0]
