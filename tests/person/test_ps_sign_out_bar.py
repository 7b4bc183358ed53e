"""Every page the person server shows a signed-in person names them and ends with the Sign
out form (docs/person-server.md); pressing it signs them out. Pages for someone not signed in
never show it. One in-process walk through every page collects them; the tests check each."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable
from html import unescape
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from aauth.tokens import Interaction

from .conftest import (
    ALICE_PASSWORD,
    World,
    client,
    csrf_of,
    decide,
    go_on,
    interaction_of,
    open_consent,
    post_login,
    request_token,
    sign_in,
)
from .test_ps_interaction_relay import relay, relay_body
from .test_ps_missions import act, approved, propose
from .test_ps_permission import SEND, answer, post, under
from .test_ps_question import ask, question_body

_BAR = re.compile(
    r"<div class=bar><span>Signed in as <strong>Alice</strong></span>"
    r"<form method=post action='/logout'><input type=hidden name=csrf value='([^']+)'>"
    r"<button type=submit id=sign-out>Sign out</button></form></div></body>"
)
_LINK = re.compile(r"href='(/relays/[^']+)'")


async def _inbox_links(alice: httpx.AsyncClient) -> list[str]:
    return _LINK.findall((await alice.get("/relays")).text)


async def _signed_in_pages(world: World) -> dict[str, httpx.Response]:
    """Alice, signed in, walks through every kind of page the person server has."""
    agent = world.agent()
    app = world.app(bindings={agent.sub: "alice"})
    pages: dict[str, httpx.Response] = {}

    async def keep(name: str, response: Awaitable[httpx.Response]) -> httpx.Response:
        pages[name] = await response
        return pages[name]

    async with client(app) as http, client(app) as alice:
        await sign_in(alice, "alice", ALICE_PASSWORD)
        await keep("code entry", alice.get("/interact"))
        await keep("wrong code", alice.get("/interact", params={"code": "NOPE-NOPE"}))
        await keep("no such relay (a refusal)", alice.get("/relays/nothing-here"))

        # A token request: the consent page, then its outcome.
        asked = await request_token(http, agent, world.resource_token(agent))
        consent = await keep("consent", open_consent(alice, *interaction_of(asked)))
        await keep("access approved", decide(alice, consent))

        # A relayed interaction and a question: the inbox, their pages, their outcomes.
        assert (await relay(http, agent, relay_body())).status_code == 202
        (link,) = await _inbox_links(alice)
        await keep("relay", alice.get(link))
        assert (await go_on(alice, link)).status_code == 303
        await keep("relay done", alice.get(f"{link}/callback"))
        await keep("relay ended (a refusal)", alice.get(f"{link}/callback"))
        assert (await ask(http, agent, question_body())).status_code == 202
        await keep("relay inbox", alice.get("/relays"))
        (link,) = await _inbox_links(alice)
        question = await keep("question", alice.get(link))
        form = {"csrf": csrf_of(question.text), "decision": "answer", "answer": "Yes"}
        await keep("answer sent", alice.post(link, data=form))

        # A mission: its proposal, the missions, the mission, a permission under it.
        proposed = await propose(http, agent)
        await keep("mission proposal", open_consent(alice, *interaction_of(proposed)))
        ref = await approved(http, alice, agent)
        await keep("missions", alice.get("/missions"))
        await keep("mission", alice.get(f"/missions/{ref.s256}"))
        permission = await post(http, agent, "/permission", under(ref, **SEND))
        page = await keep("permission", open_consent(alice, *interaction_of(permission)))
        await keep("action allowed", answer(alice, page, "approve"))
        await keep("mission revoked", act(alice, ref.s256, "revoke"))
        await keep("audit", alice.get("/audit"))

        # A resource that needs the person on its own page first (PS-25): the code and link
        # on, and the outcome when it sends the person back with an error (PS-26).
        interaction = Interaction("http://127.0.0.1:9/connect", "K7M2-P9QX")
        token = world.resource_token(agent, interaction=interaction)
        url, code = interaction_of(await request_token(http, agent, token))
        step = await keep("resource relay", open_consent(alice, url, code))
        onward = re.search(r"<a id=continue href='([^']+)'>", step.text)
        assert onward is not None, step.text
        (back,) = parse_qs(urlsplit(unescape(onward.group(1))).query)["callback"]
        await keep("resource step ended", alice.get(back, params={"error": "access_denied"}))
    return pages


@pytest.fixture(scope="module")
def signed_in_pages() -> dict[str, httpx.Response]:
    return asyncio.run(_signed_in_pages(World(loopback=True)))


PAGES = [
    "code entry",
    "wrong code",
    "no such relay (a refusal)",
    "consent",
    "access approved",
    "relay inbox",
    "relay",
    "relay done",
    "relay ended (a refusal)",
    "question",
    "answer sent",
    "mission proposal",
    "missions",
    "mission",
    "permission",
    "action allowed",
    "mission revoked",
    "audit",
    "resource relay",
    "resource step ended",
]


@pytest.mark.parametrize("name", PAGES)
def test_a_signed_in_persons_page_ends_with_who_and_sign_out(
    signed_in_pages: dict[str, httpx.Response], name: str
) -> None:
    """The bar is the page's last form, with the session's CSRF token (PS-27)."""
    page = signed_in_pages[name]
    assert page.headers["content-type"].startswith("text/html"), page.text
    bar = _BAR.search(page.text)
    assert bar is not None, page.text
    assert page.text.rfind("<form") == page.text.find("<form method=post action='/logout'>")
    assert bar.group(1) == csrf_of(signed_in_pages["code entry"].text)


def test_the_walk_checks_every_page_it_visits(signed_in_pages: dict[str, httpx.Response]) -> None:
    assert sorted(signed_in_pages) == sorted(PAGES)


def test_pressing_sign_out_signs_out(world: World) -> None:
    """The bar's form (POST /logout with the page's CSRF) ends the session: the next page
    asks to sign in, and the signed-out page shows no bar."""
    app = world.app()

    async def scenario() -> None:
        async with client(app) as alice:
            await sign_in(alice, "alice", ALICE_PASSWORD)
            page = await alice.get("/relays")
            bar = _BAR.search(page.text)
            assert bar is not None
            out = await alice.post("/logout", data={"csrf": bar.group(1)})
            assert out.status_code == 200
            assert "You are signed out." in out.text
            assert "id=sign-out" not in out.text
            again = await alice.get("/relays")
            assert again.status_code == 303
            assert again.headers["location"].startswith("/login")

    asyncio.run(scenario())


def test_pages_for_someone_not_signed_in_have_no_bar(world: World) -> None:
    """The sign-in page, a wrong password, a decision without a session, a refusal before
    sign-in and an unknown page: none names anyone or offers to sign out."""
    agent = world.agent()
    app = world.app()

    async def scenario() -> list[httpx.Response]:
        async with client(app) as http, client(app) as stranger:
            asked = await request_token(http, agent, world.resource_token(agent))
            url, code = interaction_of(asked)
            assert (await stranger.get(url, params={"code": code})).status_code == 303
            return [
                await stranger.get("/login"),
                await post_login(stranger, "alice", "wrong"),
                await stranger.post("/interact/some-id", data={"decision": "approve"}),
                await stranger.post("/permissions/some-id", data={"decision": "approve"}),
                await stranger.post("/logout", data={"csrf": "x"}),
                await stranger.get("/relays/a/b/c"),
            ]

    pages = asyncio.run(scenario())
    assert [page.status_code for page in pages] == [200, 401, 401, 401, 403, 404]
    for page in pages:
        assert "Signed in as" not in page.text
        assert "id=sign-out" not in page.text


def test_answers_given_before_the_session_is_looked_at_have_no_bar(world: World) -> None:
    """As the docs say: an address or method the server does not serve, and a form another
    site sent, are answered before the session is read, so even Alice sees no bar there."""
    app = world.app()

    async def scenario() -> list[httpx.Response]:
        async with client(app) as alice:
            await sign_in(alice, "alice", ALICE_PASSWORD)
            forged = {"sec-fetch-site": "cross-site"}
            return [
                await alice.get("/relays/a/b/c"),
                await alice.put("/missions"),
                await alice.post("/logout", data={"csrf": "x"}, headers=forged),
            ]

    pages = asyncio.run(scenario())
    assert [page.status_code for page in pages] == [404, 405, 403]
    assert not any("id=sign-out" in page.text for page in pages)
