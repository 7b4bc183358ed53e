"""Phase 12: the mission lifecycle. A mission is proposed and approved, tokens are issued
under it, the agent reports it done, the person accepts on the mission page and the mission
is terminated: any later use gets ``403 mission_terminated``. A second mission is revoked
by the person instead: the person server tells the resource that the auth token issued
under it is revoked (its ``revocation_endpoint``, §F.11), so the agent's next call with that
token is challenged and its person server answers ``mission_terminated``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import httpx

from ..agent.auth import AgentAuth
from ..errors import MissionTerminated
from .consent import PERSON, agent_client, approving_person, person_server_factory
from .person import Person
from .phase1 import expect
from .phase5 import person_callbacks, proposal_for
from .printer import Printer
from .world import World, running_world

__all__ = ["run"]


def _accept_when_reported(browser: Person, url: str, failures: list[BaseException]) -> None:
    """The person opens the mission page until the agent's completion report is there, then
    accepts it (on their own thread: the agent is long-polling meanwhile)."""
    try:
        with browser.client:
            deadline = time.monotonic() + 30
            while "id=accept" not in browser.visit(url).text:
                if time.monotonic() > deadline:
                    raise AssertionError("the completion never reached the mission page")
                time.sleep(0.05)
            browser.click(url, "accept")
    except BaseException as exc:  # re-raised on the demo's thread
        failures.append(exc)


def _refused(printer: Printer, client: httpx.Client, url: str, note: str) -> None:
    """``GET url`` must end with MissionTerminated; ``note`` (with ``{exc}``) is printed."""
    try:
        client.get(url)
    except MissionTerminated as exc:
        printer.note(note.format(exc=exc))
    else:
        raise AssertionError(f"GET {url} went on under an ended mission")


def _terminated(printer: Printer, world: World, auth: AgentAuth) -> None:
    """An agent that still holds the mission (a fresh auth, no cached token) asks again."""
    stale, stale_auth = agent_client(world)
    with stale:
        stale_auth.mission = auth.mission
        note = "the person server answered mission_terminated: {exc.description}"
        _refused(printer, stale, f"{world.resource}/data", note)


def run(printer: Printer, manual: bool = False) -> None:
    printer.title("Phase 12 — mission lifecycle (completion, termination, revocation)")
    with running_world(printer, person_server=person_server_factory()) as world:
        person = approving_person(printer, world, manual)
        client, auth = agent_client(world, person_callbacks(printer, person, []))
        ps, password = world.person_server, str(world.extras["password"])
        with client:
            mission = auth.propose_mission(proposal_for(world))
            person.check()
            page = f"{ps}/missions/{mission.ref.s256}"
            response = client.get(f"{world.resource}/data")
            expect(response.status_code == 200, f"GET /data ended with {response.status_code}")
            printer.note("the agent reports the mission done; the person accepts on its page")
            failures: list[BaseException] = []
            if manual:
                printer.note(f"open {page}, sign in and accept the completion")
            else:
                browser = Person(PERSON, password, httpx.Client(timeout=30))
                accepting = threading.Thread(
                    target=_accept_when_reported, args=(browser, page, failures), daemon=True
                )
                accepting.start()
            answer = auth.complete_mission("Summarised Q3: revenue up 4%.")
            if failures:
                raise failures[0]
            printer.note(f"completion accepted: {answer}")
            note = "the agent stops acting on the ended mission (AG-33)"
            _refused(printer, client, f"{world.resource}/data", note)
            _terminated(printer, world, auth)

            printer.note("a second mission, which the person revokes while its token is live")
            auth.poll = replace(auth.poll, deadline=60)
            second = auth.propose_mission(proposal_for(world, "Q4"))
            person.check()
            response = client.get(f"{world.resource}/data")
            expect(response.status_code == 200, f"GET /data ended with {response.status_code}")
            page = f"{ps}/missions/{second.ref.s256}"
            if manual:
                printer.note(f"open {page}, sign in and revoke the mission; then press Enter")
                input()
            else:
                browser = Person(PERSON, password, httpx.Client(timeout=30))
                with browser.client:
                    outcome = browser.click(page, "revoke")
                    expect(outcome.status_code == 200, f"revoking answered {outcome.status_code}")
                    log = browser.visit(page).text
                expect("token revoked" in log and "outcome=<code>revoked" in log, "no revocation")
                printer.note("the person revoked it; the resource was told the token is revoked")
            note = "the resource refused the revoked token; the PS said: {exc.code}"
            _refused(printer, client, f"{world.resource}/data", note)
