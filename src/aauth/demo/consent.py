"""What phases 3 and 4 share: a person server with one person, and an agent that uses the
AAuth ``httpx.Auth`` to call the resource's protected data."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

import httpx

from ..agent.auth import AgentAuth
from ..agent.poller import DeferredCallbacks, PollSettings
from ..agent.signer import AgentSigner
from ..person.config import PersonServerConfig
from ..server.person_server import create_person_server
from .person import PersonAtHand
from .printer import Printer
from .world import World

__all__ = [
    "PERSON",
    "agent_client",
    "approving_person",
    "person_server_factory",
    "signed_client",
]

PERSON = "alice"


def person_server_factory(
    auto_approve_scopes: Sequence[str] = (),
    auto_approve_missions: Sequence[str] = (),
    **settings: Any,
) -> Any:
    """A PS factory for :func:`running_world`: one person, with a fresh password kept on the
    world, and optionally auto-approval rules for tokens (phase 3) and for missions that ask
    for no more than ``auto_approve_missions`` at any resource (phase 5); ``settings`` are
    further configuration members (e.g. ``clarification_rounds``, ``max_chain_depth``)."""

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
                "auto_approve_missions": [
                    {"agent": "*", "resource": "*", "scopes": list(auto_approve_missions)}
                ]
                if auto_approve_missions
                else [],
                "poll_interval": 0,  # Retry-After: 0 — the agent long-polls right away
                "allow_loopback_http": True,
                **settings,
            }
        )
        return create_person_server(config)

    return build


def signed_client(
    signer: AgentSigner, printer: Printer, callbacks: DeferredCallbacks | None = None
) -> tuple[httpx.Client, AgentAuth]:
    """An HTTP client for the agent ``signer`` (every request signed, challenges answered,
    every exchange printed) and its auth."""
    hooks: dict[str, list[Any]] = {"response": [printer.exchange]}
    auth = AgentAuth(
        signer,
        callbacks=callbacks,
        justification="Summarise this quarter's data for Alice's report.",
        poll=PollSettings(allow_loopback_http=True, deadline=600),
        allow_loopback_http=True,
        event_hooks=hooks,
    )
    return httpx.Client(auth=auth, event_hooks=hooks, timeout=60), auth


def agent_client(
    world: World, callbacks: DeferredCallbacks | None = None
) -> tuple[httpx.Client, AgentAuth]:
    """The agent's HTTP client (every request signed, challenges answered) and its auth."""
    return signed_client(world.signer, world.printer, callbacks)


def approving_person(printer: Printer, world: World, manual: bool) -> PersonAtHand:
    """The world's person, approving whatever the agent shows them (proposals, consents)."""
    return PersonAtHand(
        printer,
        PERSON,
        str(world.extras["password"]),
        lambda someone, prompt: someone.decide(prompt),
        task="approve",
        did="approved",
        manual=manual,
    )
