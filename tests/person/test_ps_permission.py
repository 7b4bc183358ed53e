"""§F.9 at the person server, in-process: the permission endpoint (granted at once for a tool
the mission approved, else the person decides on a page; a denial is an answer the agent must
heed, AG-32) and the agents' audit POST (PS-22), both recorded where the person reads them
(PS-32), with every refusal a clear problem+json."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from aauth.headers import MissionRef
from aauth.missions import mission_s256
from aauth.person.audit import MAX_ENTRIES
from aauth.person.missions import MAX_LOG

from .conftest import (
    ALICE_PASSWORD,
    BOB_PASSWORD,
    PS,
    Agent,
    World,
    client,
    csrf_of,
    interaction_of,
    open_consent,
    sign_in,
    signed,
)
from .test_ps_missions import act, approved, poll, token_under_mission
from .test_ps_token_endpoint import problem, run

SEND = {
    "action": "SendEmail",
    "description": "Send the itinerary <b>now</b>",
    "parameters": {"to": "alice@example.com", "subject": "<script>x</script>"},
}


async def post(
    http: httpx.AsyncClient, agent: Agent, path: str, body: dict[str, Any] | bytes
) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    url = f"{PS}{path}"
    return await http.post(url, content=raw, headers=agent.headers("POST", url, raw))


def under(ref: MissionRef, **members: Any) -> dict[str, Any]:
    return {**members, "mission": ref.to_claim()}


async def answer(
    person: httpx.AsyncClient, page: httpx.Response, decision: str, reason: str = ""
) -> httpx.Response:
    code = re.search(r"name=code value='([^']+)'", page.text)
    assert code is not None, page.text
    form = {"csrf": csrf_of(page.text), "code": code.group(1), "decision": decision}
    if reason:
        form["reason"] = reason
    return await person.post(page.url.path, data=form)


async def audit_log(person: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await person.get("/audit", headers={"accept": "application/json"})
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries


def test_the_metadata_publishes_both_endpoints(world: World) -> None:
    async def scenario() -> None:
        async with client(world.app()) as http:
            metadata = (await http.get("/.well-known/aauth-person.json")).json()
            assert metadata["permission_endpoint"] == f"{PS}/permission"
            assert metadata["audit_endpoint"] == f"{PS}/audit"

    run(scenario())


def test_an_approved_tool_is_granted_at_once_and_logged(world: World) -> None:
    agent, app = world.agent(), world.app()

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            ref = await approved(http, alice, agent)  # the proposal's tool is "Read"
            granted = await post(http, agent, "/permission", under(ref, action="Read"))
            assert granted.status_code == 200, granted.text
            assert granted.json() == {"permission": "granted"}
            assert granted.headers["cache-control"] == "no-store"
            log = (await alice.get(f"/missions/{ref.s256}")).text
            assert "permission granted" in log
            assert "an approved tool of the mission" in log
            entry = (await audit_log(alice))[0]
            assert (entry["event"], entry["action"], entry["agent"]) == (
                "permission",
                "Read",
                agent.sub,
            )

    run(scenario())


def test_beyond_the_approved_tools_the_person_allows_on_a_page(world: World) -> None:
    agent, app = world.agent(), world.app()

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            ref = await approved(http, alice, agent)
            asked = await post(http, agent, "/permission", under(ref, **SEND))
            assert asked.status_code == 202, asked.text
            assert asked.headers["cache-control"] == "no-store"
            location = asked.headers["location"]
            url, code = interaction_of(asked)
            page = await open_consent(alice, url, code)
            assert page.status_code == 200, page.text
            assert "/permissions/" in str(page.url)
            assert "SendEmail" in page.text
            assert code in page.text
            assert "&lt;b&gt;now&lt;/b&gt;" in page.text  # V-42: agent text is escaped
            assert "<script>" not in page.text
            assert "Q3 report" in page.text  # the mission it falls under
            assert (await poll(http, agent, location)).json() == {"status": "interacting"}
            decided = await answer(alice, page, "approve")
            assert decided.status_code == 200
            assert "Action allowed" in decided.text
            final = await poll(http, agent, location)
            assert final.status_code == 200, final.text
            assert final.json() == {"permission": "granted"}
            assert (await poll(http, agent, location)).status_code == 410
            log = (await alice.get(f"/missions/{ref.s256}")).text
            assert "permission asked of the person" in log
            assert "SendEmail" in log

    run(scenario())


def test_ag32_a_denial_is_an_answer_with_the_persons_reason(world: World) -> None:
    """AG-32 (server side): the person denies; the agent gets ``permission: denied`` and the
    reason, not a granted answer and not an error it could retry around."""
    agent, app = world.agent(), world.app()

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            ref = await approved(http, alice, agent)
            asked = await post(http, agent, "/permission", under(ref, **SEND))
            page = await open_consent(alice, *interaction_of(asked))
            decided = await answer(alice, page, "deny", "Not *before* I review it")
            assert decided.status_code == 200
            assert "Action denied" in decided.text
            final = await poll(http, agent, asked.headers["location"])
            assert final.status_code == 200
            assert final.json() == {"permission": "denied", "reason": "Not *before* I review it"}
            entry = (await audit_log(alice))[0]
            assert entry["event"] == "permission"
            assert entry["action"] == "SendEmail"
            assert "permission denied" in entry["how"]

    run(scenario())


def test_permission_without_a_mission_is_asked_of_the_person(world: World) -> None:
    """-10: the permission endpoint MAY be used with or without a mission."""
    agent, app = world.agent(), world.app()

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            asked = await post(http, agent, "/permission", {"action": "DeleteFile"})
            assert asked.status_code == 202, asked.text
            await sign_in(alice, "alice", ALICE_PASSWORD)
            page = await open_consent(alice, *interaction_of(asked))
            assert "Outside any mission" in page.text
            assert (await answer(alice, page, "deny")).status_code == 200
            final = await poll(http, agent, asked.headers["location"])
            assert final.json() == {"permission": "denied"}
            entry = (await audit_log(alice))[0]
            assert (entry["event"], entry["action"]) == ("permission", "DeleteFile")

    run(scenario())


def test_the_person_pages_refuse_others_and_forged_forms(world: World) -> None:
    """Only the bound person decides (PS-28), with the session's CSRF token (PS-27), once."""
    agent = world.agent()
    app = world.app(bindings={agent.sub: "alice"})

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice, client(app) as bob:
            asked = await post(http, agent, "/permission", {"action": "DeleteFile"})
            url, code = interaction_of(asked)
            await sign_in(bob, "bob", BOB_PASSWORD)
            assert (await open_consent(bob, url, code)).status_code == 403
            await sign_in(alice, "alice", ALICE_PASSWORD)
            page = await open_consent(alice, url, code)
            path = page.url.path
            forged = {"csrf": "wrong", "code": code, "decision": "approve"}
            assert (await alice.post(path, data=forged)).status_code == 403
            odd = {"csrf": csrf_of(page.text), "code": code, "decision": "maybe"}
            assert (await alice.post(path, data=odd)).status_code == 400
            wrong_code = await alice.get(path, params={"code": "ABCD-EFGH"})
            assert wrong_code.status_code == 410
            assert (
                await alice.get("/permissions/nothing", params={"code": code})
            ).status_code == 404
            signed_out = await http.get(path, params={"code": code})
            assert signed_out.status_code == 303  # to the sign-in page
            anonymous = await http.post(path, data={"code": code, "decision": "approve"})
            assert anonymous.status_code == 401
            assert "<code id=error>access_denied</code>" in anonymous.text
            assert (await answer(alice, page, "approve")).status_code == 200
            again = await answer(alice, page, "deny")
            assert again.status_code == 410  # the code is used: the decision stands
            assert (await poll(http, agent, asked.headers["location"])).json() == {
                "permission": "granted"
            }

    run(scenario())


def test_a_mission_that_ends_while_the_person_decides_grants_nothing(world: World) -> None:
    """§F.10: the person allows after the mission was revoked; the page refuses, and the
    agent's poll is a denial, never a grant."""
    agent, app = world.agent(), world.app()

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            ref = await approved(http, alice, agent)
            asked = await post(http, agent, "/permission", under(ref, **SEND))
            page = await open_consent(alice, *interaction_of(asked))
            assert (await act(alice, ref.s256, "revoke")).status_code == 200
            refused = await answer(alice, page, "approve")
            assert refused.status_code == 400
            assert "has ended" in refused.text
            problem(await poll(http, agent, asked.headers["location"]), 403, "denied")

    run(scenario())


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'{"action": "a", "action": "b"}',
        json.dumps({"description": "no action"}).encode(),
        json.dumps({"action": ""}).encode(),
        json.dumps({"action": 7}).encode(),
        json.dumps({"action": "Run", "parameters": [1]}).encode(),
        json.dumps({"action": "Run", "parameters": {"x": "y" * 9000}}).encode(),
        json.dumps({"action": "Run", "description": "\u0007"}).encode(),
        json.dumps({"action": "Run", "mission": {"approver": PS}}).encode(),
        json.dumps({"action": "Run", "mission": "abc"}).encode(),
    ],
)
def test_malformed_permission_requests_are_invalid_request(world: World, body: bytes) -> None:
    agent, app = world.agent(), world.app()

    async def scenario() -> None:
        async with client(app) as http:
            problem(await post(http, agent, "/permission", body), 400, "invalid_request")

    run(scenario())


def test_ps21_permission_under_an_unknown_foreign_or_ended_mission(world: World) -> None:
    agent, other, app = world.agent(), world.agent("other"), world.app()

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            ref = await approved(http, alice, agent)
            bogus = MissionRef(PS, mission_s256(b"never approved"))
            elsewhere = MissionRef("https://other-ps.example", ref.s256)
            for who, mission in ((agent, bogus), (other, ref), (agent, elsewhere)):
                refused = await post(http, who, "/permission", under(mission, action="Read"))
                body = problem(refused, 403, "mission_terminated")
                assert body["detail"] == "this mission is not active"  # alike: no oracle
            assert (await act(alice, ref.s256, "revoke")).status_code == 200
            ended = await post(http, agent, "/permission", under(ref, action="Read"))
            problem(ended, 403, "mission_terminated")

    run(scenario())


def test_who_may_ask_for_permission(world: World) -> None:
    """Only agents of this PS, signed with an agent token, not sub-agents (PS-06), with a
    person who could answer."""
    app = world.app(bind_on_first_approval=False)
    sub_agent = world.agent("bot+1", parent="aauth:bot@ap.example")
    elsewhere = world.agent("roamer", ps="https://other-ps.example")

    async def scenario() -> None:
        async with client(app) as http:
            body = {"action": "Run"}
            problem(await post(http, sub_agent, "/permission", body), 400, "invalid_request")
            problem(await post(http, elsewhere, "/permission", body), 400, "invalid_agent_token")
            unbound = await post(http, world.agent(), "/permission", body)
            problem(unbound, 403, "user_unreachable")
            unsigned = await http.post("/permission", content=json.dumps(body).encode())
            assert unsigned.status_code == 401

    run(scenario())


def test_ps22_an_audit_record_is_201_and_the_person_reads_it(world: World) -> None:
    agent, app = world.agent(), world.app()

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            ref = await approved(http, alice, agent)
            record = under(
                ref,
                action="WebSearch",
                description="Searched for flights to Tokyo",
                parameters={"query": "flights to Tokyo"},
                result={"status": "completed", "summary": "12 options"},
            )
            done = await post(http, agent, "/audit", record)
            assert done.status_code == 201, done.text
            assert done.content == b""
            entry = (await audit_log(alice))[0]
            assert (entry["event"], entry["action"], entry["agent"]) == (
                "action",
                "WebSearch",
                agent.sub,
            )
            page = await alice.get("/audit")
            assert "WebSearch" in page.text
            log = (await alice.get(f"/missions/{ref.s256}")).text
            assert "action performed" in log
            assert "12 options" in log

    run(scenario())


@pytest.mark.parametrize(
    ("members", "with_mission", "fault"),
    [
        ({"action": "WebSearch"}, False, "'mission' is required"),
        ({"description": "no action"}, True, "'action' is required"),
        ({"action": "WebSearch", "result": "done"}, True, "'result' must be a JSON object"),
    ],
)
def test_ps22_an_audit_record_without_mission_or_action_is_refused(
    world: World, members: dict[str, Any], with_mission: bool, fault: str
) -> None:
    agent, app = world.agent(), world.app()

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            ref = await approved(http, alice, agent)
            body = under(ref, **members) if with_mission else members
            refused = problem(await post(http, agent, "/audit", body), 400, "invalid_request")
            assert fault in refused["detail"]
            assert not any(e["event"] == "action" for e in await audit_log(alice))

    run(scenario())


def test_ps22_audit_refusals(world: World) -> None:
    """Bad JSON, another agent's, an unknown and a terminated mission, unsigned."""
    agent, other, app = world.agent(), world.agent("other"), world.app()

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            ref = await approved(http, alice, agent)
            for raw in (b"{", b'{"action": "x", "action": "y"}', b"\xff"):
                problem(await post(http, agent, "/audit", raw), 400, "invalid_request")
            bogus = MissionRef(PS, mission_s256(b"never approved"))
            for who, mission in ((other, ref), (agent, bogus)):
                refused = await post(http, who, "/audit", under(mission, action="Read"))
                problem(refused, 403, "mission_terminated")
            assert (await act(alice, ref.s256, "revoke")).status_code == 200
            ended = await post(http, agent, "/audit", under(ref, action="Read"))
            problem(ended, 403, "mission_terminated")
            unsigned = await http.post("/audit", content=json.dumps(under(ref, action="x")))
            assert unsigned.status_code == 401
            assert not any(e["event"] == "action" for e in await audit_log(alice))

    run(scenario())


def test_get_audit_still_answers_the_person_and_agents_are_signed(world: World) -> None:
    agent, app = world.agent(), world.app()

    async def scenario() -> None:
        async with client(app) as http:
            assert (await http.get("/audit")).status_code == 303  # to sign in
            unsigned_get = await signed(http, agent, "GET", f"{PS}/permission")
            problem(unsigned_get, 405, "method_not_allowed")

    run(scenario())


async def report(http: httpx.AsyncClient, agent: Agent, ref: MissionRef, count: int) -> None:
    """The agent reports ``count`` actions under the mission (an agent flooding the logs)."""
    for n in range(count):
        done = await post(http, agent, "/audit", under(ref, action=f"Step{n}"))
        assert done.status_code == 201, done.text


def test_ps22_an_agents_audit_records_do_not_push_its_tokens_out_of_the_mission_log(
    world: World,
) -> None:
    """§F.11: revoking a mission revokes the auth tokens issued under it, found in its log.
    An agent that floods the log with audit records (or tool grants) must not make its
    tokens forgotten there, or they would outlive the revocation at their resources."""
    agent, app = world.agent(), world.app()

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            ref, jti = await token_under_mission(world, http, alice, agent)
            await report(http, agent, ref, MAX_LOG)
            assert (await act(alice, ref.s256, "revoke")).status_code == 200
            page = await alice.get(f"/missions/{ref.s256}")
            assert "token revoked" in page.text
            assert jti in page.text

    run(scenario())


def test_ps32_an_agents_audit_records_do_not_push_the_persons_grants_out_of_their_log(
    world: World,
) -> None:
    """PS-32: the person's log keeps grants, denials, consents, revocations and mission
    events. However many actions (and tool grants) an agent reports, they never push those
    out: an agent cannot erase the record of what it was granted."""
    agent, app = world.agent(), world.app()

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            ref, _ = await token_under_mission(world, http, alice, agent)
            await report(http, agent, ref, MAX_ENTRIES + 1)
            events = [entry["event"] for entry in await audit_log(alice)]
            assert "grant" in events
            assert events.count("action") == MAX_ENTRIES

    run(scenario())
