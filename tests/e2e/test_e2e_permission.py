"""§F.9 over real HTTP: the agent's ``AgentAuth`` asks its person server for permission
(blocking and async), the person allows or denies on the real pages, and the agent records
what it did on the audit endpoint, which the person reads on ``/audit``.

AG-32: a denial raises :class:`PermissionDenied`, so the action after the call never runs.
PS-22: audit records carry ``mission`` and ``action`` and are answered 201."""

from __future__ import annotations

import asyncio

import pytest

from aauth.agent import PermissionDenied, PermissionGranted
from aauth.demo.consent import agent_client
from aauth.demo.world import World
from aauth.errors import MissionTerminated, PendingDenied

from .conftest import PersonAtHand
from .test_e2e_missions import approve_mission, mission_page, person_browser


def test_ag32_granted_runs_denied_never_does(consenting: World) -> None:
    """A tool the mission approved is granted without a call; beyond it the person decides;
    a denial raises before the action, with the person's verdict (AG-32)."""
    world = consenting
    mission, _ = approve_mission(world)  # approved tool: "Summarise"
    person = PersonAtHand(world, decision=["approve", "deny"])
    client, auth = agent_client(world, person.callbacks)
    auth.mission = mission
    performed: list[str] = []

    def act(action: str) -> None:
        """The agent's rule: ask first, act only on a grant."""
        auth.request_permission(action)
        performed.append(action)

    with client:
        assert auth.request_permission("Summarise") == PermissionGranted("Summarise", asked=False)
        assert person.prompts == []  # nobody was asked: the mission approved the tool
        granted = auth.request_permission(
            "SendEmail", description="Send the summary", parameters={"to": "alice"}
        )
        assert granted == PermissionGranted("SendEmail")
        performed.append("SendEmail")
        with pytest.raises(PermissionDenied) as denied:
            act("DeleteAllFiles")  # the append after the call is never reached (AG-32)
        person.done()
    assert performed == ["SendEmail"]
    assert denied.value.action == "DeleteAllFiles"
    assert isinstance(denied.value, PendingDenied)  # caught like any denial
    assert len(person.prompts) == 2
    browser = person_browser(world)
    with browser.client:
        log = browser.visit(mission_page(world, mission)).text
    assert "permission granted" in log
    assert "permission denied" in log


def test_ps22_the_agent_audits_and_the_person_reads_it(consenting: World) -> None:
    world = consenting
    mission, _ = approve_mission(world)
    client, auth = agent_client(world)
    auth.mission = mission
    with client:
        auth.audit(
            "Summarise",
            description="Summarised Q3",
            parameters={"quarter": "Q3"},
            result={"status": "completed"},
        )
    browser = person_browser(world)
    with browser.client:
        page = browser.visit(f"{world.person_server}/audit").text
        log = browser.visit(mission_page(world, mission)).text
    assert "Summarise" in page
    assert "action performed" in log
    assert "Summarised Q3" in log


def test_async_permission_and_audit(consenting: World) -> None:
    world = consenting
    mission, _ = approve_mission(world)
    person = PersonAtHand(world, decision="deny")
    _, auth = agent_client(world, person.callbacks)
    auth.mission = mission

    async def scenario() -> None:
        granted = await auth.arequest_permission("Summarise")
        assert not granted.asked
        with pytest.raises(PermissionDenied):
            await auth.arequest_permission("SendEmail")
        await auth.aaudit("Summarise", result={"status": "completed"})

    asyncio.run(scenario())
    person.done()


def test_after_revocation_the_agent_stops_ag33(consenting: World) -> None:
    """The PS answers mission_terminated to an audit of a revoked mission; from then on the
    auth refuses permission requests itself (AG-33). Audit needs a mission at all."""
    world = consenting
    mission, _ = approve_mission(world)
    _, auth = agent_client(world)
    with pytest.raises(ValueError, match="needs a mission"):
        auth.audit("Summarise")
    auth.mission = mission
    browser = person_browser(world)
    with browser.client:
        assert browser.click(mission_page(world, mission), "revoke").status_code == 200
    with pytest.raises(MissionTerminated):
        auth.audit("Summarise")
    assert auth.mission_ended
    with pytest.raises(MissionTerminated):
        auth.request_permission("SendEmail")
