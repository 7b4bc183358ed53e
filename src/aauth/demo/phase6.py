"""Phase 6: agent delegation. Two running instances of one enrolled agent (delegates) each
get an agent token for their own fresh key from the agent provider, under their own
identifier; the auth tokens they obtain name the instance. One instance changes its key and
keeps its identifier. It then obtains a token for a sub-agent (``parent_agent``,
``local+discriminator``), and asks the person server on the sub-agent's behalf
(``subagent_token``); the auth token is the sub-agent's, with the parent in ``act``. The
refusals: a sub-agent of a sub-agent, and a delegate whose key is not its token's.
"""

from __future__ import annotations

from typing import Any

import httpx
from aauth_signing import SigningKey

from ..agent.auth import AgentAuth
from ..agent.enrollment import AgentTokenRefused, request_agent_token, request_subagent_token
from ..agent.poller import PollSettings
from ..agent.signer import AgentSigner
from ..keys import generate_key
from ..tokens import decode_unverified
from ..tokens.verifier import AUTH_TOKEN
from .consent import person_server_factory
from .phase1 import expect
from .printer import Printer
from .world import World, running_world

_LOOPBACK = {"allow_loopback_http": True}


def _instance(world: World, name: str, key: SigningKey) -> AgentSigner:
    enrollment_key = world.extras["enrollment_key"]
    with world.client() as client:
        token = request_agent_token(
            world.agent_provider, enrollment_key, key, client, instance=name, **_LOOPBACK
        )
    world.printer.token(f"agent token of instance {name!r}", token)
    return AgentSigner(key, token)


def _fetch(world: World, signer: AgentSigner, parent: AgentSigner | None = None) -> str:
    """GET /data as ``signer``; returns the ``agent`` of the auth token it used."""
    hooks: dict[str, list[Any]] = {"response": [world.printer.exchange]}
    auth = AgentAuth(
        signer,
        parent=parent,
        poll=PollSettings(allow_loopback_http=True, deadline=60),
        allow_loopback_http=True,
        event_hooks=hooks,
    )
    with httpx.Client(auth=auth, event_hooks=hooks, timeout=60) as client:
        response = client.get(f"{world.resource}/data")
    expect(response.status_code == 200, f"GET /data ended with {response.status_code}")
    token = auth.cache.get(world.resource)
    assert token is not None
    claims = decode_unverified(AUTH_TOKEN, token, allow_loopback_http=True)
    act = f", act.agent {claims.act.agent}" if claims.act is not None else ""
    world.printer.note(f"auth token for agent {claims.agent}{act}")
    return claims.agent


def run(printer: Printer, manual: bool = False) -> None:
    printer.title("Phase 6 — agent delegation (delegates, key rotation, sub-agents)")
    factory = person_server_factory(auto_approve_scopes=["data.read"])
    with running_world(printer, person_server=factory) as world:
        laptop = _instance(world, "laptop", generate_key())
        phone = _instance(world, "phone", generate_key())
        laptop_id = _fetch(world, laptop)
        phone_id = _fetch(world, phone)
        expect(laptop_id != phone_id, "two instances got the same identifier")

        printer.note("the laptop instance changes its key and enrolls again")
        rotated_key = generate_key()
        rotated = _instance(world, "laptop", rotated_key)
        expect(_fetch(world, rotated) == laptop_id, "the identifier changed with the key")

        printer.note("the laptop instance obtains a token for its sub-agent 'search1'")
        search_key = generate_key()
        with world.client() as client:
            search_token = request_subagent_token(
                world.agent_provider, rotated_key, search_key, "search1", client, **_LOOPBACK
            )
            printer.token("sub-agent token", search_token)
            search = AgentSigner(search_key, search_token)
            search_id = laptop_id.replace("@", "+search1@")
            expect(_fetch(world, search, parent=rotated) == search_id, "not the sub-agent's token")

            printer.note("the sub-agent asks for a sub-agent of its own: refused (AP-06)")
            try:
                request_subagent_token(
                    world.agent_provider, search_key, generate_key(), "deeper", client, **_LOOPBACK
                )
            except AgentTokenRefused as refused:
                printer.note(f"the agent provider answered {refused.upstream_status}")
            else:
                raise AssertionError("the agent provider issued a sub-agent of a sub-agent")

            printer.note("the phone's key signs with the laptop's agent token: refused")
            mismatched = AgentSigner(phone.key, rotated.agent_token)
            url = f"{world.resource}/data"
            response = client.get(url, headers=mismatched.sign("GET", url, {}))
            expect(response.status_code == 401, f"a mismatched key got {response.status_code}")
