"""Phases 5 and 12 at the person server, in-process: proposal, the person's review, the
approval (PS-19, PS-20), token requests under the mission, completion, revocation and the
``mission_terminated`` answers (PS-21), and the mission pages."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from aauth_signing import JwksUri

from aauth import jwt
from aauth.agent.signer import AgentSigner
from aauth.headers import MissionRef, parse_mission, parse_requirement
from aauth.keysource import StaticKeySource
from aauth.missions import MissionProposal, mission_s256, parse_approval
from aauth.server.person_server import create_person_server
from aauth.store import SQLiteStore
from aauth.tokens import AuthTokenClaims, TokenVerifier, decode_unverified
from aauth.tokens.verifier import AGENT_TOKEN

from .conftest import (
    ALICE_PASSWORD,
    AP,
    BOB_PASSWORD,
    OTHER_RESOURCE,
    PS,
    RESOURCE,
    Agent,
    World,
    auto,
    client,
    csrf_of,
    decide,
    interaction_of,
    open_consent,
    request_token,
    sign_in,
    signed,
)
from .test_ps_token_endpoint import problem, run

PROPOSAL = {
    "description": "# Q3 report\n\nRead <script>alert(1)</script> the Q3 documents.",
    "tools": [{"name": "Read", "description": "Read files"}],
    "resources": [
        {"resource": RESOURCE, "scopes": ["docs.read"]},
        {"resource": OTHER_RESOURCE, "scopes": ["mail.send"]},
    ],
}


async def propose(
    http: httpx.AsyncClient, agent: Agent, proposal: dict[str, Any] | bytes = PROPOSAL
) -> httpx.Response:
    body = proposal if isinstance(proposal, bytes) else json.dumps(proposal).encode()
    url = f"{PS}/mission"
    return await http.post(url, content=body, headers=agent.headers("POST", url, body))


async def poll(http: httpx.AsyncClient, agent: Agent, location: str) -> httpx.Response:
    return await signed(http, agent, "GET", location)


async def under_review(
    http: httpx.AsyncClient, person: httpx.AsyncClient, agent: Agent
) -> tuple[httpx.Response, httpx.Response, str]:
    """Propose; Alice signs in and opens the review page: ``(202, page, code)``."""
    proposed = await propose(http, agent)
    assert proposed.status_code == 202, proposed.text
    url, code = interaction_of(proposed)
    await sign_in(person, "alice", ALICE_PASSWORD)
    return proposed, await open_consent(person, url, code), code


async def approved(
    http: httpx.AsyncClient,
    person: httpx.AsyncClient,
    agent: Agent,
    proposal: dict[str, Any] = PROPOSAL,
) -> MissionRef:
    """Propose, let Alice approve on the pages, return the mission the agent received."""
    proposed = await propose(http, agent, proposal)
    assert proposed.status_code == 202, proposed.text
    url, code = interaction_of(proposed)
    if "aauth_ps_session" not in person.cookies:
        await sign_in(person, "alice", ALICE_PASSWORD)
    page = await open_consent(person, url, code)
    assert (await decide(person, page)).status_code == 200
    answer = await poll(http, agent, proposed.headers["location"])
    assert answer.status_code == 200, answer.text
    ref = parse_mission(answer.headers["aauth-mission"])
    return parse_approval(ref, answer.content, agent=agent.sub, approver=PS).ref


async def act(person: httpx.AsyncClient, s256: str, action: str) -> httpx.Response:
    page = await person.get(f"/missions/{s256}")
    assert page.status_code == 200, page.text
    return await person.post(
        f"/missions/{s256}", data={"csrf": csrf_of(page.text), "action": action}
    )


def claims_of(token: str, jwks: dict[str, Any], agent: Agent, resource: str) -> AuthTokenClaims:
    verifier = TokenVerifier(StaticKeySource({PS: jwks}))
    return verifier.verify_auth_token(
        token, audience=resource, agent=agent.sub, request_jkt=agent.signer.thumbprint
    )


def test_ps19_ps20_the_person_approves_and_the_agent_gets_the_blob_and_header(
    world: World,
) -> None:
    agent, app = world.agent(), world.app()

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            metadata = (await http.get("/.well-known/aauth-person.json")).json()
            assert metadata["mission_endpoint"] == f"{PS}/mission"
            proposed = await propose(http, agent)
            assert proposed.status_code == 202, proposed.text
            assert proposed.headers["cache-control"] == "no-store"
            url, code = interaction_of(proposed)
            location = proposed.headers["location"]
            await sign_in(alice, "alice", ALICE_PASSWORD)
            page = await open_consent(alice, url, code)
            assert "/missions/proposal/" in str(page.url)
            assert code in page.text
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text  # V-42
            assert "<script>" not in page.text
            assert (await poll(http, agent, location)).json() == {"status": "interacting"}
            decided = await decide(alice, page)
            assert decided.status_code == 200
            assert "Mission approved" in decided.text
            answer = await poll(http, agent, location)
            assert answer.status_code == 200
            assert answer.headers["content-type"] == "application/json"
            ref = parse_mission(answer.headers["aauth-mission"])
            assert ref.approver == PS
            assert ref.s256 == mission_s256(answer.content)  # over the exact bytes (PS-20)
            blob = json.loads(answer.content)
            assert {"approver", "agent", "approved_at", "description"} <= set(blob)  # PS-19
            assert blob["agent"] == agent.sub
            assert blob["description"] == PROPOSAL["description"]
            assert blob["approved_scopes"] == {
                RESOURCE: ["docs.read"],
                OTHER_RESOURCE: ["mail.send"],
            }
            assert (await poll(http, agent, location)).status_code == 410

    run(scenario())


def test_the_person_edits_the_description_and_drops_a_resource(world: World) -> None:
    agent, app = world.agent(), world.app()

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            proposed, page, code = await under_review(http, alice, agent)
            form = {
                "csrf": csrf_of(page.text),
                "code": code,
                "decision": "approve",
                "description": "Only read the Q3 documents.",
                "resource": RESOURCE,
            }
            assert (await alice.post(page.url.path, data=form)).status_code == 200
            answer = await poll(http, agent, proposed.headers["location"])
            blob = json.loads(answer.content)
            assert blob["description"] == "Only read the Q3 documents."
            assert blob["approved_resources"] == [RESOURCE]

    run(scenario())


def test_the_person_denies_the_mission(world: World) -> None:
    agent, app = world.agent(), world.app()

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            proposed, page, _ = await under_review(http, alice, agent)
            assert (await decide(alice, page, "deny")).status_code == 200
            problem(await poll(http, agent, proposed.headers["location"]), 403, "denied")

    run(scenario())


def test_a_configured_policy_approves_with_200_at_once(world: World) -> None:
    agent = world.agent()
    rules = (auto("docs.read"), auto("mail.send", resource=OTHER_RESOURCE))
    app = world.app(auto_approve_missions=rules, bindings={agent.sub: "alice"})

    async def scenario() -> None:
        async with client(app) as http:
            answer = await propose(http, agent)
            assert answer.status_code == 200, answer.text
            ref = parse_mission(answer.headers["aauth-mission"])
            assert parse_approval(ref, answer.content, agent=agent.sub, approver=PS)
            wider = {**PROPOSAL, "resources": [{"resource": RESOURCE, "scopes": ["docs.write"]}]}
            assert (await propose(http, agent, wider)).status_code == 202

    run(scenario())


def test_an_unbound_agent_is_not_auto_approved(world: World) -> None:
    agent = world.agent()
    app = world.app(auto_approve_missions=(auto("docs.read"),))

    async def scenario() -> None:
        async with client(app) as http:
            only = {**PROPOSAL, "resources": [{"resource": RESOURCE, "scopes": ["docs.read"]}]}
            assert (await propose(http, agent, only)).status_code == 202

    run(scenario())


def test_tokens_under_the_mission_carry_it_and_beyond_it_the_person_is_asked(
    world: World,
) -> None:
    """Within the mission: granted at once, ``mission`` in the auth token (§D.3); beyond it:
    the person decides. The person reads both in the mission log (PS-32)."""
    agent, app = world.agent(), world.app()

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            jwks = (await http.get("/.well-known/jwks.json")).json()
            ref = await approved(http, alice, agent)
            within = world.resource_token(agent, "docs.read", mission=ref)
            granted = await request_token(http, agent, within, capabilities=[])
            assert granted.status_code == 200, granted.text  # no person asked
            claims = claims_of(granted.json()["auth_token"], jwks, agent, RESOURCE)
            assert claims.mission == ref
            assert claims.sub is not None  # the approving person's directed id
            beyond = world.resource_token(agent, "docs.read docs.write", mission=ref)
            refused = await request_token(http, agent, beyond, capabilities=[])
            body = problem(refused, 403, "user_unreachable")
            assert "beyond the approved mission" in body["detail"]
            beyond = world.resource_token(agent, "docs.read docs.write", mission=ref)
            asked = await request_token(http, agent, beyond)
            assert asked.status_code == 202, asked.text
            url, code = interaction_of(asked)
            page = await open_consent(alice, url, code)
            assert (await decide(alice, page)).status_code == 200
            token = (await poll(http, agent, asked.headers["location"])).json()["auth_token"]
            assert claims_of(token, jwks, agent, RESOURCE).mission == ref
            log = (await alice.get(f"/missions/{ref.s256}")).text
            assert log.count("token issued") == 2
            assert "outside the mission" in log
            assert "within the mission" in log

    run(scenario())


def test_ps21_a_mission_never_approved_or_of_another_agent_is_terminated(world: World) -> None:
    agent, other, app = world.agent(), world.agent("other"), world.app()

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            ref = await approved(http, alice, agent)
            bogus = MissionRef(PS, mission_s256(b"bytes nobody approved"))
            for who, mission in ((agent, bogus), (other, ref)):
                token = world.resource_token(who, "docs.read", mission=mission)
                body = problem(await request_token(http, who, token), 403, "mission_terminated")
                assert body["mission_status"] == "terminated"
                assert body["detail"] == "this mission is not active"  # alike: no oracle

    run(scenario())


def test_completion_accepted_terminates_the_mission(world: World) -> None:
    agent, app = world.agent(), world.app()

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            ref = await approved(http, alice, agent)
            completion = {
                "type": "completion",
                "summary": "Done: <b>Q3</b>",
                "mission": ref.to_claim(),
            }
            url = f"{PS}/interaction"
            body = json.dumps(completion).encode()
            waiting = await http.post(url, content=body, headers=agent.headers("POST", url, body))
            assert waiting.status_code == 202, waiting.text
            requirement = parse_requirement(waiting.headers["aauth-requirement"])
            assert requirement.name == "approval"
            page = await alice.get(f"/missions/{ref.s256}")
            assert "Done: &lt;b&gt;Q3&lt;/b&gt;" in page.text
            accepted = await act(alice, ref.s256, "accept")
            assert "Mission completed" in accepted.text
            answer = await poll(http, agent, waiting.headers["location"])
            assert answer.status_code == 200
            assert answer.json() == {"mission_status": "terminated"}
            token = world.resource_token(agent, "docs.read", mission=ref)
            problem(await request_token(http, agent, token), 403, "mission_terminated")
            body = json.dumps({**completion, "summary": "again"}).encode()
            again = await http.post(url, content=body, headers=agent.headers("POST", url, body))
            problem(again, 403, "mission_terminated")
            page = await alice.get(f"/missions/{ref.s256}")
            assert "terminated (completed)" in page.text
            assert "id=revoke" not in page.text

    run(scenario())


def test_a_newer_completion_report_supersedes_an_unanswered_one(world: World) -> None:
    agent, app = world.agent(), world.app()

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            ref = await approved(http, alice, agent)
            url, waiting = f"{PS}/interaction", []
            for summary in ("Done", "Done, with the appendix"):
                body = json.dumps(
                    {"type": "completion", "summary": summary, "mission": ref.to_claim()}
                ).encode()
                sent = await http.post(url, content=body, headers=agent.headers("POST", url, body))
                waiting.append(sent.headers["location"])
            problem(await poll(http, agent, waiting[0]), 403, "denied")
            assert "with the appendix" in (await alice.get(f"/missions/{ref.s256}")).text
            await act(alice, ref.s256, "accept")
            assert (await poll(http, agent, waiting[1])).json() == {"mission_status": "terminated"}

    run(scenario())


def test_completion_declined_keeps_the_mission_active(world: World) -> None:
    agent, app = world.agent(), world.app()

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            ref = await approved(http, alice, agent)
            url = f"{PS}/interaction"
            body = json.dumps(
                {"type": "completion", "summary": "Done", "mission": ref.to_claim()}
            ).encode()
            waiting = await http.post(url, content=body, headers=agent.headers("POST", url, body))
            assert "Completion declined" in (await act(alice, ref.s256, "decline")).text
            problem(await poll(http, agent, waiting.headers["location"]), 403, "denied")
            token = world.resource_token(agent, "docs.read", mission=ref)
            assert (await request_token(http, agent, token)).status_code == 200
            assert (await act(alice, ref.s256, "accept")).status_code == 400  # nothing to accept

    run(scenario())


async def token_under_mission(
    world: World, http: httpx.AsyncClient, alice: httpx.AsyncClient, agent: Agent
) -> tuple[MissionRef, str]:
    """Alice approves a mission; the agent gets an auth token under it: the mission, the
    token's ``jti``."""
    ref = await approved(http, alice, agent)
    token = world.resource_token(agent, "docs.read", mission=ref)
    issued = await request_token(http, agent, token)
    assert issued.status_code == 200, issued.text
    return ref, jwt.peek(issued.json()["auth_token"])[1]["jti"]


def test_the_person_revokes_the_mission(world: World) -> None:
    agent, app = world.agent(), world.app()

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            ref, _ = await token_under_mission(world, http, alice, agent)
            csrf = csrf_of((await alice.get(f"/missions/{ref.s256}")).text)
            revoked = await act(alice, ref.s256, "revoke")
            assert "Mission revoked" in revoked.text
            token = world.resource_token(agent, "docs.read", mission=ref)  # a fresh request
            problem(await request_token(http, agent, token), 403, "mission_terminated")
            page = await alice.get(f"/missions/{ref.s256}")
            assert "terminated (revoked)" in page.text
            # Without discovery (keys pinned) the resource cannot be told; the log says so.
            assert "token revoked" in page.text
            assert "no discovery configured" in page.text
            again = await alice.post(
                f"/missions/{ref.s256}", data={"csrf": csrf, "action": "revoke"}
            )
            assert again.status_code == 400  # already ended

    run(scenario())


def test_mission_pages_need_the_signed_in_owner_and_csrf(world: World) -> None:
    """PS-27: decisions need the signed-in person and the session's CSRF token; a person sees
    only their own missions."""
    agent, app = world.agent(), world.app(bind_on_first_approval=True)

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice, client(app) as bob:
            ref = await approved(http, alice, agent)
            listing = await alice.get("/missions")
            assert f"/missions/{ref.s256}" in listing.text
            assert "# Q3 report" in listing.text
            anonymous = await http.get(f"/missions/{ref.s256}")
            assert anonymous.status_code == 303
            assert "/login" in anonymous.headers["location"]
            page_url = f"/missions/{ref.s256}"
            forged = await alice.post(page_url, data={"csrf": "x", "action": "revoke"})
            assert forged.status_code == 403
            assert (await http.post(page_url, data={"action": "revoke"})).status_code == 401
            await sign_in(bob, "bob", BOB_PASSWORD)
            assert (await bob.get(f"/missions/{ref.s256}")).status_code == 404
            assert ref.s256 not in (await bob.get("/missions")).text
            assert (await bob.get("/missions/unknown")).status_code == 404
            page = await alice.get(f"/missions/{ref.s256}")
            unknown = await alice.post(
                f"/missions/{ref.s256}", data={"csrf": csrf_of(page.text), "action": "explode"}
            )
            assert unknown.status_code == 400
            assert unknown.headers["content-type"].startswith("text/html")

    run(scenario())


def test_another_person_cannot_approve_a_bound_agents_mission(world: World) -> None:
    agent = world.agent()
    app = world.app(bindings={agent.sub: "alice"})

    async def scenario() -> None:
        async with client(app) as http, client(app) as bob:
            proposed = await propose(http, agent)
            url, code = interaction_of(proposed)
            await sign_in(bob, "bob", BOB_PASSWORD)
            page = await open_consent(bob, url, code)
            assert page.status_code == 403  # PS-28

    run(scenario())


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"summary": "x"}, 400, "invalid_request"),
        ({"type": "dance"}, 400, "invalid_request"),
        (
            {"type": "payment", "url": "https://shop.example/pay", "code": "X"},
            424,
            "interaction_unavailable",
        ),
        ({"type": "question", "question": "Which?"}, 424, "interaction_unavailable"),
        ({"type": "completion", "summary": "done"}, 400, "invalid_request"),
        (
            {"type": "completion", "mission": {"approver": PS, "s256": "A" * 43}},
            400,
            "invalid_request",
        ),
        (
            {
                "type": "completion",
                "summary": "done",
                "mission": {"approver": PS, "s256": "A" * 43},
            },
            403,
            "mission_terminated",
        ),
    ],
)
def test_ps23_interaction_endpoint_errors(
    world: World, body: dict[str, Any], status: int, error: str
) -> None:
    agent, app = world.agent(), world.app()

    async def scenario() -> None:
        async with client(app) as http:
            url = f"{PS}/interaction"
            raw = json.dumps(body).encode()
            problem(
                await http.post(url, content=raw, headers=agent.headers("POST", url, raw)),
                status,
                error,
            )

    run(scenario())


@pytest.mark.parametrize(
    ("proposal", "status", "error"),
    [
        (b"[]", 400, "invalid_request"),
        (b'{"description": ""}', 400, "invalid_request"),
        (
            json.dumps({"description": "x", "resources": [{"resource": "ftp://x"}]}).encode(),
            400,
            "invalid_request",
        ),
    ],
)
def test_malformed_proposals(world: World, proposal: bytes, status: int, error: str) -> None:
    agent, app = world.agent(), world.app()

    async def scenario() -> None:
        async with client(app) as http:
            problem(await propose(http, agent, proposal), status, error)

    run(scenario())


def test_sub_agents_unsigned_and_foreign_agents_cannot_propose(world: World) -> None:
    app = world.app()
    sub_agent = world.agent("bot+1", parent="aauth:bot@ap.example")
    elsewhere = world.agent("roamer", ps="https://other-ps.example")

    async def scenario() -> None:
        async with client(app) as http:
            problem(await propose(http, sub_agent), 400, "invalid_request")  # PS-06
            problem(await propose(http, elsewhere), 400, "invalid_agent_token")
            unsigned = await http.post("/mission", content=json.dumps(PROPOSAL).encode())
            assert unsigned.status_code == 401

    run(scenario())


def test_a_mission_past_its_deadline_is_terminated(world: World) -> None:
    clock = Clock()
    agent = world.agent()
    app = create_person_server(world.config(), SQLiteStore(), key_source=world.keys, clock=clock)
    deadline = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(clock.now + 60))

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            ref = await approved(http, alice, agent, {**PROPOSAL, "expires_at": deadline})
            token = world.resource_token(agent, "docs.read", mission=ref)
            granted = await request_token(http, agent, token)
            exp = json.loads(_payload(granted.json()["auth_token"]))["exp"]
            assert exp <= clock.now + 60  # never outlives the mission
            clock.now += 120
            token = world.resource_token(agent, "docs.read", mission=ref, now=clock.now)
            problem(await request_token(http, agent, token), 403, "mission_terminated")
            assert "terminated (expired)" in (await alice.get(f"/missions/{ref.s256}")).text

    run(scenario())


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def _payload(token: str) -> bytes:
    from aauth_signing import b64url_decode

    return b64url_decode(token.split(".")[1])


def test_the_proposal_bytes_survive_unchanged_in_the_store(world: World) -> None:
    """What the agent receives is byte for byte what the PS stored and hashed (§H.6)."""
    agent, store = world.agent(), SQLiteStore()
    app = create_person_server(world.config(), store, key_source=world.keys)

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            ref = await approved(http, alice, agent)
            record = store.get("mission", ref.s256)
            assert record is not None
            assert mission_s256(record.value["blob"].encode()) == ref.s256
            assert MissionProposal.parse(
                json.dumps({"description": record.value["description"]}).encode(), now=0
            )

    run(scenario())


def test_bad_input_on_mission_routes_is_a_clear_4xx(world: World) -> None:
    agent, app = world.agent(), world.app()

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            url = f"{PS}/interaction"
            for raw in (b"not json", b"[1]", b'{"type": "completion", "summary": "\\u0007"}'):
                sent = await http.post(url, content=raw, headers=agent.headers("POST", url, raw))
                problem(sent, 400, "invalid_request")
            proposed, page, code = await under_review(http, alice, agent)
            target = page.url.path
            as_json = await alice.post(target, json={"decision": "approve"})
            assert as_json.status_code == 400
            form = {"csrf": csrf_of(page.text), "code": code, "decision": "approve"}
            huge = await alice.post(target, data={**form, "description": "x" * 9000})
            assert huge.status_code == 400
            blank = await alice.post(target, data={**form, "description": "   "})
            assert blank.status_code == 400
            assert (await alice.post(target, data={**form, "decision": "maybe"})).status_code == 400
            assert (await alice.get("/missions/proposal/nothing?code=AAAA-AAAA")).status_code == 404
            assert (await alice.get(f"{target}?code=WRNG-CODE")).status_code == 410
            # The proposal is still there to decide after all that.
            assert (await decide(alice, page)).status_code == 200
            assert (await poll(http, agent, proposed.headers["location"])).status_code == 200

    run(scenario())


def ap_signed_revocation(
    world: World, body: dict[str, Any], issuer: str = AP
) -> tuple[bytes, dict[str, str]]:
    """A revocation as the agent provider sends it: signed as itself (``jwks_uri``)."""
    raw = json.dumps(body).encode()
    identity = JwksUri(issuer, "aauth-agent.json", world.ap_keys.current_kid)
    signer = AgentSigner(world.ap_keys.current, identity=identity)
    headers = {"content-type": "application/json"}
    headers.update(signer.sign("POST", f"{PS}/revoke", headers, raw, scheme="jwks_uri"))
    return raw, headers


def test_ps24_v44_an_agent_provider_revokes_an_agent_token(world: World) -> None:
    """§F.11: the PS refuses every later request presenting the revoked agent token."""
    agent, app = world.agent(), world.app(trusted_agent_providers=(AP,))
    jti = decode_unverified(AGENT_TOKEN, agent.token).jti

    async def scenario() -> None:
        async with client(app) as http:
            metadata = (await http.get("/.well-known/aauth-person.json")).json()
            assert metadata["revocation_endpoint"] == f"{PS}/revoke"
            proposed = await propose(http, agent)
            assert proposed.status_code == 202
            raw, headers = ap_signed_revocation(world, {"iss": AP, "jti": jti})
            assert (await http.post("/revoke", content=raw, headers=headers)).status_code == 200
            again = {**PROPOSAL, "description": "Another mission"}
            body = problem(await propose(http, agent, again), 400, "invalid_agent_token")
            assert "revoked" in body["detail"]
            token = world.resource_token(agent)
            problem(await request_token(http, agent, token), 400, "invalid_agent_token")
            polled = await poll(http, agent, proposed.headers["location"])
            problem(polled, 400, "invalid_agent_token")
            for path in ("/permission", "/audit", "/interaction"):  # §F.9, §F.6 too
                raw = json.dumps({"action": "Run", "type": "interaction"}).encode()
                url = f"{PS}{path}"
                refused = await http.post(url, content=raw, headers=agent.headers("POST", url, raw))
                problem(refused, 400, "invalid_agent_token")
            assert (await propose(http, world.agent("fresh"))).status_code == 202  # others live

    run(scenario())


@pytest.mark.parametrize(
    ("body", "issuer", "status"),
    [
        ({"iss": AP}, AP, 400),
        ({"iss": AP, "jti": ""}, AP, 400),
        ({"iss": PS, "jti": "x"}, AP, 403),  # not the token's issuer
    ],
)
def test_v45_revocation_requests_that_are_refused(
    world: World, body: dict[str, Any], issuer: str, status: int
) -> None:
    app = world.app()

    async def scenario() -> None:
        async with client(app) as http:
            raw, headers = ap_signed_revocation(world, body, issuer)
            assert (await http.post("/revoke", content=raw, headers=headers)).status_code == status
            agent = world.agent()
            signed_as_agent = await http.post(
                "/revoke", content=raw, headers=agent.headers("POST", f"{PS}/revoke", raw)
            )
            assert signed_as_agent.status_code == 401  # agents sign with jwt; refused here

    run(scenario())
