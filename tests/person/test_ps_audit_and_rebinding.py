"""PS-32: the person's audit log (grants, denials, consents, revocations), kept in the store
and readable by that person only, as a page and as JSON at ``audit_endpoint``; PS-31: when
the person an agent acts for changes, the old binding and its consents are revoked first.

Everything goes over HTTP to the person server in-process; a restart is a new app over the
same store.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from aauth.missions import MissionProposal
from aauth.person import PersonService
from aauth.store import SQLiteStore

from .conftest import (
    AGENT,
    ALICE_PASSWORD,
    BOB_PASSWORD,
    PS,
    RESOURCE,
    World,
    auto,
    client,
    decide,
    interaction_of,
    open_consent,
    request_token,
    sign_in,
)

JSON = {"Accept": "application/json"}


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


async def log_of(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await http.get("/audit", headers=JSON)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries


def events(entries: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """``(event, how)`` oldest first."""
    return [(e["event"], e["how"]) for e in reversed(entries)]


def test_ps32_consents_grants_and_denials_are_logged_for_the_person(world: World) -> None:
    agent = world.agent()
    app = world.app()

    async def scenario() -> None:
        async with client(app) as agent_http, client(app) as alice:
            first = await request_token(agent_http, agent, world.resource_token(agent))
            await sign_in(alice, "alice", ALICE_PASSWORD)
            await decide(alice, await open_consent(alice, *interaction_of(first)))
            again = await request_token(agent_http, agent, world.resource_token(agent))
            assert again.status_code == 200  # remembered: a grant without asking
            wider = world.resource_token(agent, "docs.read docs.write")
            denied = await request_token(agent_http, agent, wider)
            await decide(alice, await open_consent(alice, *interaction_of(denied)), "deny")
            entries = await log_of(alice)
            assert events(entries) == [
                ("consent", "approved"),
                ("grant", "approved"),
                ("grant", "remembered consent"),
                ("denial", "denied"),
            ]
            newest = entries[0]
            assert (newest["agent"], newest["resource"]) == (AGENT, RESOURCE)
            assert newest["scope"] == ["docs.read", "docs.write"]
            page = await alice.get("/audit")
            assert page.status_code == 200
            assert "remembered consent" in page.text
            assert page.headers["content-security-policy"].startswith("default-src 'none'")

    run(scenario())


def test_ps32_auto_approved_grants_are_logged_for_the_bound_person(world: World) -> None:
    agent = world.agent()
    app = world.app(bindings={AGENT: "alice"}, auto_approve=(auto(),))

    async def scenario() -> None:
        async with client(app) as agent_http, client(app) as alice:
            granted = await request_token(agent_http, agent, world.resource_token(agent))
            assert granted.status_code == 200
            await sign_in(alice, "alice", ALICE_PASSWORD)
            assert events(await log_of(alice)) == [("grant", "auto-approved")]

    run(scenario())


def test_ps32_the_log_is_the_persons_own_and_needs_a_session(world: World) -> None:
    agent = world.agent()
    app = world.app(bindings={AGENT: "alice"}, auto_approve=(auto(),))

    async def scenario() -> None:
        async with client(app) as agent_http, client(app) as bob, client(app) as nobody:
            assert (await request_token(agent_http, agent, world.resource_token(agent))).is_success
            anonymous = await nobody.get("/audit", headers=JSON)
            assert anonymous.status_code == 401
            assert anonymous.headers["content-type"].startswith("application/problem+json")
            assert anonymous.json()["error"] == "login_required"
            assert (await nobody.get("/audit")).status_code == 303  # a browser: sign in first
            await sign_in(bob, "bob", BOB_PASSWORD)
            assert await log_of(bob) == []  # Alice's grant is not Bob's to see
            metadata = (await nobody.get("/.well-known/aauth-person.json")).json()
            assert metadata["audit_endpoint"] == f"{PS}/audit"

    run(scenario())


def test_ps32_the_log_survives_a_restart(world: World, tmp_path: Any) -> None:
    agent = world.agent()
    path = str(tmp_path / "ps.db")
    config = {"bindings": {AGENT: "alice"}, "auto_approve": (auto(),)}

    async def scenario() -> None:
        async with client(world.app(SQLiteStore(path), **config)) as agent_http:
            assert (await request_token(agent_http, agent, world.resource_token(agent))).is_success
        async with client(world.app(SQLiteStore(path), **config)) as alice:
            await sign_in(alice, "alice", ALICE_PASSWORD)
            assert events(await log_of(alice)) == [("grant", "auto-approved")]

    run(scenario())


def test_ps31_a_changed_binding_revokes_the_old_one_and_its_consents_first(
    world: World, tmp_path: Any
) -> None:
    """Alice approved (and so bound) the agent; the operator then binds it to Bob. Alice's
    consent no longer grants anything, her log says the binding was revoked, and when the
    configuration lets go of the agent again it is nobody's: Alice's old binding is gone."""
    agent = world.agent()
    path = str(tmp_path / "ps.db")

    async def scenario() -> None:
        async with (
            client(world.app(SQLiteStore(path))) as agent_http,
            client(world.app(SQLiteStore(path))) as alice_http,
        ):
            first = await request_token(agent_http, agent, world.resource_token(agent))
            await sign_in(alice_http, "alice", ALICE_PASSWORD)
            await decide(alice_http, await open_consent(alice_http, *interaction_of(first)))
            again = await request_token(agent_http, agent, world.resource_token(agent))
            assert again.status_code == 200  # Alice's remembered consent
        rebound = world.app(SQLiteStore(path), bindings={AGENT: "bob"})
        async with client(rebound) as agent_http, client(rebound) as bob:
            asked = await request_token(agent_http, agent, world.resource_token(agent))
            assert asked.status_code == 202  # Bob decides now; Alice's consent is not his
            await sign_in(bob, "bob", BOB_PASSWORD)
            page = await open_consent(bob, *interaction_of(asked))
            assert page.status_code == 200
        released = world.app(SQLiteStore(path))
        async with client(released) as agent_http, client(released) as alice:
            asked = await request_token(agent_http, agent, world.resource_token(agent))
            assert asked.status_code == 202  # no consent of Alice's came back with her
            await sign_in(alice, "alice", ALICE_PASSWORD)
            log = events(await log_of(alice))
            assert log[-1] == ("revocation", "the agent's person changed")
            assert log[:2] == [("consent", "approved"), ("grant", "approved")]

    run(scenario())


def test_ps31_rebind_through_the_api_revokes_first(world: World) -> None:
    service = PersonService(world.config(), SQLiteStore(), key_source=world.keys)
    agent = world.agent()
    service.bindings.rebind(agent.iss, agent.sub, "alice")
    assert service.bindings.person_for(agent.iss, agent.sub) == "alice"
    service.bindings.rebind(agent.iss, agent.sub, "bob")
    assert service.bindings.person_for(agent.iss, agent.sub) == "bob"
    assert [e.event for e in service.audit.entries("alice")] == ["revocation"]
    assert service.audit.entries("bob") == []


def test_ps32_mission_events_reach_the_persons_log(world: World) -> None:
    service = PersonService(world.config(), SQLiteStore(), key_source=world.keys)
    agent = world.agent()
    proposal = MissionProposal("Summarise Q3", resources={RESOURCE: ("docs.read",)})
    mission = service.missions.approve(proposal, agent.iss, agent.sub, "alice")
    service.missions.terminate(mission.s256, "revoked")
    hows = [e.how for e in service.audit.entries("alice") if e.event == "mission"]
    assert [h.rsplit(": ", 1)[1] for h in hows] == ["terminated", "approved"]
    assert service.audit.entries("bob") == []
