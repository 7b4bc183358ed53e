"""Phase 4 at the person server: a person signs in, reviews and decides; the agent's long poll
returns the moment they do (§F.4, §F.5, §H.5)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from aauth.errors import InvalidRequest
from aauth.keysource import StaticKeySource
from aauth.person import Grant
from aauth.person.consent import checked_callback
from aauth.server.person_server import create_person_server
from aauth.store import SQLiteStore
from aauth.tokens import TokenVerifier

from .conftest import (
    AGENT,
    ALICE_PASSWORD,
    BOB_PASSWORD,
    PS,
    RESOURCE,
    Agent,
    World,
    client,
    csrf_of,
    decide,
    interaction_of,
    open_consent,
    post_login,
    request_token,
    sign_in,
    signed,
)


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


async def deferred(
    http: httpx.AsyncClient, world: World, agent: Agent, scope: str = "docs.read", **members: Any
) -> tuple[str, str, str]:
    """A token request that needs a person: ``(pending URL, interaction url, code)``."""
    response = await request_token(http, agent, world.resource_token(agent, scope), **members)
    assert response.status_code == 202, response.text
    url, code = interaction_of(response)
    return response.headers["location"], url, code


def test_phase4_person_approves_and_the_waiting_agent_gets_its_token(world: World) -> None:
    agent = world.agent()
    app = world.app()

    async def scenario() -> None:
        async with client(app) as agent_http, client(app) as alice:
            jwks = (await agent_http.get("/.well-known/jwks.json")).json()
            location, url, code = await deferred(
                agent_http, world, agent, justification="I need <b>your</b> Q3 report"
            )
            assert url == f"{PS}/interact"
            first_poll = asyncio.create_task(
                signed(agent_http, agent, "GET", location, prefer="wait=30")
            )
            await sign_in(alice, "alice", ALICE_PASSWORD)
            page = await open_consent(alice, url, code)
            assert page.status_code == 200
            assert code in page.text
            assert "&lt;b&gt;your&lt;/b&gt;" in page.text  # V-42: escaped, never HTML
            assert "<b>your</b>" not in page.text
            assert page.headers["content-security-policy"].startswith("default-src 'none'")
            interacting = await asyncio.wait_for(first_poll, 5)  # woken by the page view
            assert interacting.status_code == 202
            assert interacting.json() == {"status": "interacting"}
            assert interacting.headers["preference-applied"] == "wait=30"
            assert interacting.headers["retry-after"] == "0"

            poll = asyncio.create_task(signed(agent_http, agent, "GET", location, prefer="wait=30"))
            await asyncio.sleep(0)
            done = await decide(alice, page)
            assert done.status_code == 200
            assert "approved" in done.text
            granted = await asyncio.wait_for(poll, 0.05)  # the moment the person decides
            assert granted.status_code == 200, granted.text
            body = granted.json()
            verifier = TokenVerifier(StaticKeySource({PS: jwks}))
            claims = verifier.verify_auth_token(
                body["auth_token"],
                audience=RESOURCE,
                agent=AGENT,
                request_jkt=agent.signer.thumbprint,
            )
            assert claims.sub is not None  # approved by a person: a directed subject
            assert claims.scope == ("docs.read",)

            again = await signed(agent_http, agent, "GET", location)  # V-33
            assert again.status_code == 410
            assert again.json()["error"] == "gone"

    run(scenario())


def test_approval_is_remembered_and_binds_the_agent(world: World) -> None:
    agent = world.agent()
    app = world.app()

    async def scenario() -> None:
        async with client(app) as agent_http, client(app) as alice, client(app) as bob:
            _, url, code = await deferred(agent_http, world, agent)
            await sign_in(alice, "alice", ALICE_PASSWORD)
            await decide(alice, await open_consent(alice, url, code))
            again = await request_token(agent_http, agent, world.resource_token(agent))
            assert again.status_code == 200  # remembered consent, same scope
            wider = await request_token(
                agent_http, agent, world.resource_token(agent, "docs.read docs.write")
            )
            assert wider.status_code == 202  # more than was approved: ask again
            # PS-28: the agent is Alice's now; Bob can neither see nor decide its requests
            url, code = interaction_of(wider)
            await sign_in(bob, "bob", BOB_PASSWORD)
            page = await open_consent(bob, url, code)
            assert page.status_code == 403
            assert "another person" in page.text

    run(scenario())


def test_ps28_configured_binding_keeps_other_people_out(world: World) -> None:
    agent = world.agent()
    app = world.app(bindings={AGENT: "alice"})

    async def scenario() -> None:
        async with client(app) as agent_http, client(app) as bob:
            location, url, code = await deferred(agent_http, world, agent)
            await sign_in(bob, "bob", BOB_PASSWORD)
            page = await open_consent(bob, url, code)
            assert page.status_code == 403
            interaction = page.url.path
            csrf = csrf_of((await bob.get("/interact")).text)
            attempt = await bob.post(
                interaction, data={"csrf": csrf, "code": code, "decision": "approve"}
            )
            assert attempt.status_code == 403
            poll = await signed(agent_http, agent, "GET", location)
            assert poll.status_code == 202
            assert poll.json() == {"status": "pending"}  # Bob's view did not count

    run(scenario())


def test_denied_consent_is_403_then_410(world: World) -> None:
    agent = world.agent()
    app = world.app()

    async def scenario() -> None:
        async with client(app) as agent_http, client(app) as alice:
            location, url, code = await deferred(agent_http, world, agent)
            await sign_in(alice, "alice", ALICE_PASSWORD)
            done = await decide(alice, await open_consent(alice, url, code), "deny")
            assert "denied" in done.text
            denied = await signed(agent_http, agent, "GET", location)
            assert denied.status_code == 403
            assert denied.json()["error"] == "denied"
            assert "signature-error" not in denied.headers
            gone = await signed(agent_http, agent, "GET", location)
            assert gone.status_code == 410
            # nothing was remembered: the next request asks again
            retry = await request_token(agent_http, agent, world.resource_token(agent))
            assert retry.status_code == 202

    run(scenario())


def test_v37_used_code_is_refused(world: World) -> None:
    agent = world.agent()
    app = world.app()

    async def scenario() -> None:
        async with client(app) as agent_http, client(app) as alice:
            _, url, code = await deferred(agent_http, world, agent)
            await sign_in(alice, "alice", ALICE_PASSWORD)
            page = await open_consent(alice, url, code)
            await decide(alice, page)
            reused = await alice.get(page.url)
            assert reused.status_code == 410
            assert "already been used" in reused.text
            second = await decide(alice, page)  # resubmitting the form
            assert second.status_code == 410
            typed = await alice.get("/interact", params={"code": code})
            assert typed.status_code == 400  # on the code page: shown again with the error

    run(scenario())


def test_v38_five_wrong_codes_end_the_request_with_invalid_code(world: World) -> None:
    agent = world.agent()
    app = world.app()

    async def scenario() -> None:
        async with client(app) as agent_http, client(app) as alice:
            location, url, code = await deferred(agent_http, world, agent)
            await sign_in(alice, "alice", ALICE_PASSWORD)
            page = await open_consent(alice, url, code)
            interaction = page.url.path
            wrong = "0000-0000" if code != "0000-0000" else "1111-1111"
            for _ in range(5):
                attempt = await alice.get(interaction, params={"code": wrong})
                assert attempt.status_code == 410
            right = await alice.get(interaction, params={"code": code})
            assert right.status_code == 410
            ended = await signed(agent_http, agent, "GET", location)
            assert ended.status_code == 410
            assert ended.json()["error"] == "invalid_code"
            assert (await signed(agent_http, agent, "GET", location)).json()["error"] == "gone"

    run(scenario())


def test_code_page_limits_guesses_per_session(world: World) -> None:
    app = world.app()

    async def scenario() -> None:
        async with client(app) as alice:
            await sign_in(alice, "alice", ALICE_PASSWORD)
            form = await alice.get("/interact")
            assert form.status_code == 200
            assert "Enter the code" in form.text
            statuses = [
                (await alice.get("/interact", params={"code": "ZZZZ-ZZZZ"})).status_code
                for _ in range(11)
            ]
            assert statuses[:10] == [400] * 10
            assert statuses[10] == 429

    run(scenario())


def test_v39_expired_request_fails_with_expired_everywhere() -> None:
    world = World()
    clock = Clock()
    agent = world.agent()
    store = SQLiteStore(clock=clock)
    app = create_person_server(
        world.config(pending_lifetime=60), store, key_source=world.keys, clock=clock
    )

    async def scenario() -> None:
        async with client(app) as agent_http, client(app) as alice:
            location, url, code = await deferred(agent_http, world, agent)
            await sign_in(alice, "alice", ALICE_PASSWORD)
            clock.now += 61
            page = await open_consent(alice, url, code)
            assert page.status_code == 408
            assert "expired" in page.text
            expired = await signed(agent_http, agent, "GET", location)
            assert expired.status_code == 408
            assert expired.json()["error"] == "expired"
            assert (await signed(agent_http, agent, "GET", location)).status_code == 410
            again = await open_consent(alice, url, code)
            assert again.status_code == 408

    run(scenario())


def test_ps10_pending_request_ends_with_the_agent_token() -> None:
    world = World()
    clock = Clock()
    agent = world.agent(lifetime=120)
    app = create_person_server(
        world.config(), SQLiteStore(clock=clock), key_source=world.keys, clock=clock
    )

    async def scenario() -> None:
        async with client(app) as agent_http:
            location, _, _ = await deferred(agent_http, world, agent)
            clock.now += 121
            expired = await signed(agent_http, agent, "GET", location)
            assert expired.status_code in (401, 408)  # the agent's own token has expired too

    run(scenario())


def test_ps27_decisions_need_a_signed_in_person_and_csrf(world: World) -> None:
    agent = world.agent()
    app = world.app()

    async def scenario() -> None:
        async with client(app) as agent_http, client(app) as alice, client(app) as anonymous:
            location, url, code = await deferred(agent_http, world, agent)
            # the link without a session leads to the sign-in page, code kept in `next`
            first = await anonymous.get(url, params={"code": code})
            assert first.status_code == 303
            assert first.headers["location"].startswith("/login?next=")
            await sign_in(alice, "alice", ALICE_PASSWORD)
            page = await open_consent(alice, url, code)
            interaction = page.url.path
            form = {"csrf": csrf_of(page.text), "code": code, "decision": "approve"}
            unauthenticated = await anonymous.post(interaction, data=form)
            assert unauthenticated.status_code == 401
            forged = await alice.post(interaction, data={**form, "csrf": "forged"})
            assert forged.status_code == 403
            no_form = await alice.post(interaction, json=form)
            assert no_form.status_code == 400
            odd = await alice.post(interaction, data={**form, "decision": "maybe"})
            assert odd.status_code == 400
            still = await signed(agent_http, agent, "GET", location)
            assert still.json() == {"status": "interacting"}

    run(scenario())


def test_login_form_rejects_wrong_passwords_and_backs_off(world: World) -> None:
    app = world.app()

    async def scenario() -> None:
        async with client(app) as http:
            statuses = [
                (await post_login(http, "alice", "nope", next="//evil.example")).status_code
                for _ in range(6)
            ]
            assert statuses[:5] == [401] * 5
            assert statuses[5] == 429  # this address backs off for this account
            right = await post_login(http, "alice", ALICE_PASSWORD)
            assert right.status_code == 429
            assert int(right.headers["retry-after"]) >= 1

    run(scenario())


def test_session_cookie_flags_and_logout(world: World) -> None:
    app = world.app()

    async def scenario() -> None:
        async with client(app) as http:
            response = await post_login(http, "bob", BOB_PASSWORD, next="//evil.example")
            assert response.status_code == 303
            assert response.headers["location"] == "/interact"  # no open redirect
            cookie = next(
                c.lower()
                for c in response.headers.get_list("set-cookie")
                if c.startswith("aauth_ps_session=")
            )
            assert "httponly" in cookie
            assert "samesite=lax" in cookie
            assert "secure" in cookie
            already = await http.get("/login", params={"next": "/interact"})
            assert already.status_code == 303
            csrf = csrf_of((await http.get("/interact")).text)
            assert (await http.post("/logout", data={"csrf": "x"})).status_code == 403
            out = await http.post("/logout", data={"csrf": csrf})
            assert out.status_code == 200
            assert (await http.get("/interact")).status_code == 303

    run(scenario())


def test_callback_must_be_the_agents_registered_endpoint(world: World) -> None:
    """Without the agent provider's published callback_endpoint no callback is followed."""
    agent = world.agent()
    app = world.app()

    async def scenario() -> None:
        async with client(app) as agent_http, client(app) as alice:
            location, url, code = await deferred(agent_http, world, agent)
            await sign_in(alice, "alice", ALICE_PASSWORD)
            page = await alice.get(
                url,
                params={"code": code, "callback": "https://evil.example/cb"},
                follow_redirects=True,
            )
            assert page.status_code == 400
            assert "callback" in page.text
            poll = await signed(agent_http, agent, "GET", location)
            assert poll.json() == {"status": "pending"}

    run(scenario())


def test_prompt_login_asks_for_a_fresh_sign_in(world: World) -> None:
    agent = world.agent()
    app = world.app()

    async def scenario() -> None:
        async with client(app) as agent_http, client(app) as alice:
            await sign_in(alice, "alice", ALICE_PASSWORD)
            _, url, code = await deferred(agent_http, world, agent, prompt="login")
            stale = await alice.get(url, params={"code": code}, follow_redirects=True)
            assert stale.url.path == "/login"
            await sign_in(alice, "alice", ALICE_PASSWORD)
            fresh = await open_consent(alice, url, code)
            assert fresh.status_code == 200
            assert "Approve" in fresh.text

    run(scenario())


def test_device_and_platform_are_shown_escaped(world: World) -> None:
    agent = world.agent()
    app = world.app()

    async def scenario() -> None:
        async with client(app) as agent_http, client(app) as alice:
            _, url, code = await deferred(
                agent_http, world, agent, device="Bob's <laptop>", platform="desktop"
            )
            await sign_in(alice, "alice", ALICE_PASSWORD)
            page = await open_consent(alice, url, code)
            assert "Bob&#x27;s &lt;laptop&gt;" in page.text
            assert "desktop" in page.text

    run(scenario())


@pytest.mark.parametrize("path", ["/interact/unknown?code=0000-0000", "/interact/x"])
def test_unknown_interactions_are_pages_not_errors(world: World, path: str) -> None:
    async def scenario() -> httpx.Response:
        async with client(world.app()) as alice:
            await sign_in(alice, "alice", ALICE_PASSWORD)
            return await alice.get(path)

    response = run(scenario())
    assert response.headers["content-type"].startswith("text/html")
    assert response.status_code in (200, 404)


def test_unknown_person_facing_paths_are_pages(world: World) -> None:
    async def scenario() -> httpx.Response:
        async with client(world.app()) as http:
            return await http.delete("/interact")

    response = run(scenario())
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    ("callback", "allowed"),
    [
        ("https://ap.example/cb", True),
        ("https://ap.example/cb?state=1", True),
        ("https://ap.example/cb#frag", False),
        ("https://ap.example/other", False),
        ("https://ap.example.evil.example/cb", False),
        ("https://user@ap.example/cb", False),
        ("javascript:alert(1)", False),
        ("http://127.0.0.1:8765/done", True),  # localhost_callback_allowed
        ("http://127.0.0.1/done", False),  # a loopback callback names its port
        ("https://ap.example/c b", False),
        ("https://ap.example/" + "x" * 3000, False),
    ],
)
def test_callbacks_are_checked_against_the_agents_metadata(callback: str, allowed: bool) -> None:
    grant = Grant(
        agent_iss="https://ap.example",
        agent=AGENT,
        cnf_jwk={},
        agent_exp=0,
        resource=RESOURCE,
        scope=("docs.read",),
        callback_endpoint="https://ap.example/cb",
        localhost_callback_allowed=True,
    )
    if allowed:
        assert checked_callback(grant, callback) == callback
    else:
        with pytest.raises(InvalidRequest):
            checked_callback(grant, callback)
    assert checked_callback(grant, None) is None
