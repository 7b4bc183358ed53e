"""The PS's interaction relay (§F.6): an agent's ``interaction``/``payment`` reaches the person
the agent is bound to on their own pages; the relay reports ``interacting`` and resolves when
they come back (PS-23 for what has no channel, AG-31 for what the relay's answer means)."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from aauth.pending import PendingRequests, PendingState
from aauth.server.person_server import create_person_server
from aauth.store import SQLiteStore

from .conftest import (
    ALICE_PASSWORD,
    BOB_PASSWORD,
    PS,
    Agent,
    World,
    client,
    csrf_of,
    go_on,
    interaction_of,
    open_consent,
    sign_in,
    signed,
)
from .test_ps_missions import act, approved
from .test_ps_token_endpoint import problem, run

PAGE = "http://127.0.0.1:9/confirm"
"""The resource's interaction page (loopback; never fetched, only admitted)."""


def relay_body(**members: Any) -> bytes:
    body = {"type": "interaction", "url": PAGE, "code": "X7K2-M9P4", **members}
    return json.dumps({k: v for k, v in body.items() if v is not None}).encode()


async def relay(http: httpx.AsyncClient, agent: Agent, body: bytes) -> httpx.Response:
    url = f"{PS}/interaction"
    return await http.post(url, content=body, headers=agent.headers("POST", url, body))


@pytest.fixture
def loop_world() -> World:
    return World(loopback=True)


def test_relay_reaches_the_bound_person_and_resolves_on_return(loop_world: World) -> None:
    """PS-23/AG-31: 202 with the relay's pending URL; the person sees it in their inbox,
    ``interacting`` once they press *Go to the page* (a POST with the session's CSRF token,
    PS-27), 200 ``relayed`` when they come back; coming back twice is a 404 page and changes
    nothing."""
    agent = loop_world.agent()
    app = loop_world.app(bindings={agent.sub: "alice"})

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            described = relay_body(description="Confirm the <b>booking</b>", type="payment")
            answer = await relay(http, agent, described)
            assert answer.status_code == 202, answer.text
            location = answer.headers["location"]
            assert location.startswith(f"{PS}/pending/")
            assert answer.json() == {"status": "pending"}
            await sign_in(alice, "alice", ALICE_PASSWORD)
            inbox = await alice.get("/relays")
            assert "approve a payment" in inbox.text
            link = inbox.text.split("href='", 1)[1].split("'", 1)[0]
            page = await alice.get(link)
            assert page.status_code == 200
            assert "&lt;b&gt;booking&lt;/b&gt;" in page.text  # untrusted, escaped (V-42)
            assert "X7K2-M9P4" in page.text
            assert PAGE in page.text
            policy = page.headers["content-security-policy"]
            assert "form-action 'self' http://127.0.0.1:9;" in policy  # the form's redirect
            went = await go_on(alice, link)
            assert went.status_code == 303
            target = urlsplit(went.headers["location"])
            assert f"{target.scheme}://{target.netloc}{target.path}" == PAGE
            query = parse_qs(target.query)
            assert query["code"] == ["X7K2-M9P4"]
            assert query["callback"] == [f"{PS}{link}/callback"]
            polled = await signed(http, agent, "GET", location)
            assert polled.status_code == 202
            assert polled.json() == {"status": "interacting"}
            back = await alice.get(f"{link}/callback")
            assert back.status_code == 200
            assert "Nothing is waiting" in (await alice.get("/relays")).text
            again = await alice.get(f"{link}/callback")  # a reload, or the link replayed
            assert again.status_code == 404
            assert "this relayed interaction has ended" in again.text
            done = await signed(http, agent, "GET", location)
            assert done.status_code == 200
            assert done.json() == {"relayed": True}  # reached, nothing about completion
            assert (await signed(http, agent, "GET", location)).status_code == 410

    run(scenario())


def test_relay_is_shown_to_the_bound_person_only(loop_world: World) -> None:
    agent = loop_world.agent()
    app = loop_world.app(bindings={agent.sub: "alice"})

    async def scenario() -> None:
        async with client(app) as http, client(app) as bob, client(app) as alice:
            answer = await relay(http, agent, relay_body())
            assert answer.status_code == 202
            url, code = interaction_of(answer)  # the PS's own code page leads there too
            await sign_in(bob, "bob", BOB_PASSWORD)
            assert "Nothing is waiting" in (await bob.get("/relays")).text
            assert (await open_consent(bob, url, code)).status_code == 404
            await sign_in(alice, "alice", ALICE_PASSWORD)
            page = await open_consent(alice, url, code)
            assert page.status_code == 200
            assert "X7K2-M9P4" in page.text
            assert (await bob.get("/relays/unknown")).status_code == 404
            csrf = csrf_of((await bob.get("/interact")).text)
            unknown = await bob.post("/relays/unknown/go", data={"csrf": csrf})
            assert unknown.status_code == 404
            anonymous = await http.get("/relays")
            assert anonymous.status_code == 303
            assert "/login" in anonymous.headers["location"]

    run(scenario())


def _refused(response: httpx.Response, status: int, code: str) -> None:
    """A refusal page (never a redirect on): ``status`` and the AAuth error ``code``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert f"<code id=error>{code}</code>" in response.text


def test_ps27_going_on_to_a_relayed_page_needs_a_post_with_the_sessions_csrf(
    loop_world: World,
) -> None:
    """PS-27/AG-31: ``GET /relays/{id}/go`` (what a cross-site link or image makes a
    signed-in browser send) is 405 and leaves the relay ``pending``; so does a POST without
    a form (400), without the CSRF token, with a wrong one, from another site (403
    ``forbidden``, as every form) or without a session (401); another signed-in person gets
    the 404 a relay not theirs always gets.
    Only the person's own form turns the relay ``interacting``, which the agent's poll sees."""
    agent = loop_world.agent()
    store = SQLiteStore()
    app = loop_world.app(store, bindings={agent.sub: "alice"})
    pending = PendingRequests(store)

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice, client(app) as bob:
            location = (await relay(http, agent, relay_body())).headers["location"]
            await sign_in(alice, "alice", ALICE_PASSWORD)
            inbox = await alice.get("/relays")
            link = inbox.text.split("href='", 1)[1].split("'", 1)[0]
            go = f"{link}/go"

            def state() -> PendingState:
                found = pending.by_interaction(link.rsplit("/", 1)[1])
                assert found is not None
                return found.state

            crossed = await alice.get(go)
            _refused(crossed, 405, "method_not_allowed")
            assert crossed.headers["allow"] == "POST"
            csrf = csrf_of((await alice.get(link)).text)
            _refused(await alice.post(go), 400, "invalid_request")  # not even a form
            _refused(await alice.post(go, data={"go": "1"}), 403, "forbidden")
            _refused(await alice.post(go, data={"csrf": csrf[::-1]}), 403, "forbidden")
            other_site = await alice.post(
                go, data={"csrf": csrf}, headers={"sec-fetch-site": "cross-site"}
            )
            _refused(other_site, 403, "forbidden")
            _refused(await http.post(go, data={"csrf": csrf}), 401, "access_denied")
            await sign_in(bob, "bob", BOB_PASSWORD)
            _refused(await bob.get(link), 404, "not_found")
            bobs = csrf_of((await bob.get("/interact")).text)
            _refused(await bob.post(go, data={"csrf": bobs}), 404, "not_found")
            _refused(await bob.post(go, data={"csrf": csrf}), 403, "forbidden")
            assert state() is PendingState.PENDING
            polled = await signed(http, agent, "GET", location)
            assert polled.json() == {"status": "pending"}

            went = await alice.post(go, data={"csrf": csrf})
            assert went.status_code == 303
            assert went.headers["location"].startswith(f"{PAGE}?code=X7K2-M9P4&callback=")
            assert state() is PendingState.INTERACTING
            polled = await signed(http, agent, "GET", location)
            assert polled.json() == {"status": "interacting"}

    run(scenario())


def test_relay_under_a_mission_is_logged_and_refused_once_it_ended(loop_world: World) -> None:
    """A named mission must be active: after revocation, 403 ``mission_terminated`` (PS-21)."""
    agent = loop_world.agent()
    app = loop_world.app(bindings={agent.sub: "alice"})

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            ref = await approved(http, alice, agent)
            mission = {"approver": ref.approver, "s256": ref.s256}
            assert (await relay(http, agent, relay_body(mission=mission))).status_code == 202
            assert "interaction relayed" in (await alice.get(f"/missions/{ref.s256}")).text
            assert (await act(alice, ref.s256, "revoke")).status_code == 200
            refused = await relay(http, agent, relay_body(mission=mission))
            problem(refused, 403, "mission_terminated")

    run(scenario())


@pytest.mark.parametrize(
    ("members", "status", "error"),
    [
        ({"url": "ftp://127.0.0.1/confirm"}, 400, "invalid_request"),
        ({"url": "http://shop.example/pay"}, 400, "invalid_request"),
        ({"url": f"{PAGE}?x=1"}, 400, "invalid_request"),
        ({"url": 7}, 400, "invalid_request"),
        ({"code": ""}, 400, "invalid_request"),
        ({"code": "C" * 300}, 400, "invalid_request"),
        ({"description": 5}, 400, "invalid_request"),
        ({"max_wait": 0}, 400, "invalid_request"),
        ({"max_wait": True}, 400, "invalid_request"),
        ({"mission": "nope"}, 400, "invalid_request"),
        ({"mission": {"approver": PS, "s256": "A" * 43}}, 403, "mission_terminated"),
        ({"url": "https://10.0.0.1/pay"}, 400, "egress_denied"),
        ({"url": "https://169.254.169.254/pay"}, 400, "egress_denied"),
    ],
)
def test_relay_refusals(
    loop_world: World, members: dict[str, Any], status: int, error: str
) -> None:
    """Bad members, a mission not active, a URL egress admission refuses (as PS-25)."""
    agent = loop_world.agent()
    app = loop_world.app(bindings={agent.sub: "alice"})

    async def scenario() -> None:
        async with client(app) as http:
            problem(await relay(http, agent, relay_body(**members)), status, error)

    run(scenario())


def test_relay_of_loopback_http_needs_the_ps_to_allow_it(world: World) -> None:
    agent = world.agent()
    app = world.app(bindings={agent.sub: "alice"})

    async def scenario() -> None:
        async with client(app) as http:
            problem(await relay(http, agent, relay_body()), 400, "invalid_request")

    run(scenario())


def test_ps23_relay_without_a_bound_person_is_interaction_unavailable(loop_world: World) -> None:
    """PS-23: no channel (no person bound to the agent) → 424, non-terminal; a ``question``
    has no channel either."""
    agent = loop_world.agent()
    app = loop_world.app()

    async def scenario() -> None:
        async with client(app) as http:
            problem(await relay(http, agent, relay_body()), 424, "interaction_unavailable")
            asked = json.dumps({"type": "question", "question": "Which?"}).encode()
            problem(await relay(http, agent, asked), 424, "interaction_unavailable")

    run(scenario())


def test_relay_for_an_agent_nobody_may_answer_is_user_unreachable(loop_world: World) -> None:
    agent = loop_world.agent()
    app = loop_world.app(bind_on_first_approval=False)

    async def scenario() -> None:
        async with client(app) as http:
            problem(await relay(http, agent, relay_body()), 403, "user_unreachable")

    run(scenario())


def test_relay_unsigned_or_wrongly_signed_is_refused(loop_world: World) -> None:
    agent = loop_world.agent()
    app = loop_world.app(bindings={agent.sub: "alice"})

    async def scenario() -> None:
        async with client(app) as http:
            body = relay_body()
            unsigned = await http.post(
                f"{PS}/interaction", content=body, headers={"content-type": "application/json"}
            )
            assert unsigned.status_code == 401
            headers = agent.headers("POST", f"{PS}/interaction", body)
            tampered = await http.post(
                f"{PS}/interaction", content=relay_body(code="OTHER"), headers=headers
            )
            assert tampered.status_code in (400, 401)

    run(scenario())


def test_relay_max_wait_bounds_the_relay(loop_world: World) -> None:
    """``max_wait``: the relay resolves (408 expired) once that window has elapsed."""
    agent = loop_world.agent()
    now = [time.time()]
    config = loop_world.config(bindings={agent.sub: "alice"})
    app = create_person_server(
        config, SQLiteStore(), key_source=loop_world.keys, clock=lambda: now[0]
    )

    async def scenario() -> None:
        async with client(app) as http:
            answer = await relay(http, agent, relay_body(max_wait=30))
            assert answer.status_code == 202
            location = answer.headers["location"]
            now[0] += 31
            problem(await signed(http, agent, "GET", location), 408, "expired")

    run(scenario())
