"""The negative matrix, server rows (issue 9): flows, pages, sessions, CSRF, code guessing,
lockout and JSON bodies, each an :class:`~tests.security.matrix.HttpCase` with the exact
status and AAuth error code it must get over HTTP (the participants' ASGI apps in-process, a
fresh server per row). A row's ``send`` takes that server: a :class:`Lab` (person server) or
an :class:`Api` (resource).

Agent-facing answers are checked with :func:`assert_http_refused` (problem+json); a
person-facing page must show its code (``<code id=error>``). A row with no code is a positive
control: the same request done right.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import httpx
import pytest

from aauth.keys import KeySet
from aauth.keysource import StaticKeySource
from aauth.server.person_server import create_person_server
from aauth.server.resource_server import ResourceServerConfig, create_resource_server
from aauth.store import SQLiteStore

from ..person.conftest import (
    ALICE_PASSWORD,
    BOB_PASSWORD,
    PS,
    World,
    client,
    csrf_of,
    interaction_of,
    post_login,
    request_token,
    sign_in,
    signed,
)
from ..resource_server.conftest import API, Api
from .matrix import HttpCase, assert_http_refused, http_cases

_PAGE_ERROR = re.compile(r"<code id=error>([^<]+)</code>")
_SIG_ERROR = re.compile(r'error="?([a-z_]+)')
EVIL = "https://evil.example"
LOGIN_COOKIE = "__Host-aauth_ps_login"  # the sign-in form's cookie on an https server


def error_code(response: httpx.Response) -> str | None:
    """The AAuth error code a response carries, wherever it carries it."""
    kind = response.headers.get("content-type", "")
    if kind.startswith("application/problem+json"):
        value = response.json().get("error")
        return value if isinstance(value, str) else None
    signature_error = response.headers.get("signature-error")
    if signature_error:
        match = _SIG_ERROR.match(signature_error)
        return match.group(1) if match else None
    if kind.startswith("text/html"):
        match = _PAGE_ERROR.search(response.text)
        return match.group(1) if match else None
    return None


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@dataclass
class Lab:
    """One fresh person server (in memory, its own clock) and the world it trusts."""

    world: World = field(default_factory=World)
    clock: Clock = field(default_factory=Clock)

    def __post_init__(self) -> None:
        store = SQLiteStore(clock=self.clock)
        self.app = create_person_server(
            self.world.config(), store, key_source=self.world.keys, clock=self.clock
        )

    def browser(self, address: str = "127.0.0.1") -> httpx.AsyncClient:
        return client(self.app, address=address)

    async def pending(self, http: httpx.AsyncClient) -> tuple[Any, str, str, str]:
        """A token request waiting for a person: ``(agent, pending URL, interaction URL,
        code)``."""
        agent = self.world.agent()
        response = await request_token(http, agent, self.world.resource_token(agent))
        assert response.status_code == 202, response.text
        url, code = interaction_of(response)
        return agent, response.headers["location"], url, code

    async def consent_page(self, http: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
        """Signed in as alice, on a consent page: ``(form action, form fields)``."""
        _, _, url, code = await self.pending(http)
        await sign_in(http, "alice", ALICE_PASSWORD)
        page = await http.get(url, params={"code": code}, follow_redirects=True)
        assert page.status_code == 200, page.text
        return page.url.path, {"csrf": csrf_of(page.text), "code": code, "decision": "approve"}

    async def wrong_logins(self, count: int, *, address: str, user: str = "alice") -> None:
        async with self.browser(address) as http:
            for _ in range(count):
                response = await post_login(http, user, "wrong")
                assert response.status_code == 401, response.text

    async def wrong_codes(self, http: httpx.AsyncClient, count: int) -> None:
        for _ in range(count):
            response = await http.get("/interact", params={"code": "ZZZZ-ZZZZ"})
            assert response.status_code == 400, response.text


Run = Callable[[Lab], Awaitable[httpx.Response]] | Callable[[Api], httpx.Response]
CASES: list[HttpCase] = []


def case(name: str, status: int, code: str | None, covers: str = "") -> Callable[[Run], Run]:
    """Register a row; ``covers`` lists §K IDs and issue items, comma-separated."""

    def register(run: Run) -> Run:
        ids = [part.strip() for part in covers.split(",") if part.strip()]
        CASES.append(HttpCase(name, run, status, code or "", *ids))  # type: ignore[arg-type]
        return run

    return register


# -- login CSRF and cross-site form posts (issue 9 item 3) ---------------------------------------


async def _login(
    lab: Lab, *, headers: dict[str, str] | None = None, **changes: str | None
) -> httpx.Response:
    """One sign-in form submission as alice, with ``changes`` to its fields (None drops one)."""
    async with lab.browser() as http:
        form = await http.get("/login")
        data: dict[str, str] = {
            "username": "alice",
            "password": ALICE_PASSWORD,
            "csrf": csrf_of(form.text),
        }
        for name, value in changes.items():
            if value is None:
                data.pop(name, None)
            else:
                data[name] = value
        return await http.post("/login", data=data, headers=headers)


@case("login: the form done right", 303, None, "PS-27")
async def _(lab: Lab) -> httpx.Response:
    return await _login(lab)


@case("login: no CSRF field", 403, "forbidden", "item 3")
async def _(lab: Lab) -> httpx.Response:
    return await _login(lab, csrf=None)


@case("login: cookie and field from two forms", 403, "forbidden", "item 3")
async def _(lab: Lab) -> httpx.Response:
    async with lab.browser() as other:
        token = csrf_of((await other.get("/login")).text)
    return await _login(lab, csrf=token)


async def _form_token(lab: Lab) -> str:
    """The CSRF token of a sign-in form shown to some browser."""
    async with lab.browser() as other:
        return csrf_of((await other.get("/login")).text)


async def _submit(lab: Lab, field: str, cookie: str | None, *, later: float = 0) -> httpx.Response:
    """Alice's right password, with ``field`` as the form's token and ``cookie`` as its
    cookie (None: no cookie), ``later`` seconds on."""
    lab.clock.now += later
    async with lab.browser() as http:
        if cookie is not None:
            http.cookies.set(LOGIN_COOKIE, cookie, domain="ps.example")
        data = {"username": "alice", "password": ALICE_PASSWORD, "csrf": field}
        return await http.post("/login", data=data)


async def _forged(lab: Lab) -> httpx.Response:
    forged = (await _form_token(lab)).rsplit(".", 1)[0] + ".AAAA"
    return await _submit(lab, forged, forged)


async def _foreign(lab: Lab) -> httpx.Response:
    token = await _form_token(Lab())
    return await _submit(lab, token, token)


async def _token_only(lab: Lab, *, cookie: bool, later: float = 0) -> httpx.Response:
    token = await _form_token(lab)
    return await _submit(lab, token, token if cookie else None, later=later)


for _name, _run in [
    ("CSRF field without its cookie", lambda lab: _token_only(lab, cookie=False)),
    ("token with a forged MAC", _forged),
    ("token of another person server", _foreign),
    ("expired sign-in form", lambda lab: _token_only(lab, cookie=True, later=3601)),
]:
    case(f"login: {_name}", 403, "forbidden", "item 3")(_run)
case("login: a token and its cookie, on time", 303, None, "item 3")(
    lambda lab: _token_only(lab, cookie=True, later=3500)
)


@case("login: a second tab keeps the first form valid", 303, None, "item 3")
async def _(lab: Lab) -> httpx.Response:
    async with lab.browser() as http:
        first = csrf_of((await http.get("/login")).text)
        await http.get("/login")  # the same sign-in page opened again
        data = {"username": "alice", "password": ALICE_PASSWORD, "csrf": first}
        return await http.post("/login", data=data)


@case("missions: a cross-site POST to a mission", 403, "forbidden", "item 3")
async def _(lab: Lab) -> httpx.Response:
    async with lab.browser() as http:
        await sign_in(http, "alice", ALICE_PASSWORD)
        form = {"csrf": "x", "action": "revoke"}
        return await http.post(f"/missions/{'A' * 43}", data=form, headers={"Origin": EVIL})


@case("missions: a cross-site POST to a proposal", 403, "forbidden", "item 3")
async def _(lab: Lab) -> httpx.Response:
    async with lab.browser() as http:
        await sign_in(http, "alice", ALICE_PASSWORD)
        headers = {"Sec-Fetch-Site": "cross-site"}
        return await http.post("/missions/proposal/x", data={"csrf": "x"}, headers=headers)


@case("missions: acting without a session", 401, "access_denied", "PS-27")
async def _(lab: Lab) -> httpx.Response:
    async with lab.browser() as http:
        return await http.post(f"/missions/{'A' * 43}", data={"action": "revoke"})


@case("login: Origin of another site", 403, "forbidden", "item 3")
async def _(lab: Lab) -> httpx.Response:
    return await _login(lab, headers={"Origin": EVIL})


@case("login: Origin on another port", 403, "forbidden", "item 3")
async def _(lab: Lab) -> httpx.Response:
    return await _login(lab, headers={"Origin": f"{PS}:8443"})


@case("login: Origin over http", 403, "forbidden", "item 3")
async def _(lab: Lab) -> httpx.Response:
    return await _login(lab, headers={"Origin": PS.replace("https", "http")})


@case("login: Sec-Fetch-Site cross-site", 403, "forbidden", "item 3")
async def _(lab: Lab) -> httpx.Response:
    return await _login(lab, headers={"Sec-Fetch-Site": "cross-site"})


@case("login: Sec-Fetch-Site same-site (a sibling subdomain)", 403, "forbidden", "item 3")
async def _(lab: Lab) -> httpx.Response:
    return await _login(lab, headers={"Sec-Fetch-Site": "same-site"})


@case("login: Origin null without fetch metadata", 403, "forbidden", "item 3")
async def _(lab: Lab) -> httpx.Response:
    return await _login(lab, headers={"Origin": "null"})


@case("login: cross-site Origin despite same-origin metadata", 403, "forbidden", "item 3")
async def _(lab: Lab) -> httpx.Response:
    return await _login(lab, headers={"Origin": EVIL, "Sec-Fetch-Site": "same-origin"})


@case("login: Origin null from our own page (no-referrer)", 303, None, "item 3")
async def _(lab: Lab) -> httpx.Response:
    return await _login(lab, headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"})


@case("login: our own Origin", 303, None, "item 3")
async def _(lab: Lab) -> httpx.Response:
    return await _login(lab, headers={"Origin": PS, "Sec-Fetch-Site": "same-origin"})


@case("login: cross-site refused before the password is checked", 403, "forbidden", "item 3")
async def _(lab: Lab) -> httpx.Response:
    return await _login(lab, password="wrong", headers={"Sec-Fetch-Site": "cross-site"})


async def _logout(lab: Lab, csrf: str | None = None, **headers: str) -> httpx.Response:
    """Signed in as alice, sign out with ``csrf`` (default: the session's own token)."""
    async with lab.browser() as http:
        await sign_in(http, "alice", ALICE_PASSWORD)
        token = csrf or csrf_of((await http.get("/interact")).text)
        return await http.post("/logout", data={"csrf": token}, headers=headers)


async def _decide(
    lab: Lab, *, headers: dict[str, str] | None = None, **form: str
) -> httpx.Response:
    """Approve on a consent page as alice, with ``form`` overriding the page's fields."""
    async with lab.browser() as http:
        action, fields = await lab.consent_page(http)
        return await http.post(action, data={**fields, **form}, headers=headers)


for _name, _run, _status, _error in [
    ("logout: cross-site", lambda lab: _logout(lab, Origin=EVIL), 403, "forbidden"),
    (
        "logout: without the session's CSRF token",
        lambda lab: _logout(lab, "guess"),
        403,
        "forbidden",
    ),
    ("logout: done right", lambda lab: _logout(lab, Origin=PS), 200, None),
    (
        "consent: cross-site Origin",
        lambda lab: _decide(lab, headers={"Origin": EVIL}),
        403,
        "forbidden",
    ),
    (
        "consent: Sec-Fetch-Site cross-site",
        lambda lab: _decide(lab, headers={"Sec-Fetch-Site": "cross-site"}),
        403,
        "forbidden",
    ),
    ("consent: forged CSRF token", lambda lab: _decide(lab, csrf="forged"), 403, "forbidden"),
    (
        "consent: neither approve nor deny",
        lambda lab: _decide(lab, decision="maybe"),
        400,
        "invalid_request",
    ),
    (
        "consent: done right",
        lambda lab: _decide(lab, headers={"Sec-Fetch-Site": "same-origin"}),
        200,
        None,
    ),
]:
    case(_name, _status, _error, "PS-27, item 3")(_run)


@case("consent: no session", 401, "access_denied", "PS-27")
async def _(lab: Lab) -> httpx.Response:
    async with lab.browser() as http:
        action, form = await lab.consent_page(http)
    async with lab.browser() as anonymous:
        return await anonymous.post(action, data=form)


@case("consent: session expired", 401, "access_denied", "PS-27")
async def _(lab: Lab) -> httpx.Response:
    async with lab.browser() as http:
        action, form = await lab.consent_page(http)
        lab.clock.now += 3601
        return await http.post(action, data=form)


@case("consent: JSON instead of a form", 400, "invalid_request", "PS-27")
async def _(lab: Lab) -> httpx.Response:
    async with lab.browser() as http:
        action, form = await lab.consent_page(http)
        return await http.post(action, json=form)


# -- the sign-in form itself, and lockout (issue 9 item 9) ---------------------------------------


@case("login: wrong password", 401, "access_denied")
async def _(lab: Lab) -> httpx.Response:
    return await _login(lab, password="wrong")


@case("login: unknown account", 401, "access_denied")
async def _(lab: Lab) -> httpx.Response:
    return await _login(lab, username="mallory")


@case("login: JSON instead of a form", 400, "invalid_request")
async def _(lab: Lab) -> httpx.Response:
    async with lab.browser() as http:
        return await http.post("/login", json={"username": "alice"})


@case("login: a field over 1024 characters", 400, "invalid_request")
async def _(lab: Lab) -> httpx.Response:
    return await _login(lab, username="a" * 1025)


@case("login: a form over 16 KiB", 413, "content_too_large")
async def _(lab: Lab) -> httpx.Response:
    return await _login(lab, password="a" * 1000, padding="x" * 17_000)


@case("lockout: sixth wrong password from one address for one account", 429, "slow_down", "item 9")
async def _(lab: Lab) -> httpx.Response:
    await lab.wrong_logins(5, address="203.0.113.66")
    async with lab.browser("203.0.113.66") as http:
        return await post_login(http, "alice", "wrong")


@case("lockout: the right password from the guessing address waits", 429, "slow_down", "item 9")
async def _(lab: Lab) -> httpx.Response:
    await lab.wrong_logins(5, address="203.0.113.66")
    async with lab.browser("203.0.113.66") as http:
        return await post_login(http, "alice", ALICE_PASSWORD)


@case("lockout: the owner from another address signs in", 303, None, "item 9")
async def _(lab: Lab) -> httpx.Response:
    await lab.wrong_logins(5, address="203.0.113.66")
    async with lab.browser("198.51.100.1") as owner:
        return await post_login(owner, "alice", ALICE_PASSWORD)


@case("lockout: backoff ends after its wait", 401, "access_denied", "item 9")
async def _(lab: Lab) -> httpx.Response:
    await lab.wrong_logins(5, address="203.0.113.66")
    lab.clock.now += 1.5
    async with lab.browser("203.0.113.66") as http:
        return await post_login(http, "alice", "wrong")


@case("lockout: one address guessing across 20 accounts backs off", 429, "slow_down", "item 9")
async def _(lab: Lab) -> httpx.Response:
    async with lab.browser("203.0.113.66") as http:
        for index in range(20):
            assert (await post_login(http, f"user{index}", "wrong")).status_code == 401
        return await post_login(http, "alice", ALICE_PASSWORD)


@case("lockout: a hundred addresses hit the account ceiling", 429, "slow_down", "item 9")
async def _(lab: Lab) -> httpx.Response:
    for index in range(100):
        await lab.wrong_logins(1, address=f"10.0.{index // 250}.{index % 250}")
    async with lab.browser("198.51.100.1") as owner:
        return await post_login(owner, "alice", ALICE_PASSWORD)


@case("lockout: the account ceiling waits at most a minute", 303, None, "item 9")
async def _(lab: Lab) -> httpx.Response:
    for index in range(110):
        lab.clock.now += 61  # the guessers come back as soon as they may
        await lab.wrong_logins(1, address=f"10.1.{index // 250}.{index % 250}")
    lab.clock.now += 61
    async with lab.browser("198.51.100.1") as owner:
        return await post_login(owner, "alice", ALICE_PASSWORD)


@case("lockout: a successful sign-in forgets the pair's failures", 401, "access_denied", "item 9")
async def _(lab: Lab) -> httpx.Response:
    await lab.wrong_logins(4, address="198.51.100.1")
    async with lab.browser("198.51.100.1") as http:
        assert (await post_login(http, "alice", ALICE_PASSWORD)).status_code == 303
    await lab.wrong_logins(4, address="198.51.100.1")  # four more: still not blocked
    async with lab.browser("198.51.100.1") as http:
        return await post_login(http, "alice", "wrong")


# -- interaction-code guessing (issue 9 item 8, V-38) ---------------------------------------------


PASSWORDS = {"alice": ALICE_PASSWORD, "bob": BOB_PASSWORD}
Guesses = list[tuple[str, str, int]]


def _guessing(plan: Guesses, last: tuple[str, str]) -> Callable[[Lab], Awaitable[httpx.Response]]:
    """Sessions that each guess wrong codes, ``(address, person, guesses)``, then one more
    guess by ``last`` ``(address, person)`` in a new session."""

    async def run(lab: Lab) -> httpx.Response:
        for address, person, guesses in plan:
            async with lab.browser(address) as http:
                await sign_in(http, person, PASSWORDS[person])
                await lab.wrong_codes(http, guesses)
        address, person = last
        async with lab.browser(address) as http:
            await sign_in(http, person, PASSWORDS[person])
            return await http.get("/interact", params={"code": "ZZZZ-ZZZZ"})

    return run


ATTACKER, OWNER = "203.0.113.66", "198.51.100.1"
for _name, _plan, _last, _status, _error in [
    ("a wrong code", [], (OWNER, "alice"), 400, "invalid_code"),
    (
        "new sessions do not reset the person's count",
        [(f"10.2.0.{i}", "alice", 5) for i in range(4)],
        ("10.2.0.9", "alice"),
        429,
        "slow_down",
    ),
    (
        "one address guessing as two people backs off",
        [
            (ATTACKER, "alice", 5),
            (ATTACKER, "alice", 5),
            (ATTACKER, "bob", 5),
            (ATTACKER, "bob", 5),
        ],
        (ATTACKER, "bob"),
        429,
        "slow_down",
    ),
    (
        "another person elsewhere is unaffected",
        [(ATTACKER, "alice", 10)],
        (OWNER, "bob"),
        400,
        "invalid_code",
    ),
]:
    case(f"codes: {_name}", _status, _error, "V-38, item 8")(_guessing(_plan, _last))


@case("codes: eleventh wrong code in one session", 429, "slow_down", "V-38")
async def _(lab: Lab) -> httpx.Response:
    async with lab.browser() as http:
        await sign_in(http, "alice", ALICE_PASSWORD)
        await lab.wrong_codes(http, 10)
        return await http.get("/interact", params={"code": "ZZZZ-ZZZZ"})


@case("codes: after ten wrong, even the right code waits", 429, "slow_down", "V-38")
async def _(lab: Lab) -> httpx.Response:
    async with lab.browser() as http:
        await sign_in(http, "alice", ALICE_PASSWORD)
        await lab.wrong_codes(http, 10)
        _, _, url, code = await lab.pending(http)
        return await http.get(url, params={"code": code}, follow_redirects=True)


async def _on_its_page(lab: Lab, *, wrong: int, then_poll: bool) -> httpx.Response:
    """``wrong`` wrong codes on one request's own consent URL; the last answer, or what its
    agent's next poll gets."""
    async with lab.browser() as http:
        agent, location, url, code = await lab.pending(http)
        await sign_in(http, "alice", ALICE_PASSWORD)
        page = await http.get(url, params={"code": code}, follow_redirects=True)
        for _ in range(wrong):
            answer = await http.get(page.url.path, params={"code": "ZZZZ-ZZZZ"})
        return await signed(http, agent, "GET", location) if then_poll else answer


case("codes: wrong code on a request's own page", 410, "invalid_code", "V-38")(
    partial(_on_its_page, wrong=1, then_poll=False)
)
case("codes: the fifth wrong code ends the request for its agent", 410, "invalid_code", "V-38")(
    partial(_on_its_page, wrong=5, then_poll=True)
)


# -- pages and sessions --------------------------------------------------------------------------


@case("pages: an unknown interaction", 404, "not_found")
async def _(lab: Lab) -> httpx.Response:
    async with lab.browser() as http:
        await sign_in(http, "alice", ALICE_PASSWORD)
        return await http.get("/interact/unknown", params={"code": "ABCD-EFGH"})


def _anonymous(method: str, path: str) -> Callable[[Lab], Awaitable[httpx.Response]]:
    async def run(lab: Lab) -> httpx.Response:
        async with lab.browser() as http:
            return await http.request(method, path)

    return run


for _method, _path, _status, _error in [
    ("GET", "/logout", 405, "method_not_allowed"),
    ("GET", "/relays/any/go", 405, "method_not_allowed"),  # a POST form (PS-27)
    ("PUT", "/login", 405, "method_not_allowed"),
    ("GET", "/login/elsewhere", 404, "not_found"),
    ("PUT", "/token", 405, "method_not_allowed"),
    ("GET", "/nothing-here", 404, "not_found"),
]:
    case(f"person server: {_method} {_path}", _status, _error, "V-41")(_anonymous(_method, _path))


@case("sessions: a forged session cookie is sent to sign in", 303, None, "PS-27")
async def _(lab: Lab) -> httpx.Response:
    async with lab.browser() as http:
        http.cookies.set("aauth_ps_session", "forged", domain="ps.example")
        return await http.get("/interact")


# -- JSON bodies at the person server (issue 9 items 4, 5) ----------------------------------------


async def _token_body(lab: Lab, *, make: Callable[[Lab], bytes]) -> httpx.Response:
    async with lab.browser() as http:
        agent = lab.world.agent()
        return await signed(http, agent, "POST", f"{PS}/token", make(lab))


def _token(lab: Lab, **members: Any) -> bytes:
    agent = lab.world.agent()
    return json.dumps({"resource_token": lab.world.resource_token(agent), **members}).encode()


_BAD_TOKEN_BODIES: list[tuple[str, Callable[[Lab], bytes], int, str]] = [
    ("NaN", lambda lab: b'{"resource_token": "x", "n": NaN}', 400, "invalid_request"),
    ("1e999", lambda lab: b'{"resource_token": "x", "n": 1e999}', 400, "invalid_request"),
    ("lone surrogate", lambda lab: b'{"resource_token": "\\udc00"}', 400, "invalid_request"),
    ("invalid UTF-8", lambda lab: b'{"resource_token": "\xc3\x28"}', 400, "invalid_request"),
    (
        "duplicate member",
        lambda lab: b'{"resource_token": "a", "resource_token": "b"}',
        400,
        "invalid_request",
    ),
    ("nested 40 deep", lambda lab: b'{"a": ' * 40 + b"1" + b"}" * 40, 400, "invalid_request"),
    ("an array", lambda lab: b'["resource_token"]', 400, "invalid_request"),
    ("resource_token an array", lambda lab: b'{"resource_token": ["x"]}', 400, "invalid_request"),
    (
        "capabilities an object",
        lambda lab: _token(lab, capabilities={"interaction": True}),
        400,
        "invalid_request",
    ),
    ("prompt an array", lambda lab: _token(lab, prompt=["login"]), 400, "invalid_request"),
    ("justification a number", lambda lab: _token(lab, justification=7), 400, "invalid_request"),
    ("70 KB", lambda lab: _token(lab, pad="x" * 70_000), 400, "invalid_request"),
    ("over 1 MiB", lambda lab: _token(lab, pad="x" * (1024 * 1024)), 413, "content_too_large"),
]
for _name, _make, _status, _error in _BAD_TOKEN_BODIES:
    case(f"token endpoint: body {_name}", _status, _error, "item 4/5")(
        partial(_token_body, make=_make)
    )


_BAD_ANSWERS = [
    ("action an array", b'{"action": ["x"]}'),
    ("action an object", b'{"action": {"a": 1}}'),
    ("action a number", b'{"action": 1}'),
    ("NaN", b'{"action": NaN}'),
    ("not JSON", b"action=updated_request"),
]


async def _answer(lab: Lab, *, body: bytes) -> httpx.Response:
    async with lab.browser() as http:
        agent, location, _, _ = await lab.pending(http)
        return await signed(http, agent, "POST", location, body)


for _name, _body in _BAD_ANSWERS:
    case(f"pending URL: POST {_name}", 400, "invalid_request", "item 5, V-34")(
        partial(_answer, body=_body)
    )


@case("pending URL: another agent's", 404, "not_found", "V-32")
async def _(lab: Lab) -> httpx.Response:
    async with lab.browser() as http:
        _, location, _, _ = await lab.pending(http)
        return await signed(http, lab.world.agent("other"), "GET", location)


# -- JSON bodies at the resource (issue 9 items 4, 5, 12) -----------------------------------------


def _write(api: Api, *, body: bytes) -> httpx.Response:
    token = api.auth_token("data.read data.write")
    response = api.request("POST", "/data", body, token=token)
    after = api.request("GET", "/data", token=token)
    assert (after.status_code, after.json()["items"]) == (200, [])  # nothing was stored
    return response


_BAD_DATA = [
    ("NaN", b'{"n": NaN}'),
    ("Infinity", b'{"n": Infinity}'),
    ("-Infinity", b'{"n": -Infinity}'),
    ("1e999", b'{"n": 1e999}'),
    ("lone surrogate", b'{"s": "\\ud800"}'),
    ("invalid UTF-8", b'{"s": "\xff"}'),
    ("duplicate member", b'{"n": 1, "n": 2}'),
    ("an array", b"[1]"),
    ("truncated", b'{"n": '),
]
for _name, _body in _BAD_DATA:
    case(f"resource: POST /data {_name}", 400, "invalid_request", "item 4")(
        partial(_write, body=_body)
    )


def _authorize(api: Api, *, body: bytes) -> httpx.Response:
    return api.request("POST", "/authorize", body)


for _name, _body in [
    ("scope an array", b'{"scope": ["data.read"]}'),
    ("scope an object", b'{"scope": {"data.read": 1}}'),
    ("NaN", b'{"scope": NaN}'),
]:
    case(f"resource: POST /authorize {_name}", 400, "invalid_request", "item 5, RS-16")(
        partial(_authorize, body=_body)
    )


@case("resource: DELETE /data", 405, "method_not_allowed", "V-41")
def _(api: Api) -> httpx.Response:
    return api.request("DELETE", "/data", token=api.auth_token())


@case("resource: an unknown path, signed", 404, "not_found", "V-41")
def _(api: Api) -> httpx.Response:
    return api.request("GET", "/nowhere", token=api.auth_token())


# -- running the table ---------------------------------------------------------------------------


def _resource_api(asgi_client: Callable[..., httpx.Client]) -> Api:
    ap, ps = KeySet.generate(), KeySet.generate()
    keys = StaticKeySource({"https://ap.example": ap.jwks(), PS: ps.jwks()})
    config = ResourceServerConfig(identifier=API, trusted_issuers=(PS,))
    return Api(asgi_client(create_resource_server(config, key_source=keys), API), ap, ps)


def test_the_matrix_has_at_least_fifty_rows() -> None:
    assert len(CASES) >= 50


@pytest.mark.parametrize("row", http_cases(CASES))
def test_matrix(row: HttpCase, asgi_client: Callable[..., httpx.Client]) -> None:
    run: Any = row.send
    parameter = next(iter(inspect.signature(run).parameters.values()))
    if parameter.annotation in (Api, "Api"):
        response = run(_resource_api(asgi_client))
    else:
        response = asyncio.run(run(Lab()))
    assert_row(row, response)


def assert_row(row: HttpCase, response: object) -> None:
    """``response`` is what ``row`` expects: its problem+json, or its page with its code."""
    assert isinstance(response, httpx.Response)
    if response.headers.get("content-type", "").startswith("application/problem+json"):
        assert_http_refused(response, row.status, row.code)
    else:
        assert response.status_code == row.status, response.text[:500]
        assert error_code(response) == (row.code or None), response.text[:500]
