"""The access server's forms get the person server's CSRF defences (PS-27, through the ASGI
app in process): every form POST another site sends is refused 403 ``forbidden`` before it is
read, and ``POST /pay`` needs the signed-in person and their session's CSRF token, as
``POST /interact`` does. A refused POST changes nothing: the step still waits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from aauth.headers import InteractionRequirement, parse_requirement
from aauth.person.passwords import hash_password
from aauth.server.access_server import SESSION_COOKIE

from .test_as_endpoints import AS, OWNER, Browser, World, as_ps, call, run

OTHER = {"id": "p", "password_hash": hash_password("pw2")}
EVIL = "https://evil.example"
CROSS_SITE = [
    pytest.param({"Origin": EVIL}, id="origin-of-another-site"),
    pytest.param({"Sec-Fetch-Site": "cross-site", "Origin": AS}, id="sec-fetch-site-cross-site"),
    pytest.param({"Sec-Fetch-Site": "same-site"}, id="sec-fetch-site-same-site"),
    pytest.param({"Origin": "null"}, id="opaque-origin"),
]


@pytest.fixture
def world() -> Iterator[World]:
    world = World()
    yield world
    world.store.close()


class Step:
    """A token request waiting at one person-facing step, and how to see it still waits."""

    def __init__(self, world: World, app: Any) -> None:
        self.world, self.app = world, app
        response = run(call(app, "POST", "/token", world.body(), signer=as_ps(world)))
        self.status = response.status_code
        self.pending = response.headers["location"].removeprefix(AS)
        requirement = parse_requirement(response.headers["aauth-requirement"])
        assert isinstance(requirement, InteractionRequirement)
        self.code = requirement.code

    def poll(self) -> int:
        """The status the person server's poll of the pending URL gets."""
        return run(call(self.app, "GET", self.pending, signer=as_ps(self.world))).status_code

    def waiting(self) -> bool:
        return self.poll() == self.status


@pytest.fixture
def payment(world: World) -> Step:
    return Step(world, world.app(payment="1 USD", people=[OWNER, OTHER]))


@pytest.fixture
def interaction(world: World) -> Step:
    return Step(world, world.app(interaction=True, people=[OWNER, OTHER]))


def _refused(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert f"<code id=error>{code}</code>" in response.text
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("headers", CROSS_SITE)
def test_ps27_a_cross_site_payment_is_refused_and_changes_nothing(
    payment: Step, headers: dict[str, str]
) -> None:
    browser = Browser(payment.app).sign_in()
    form = {"code": payment.code, "csrf": browser.csrf(f"/pay?code={payment.code}")}
    _refused(browser.request("POST", "/pay", form, headers), 403, "forbidden")
    assert payment.waiting()
    assert browser.request("GET", f"/pay?code={payment.code}").status_code == 200


@pytest.mark.parametrize("headers", CROSS_SITE)
def test_ps27_a_cross_site_decision_is_refused_and_changes_nothing(
    interaction: Step, headers: dict[str, str]
) -> None:
    browser = Browser(interaction.app).sign_in()
    csrf = browser.csrf(f"/interact?code={interaction.code}")
    form = {"code": interaction.code, "csrf": csrf, "decision": "approve"}
    _refused(browser.request("POST", "/interact", form, headers), 403, "forbidden")
    assert interaction.waiting()


@pytest.mark.parametrize("headers", CROSS_SITE)
def test_a_cross_site_sign_in_is_refused_and_opens_no_session(
    world: World, headers: dict[str, str]
) -> None:
    """Login CSRF: another site cannot sign the browser in to an account of its choosing."""
    browser = Browser(world.app(interaction=True, people=[OWNER]))
    form = {"username": "o", "password": "pw", "next": "/interact"}
    _refused(browser.request("POST", "/login", form, headers), 403, "forbidden")


def test_the_pages_own_forms_are_accepted(payment: Step) -> None:
    """What a browser sends from the AS's own page (``Origin: null`` under the pages'
    ``no-referrer`` policy, with ``Sec-Fetch-Site: same-origin``) passes."""
    own = {"Sec-Fetch-Site": "same-origin", "Origin": "null"}
    browser = Browser(payment.app)
    form = {"username": "o", "password": "pw", "next": "/interact"}
    signed_in = browser.request("POST", "/login", form, own)
    assert signed_in.status_code == 303
    browser.session = signed_in.cookies[SESSION_COOKIE]
    form = {"code": payment.code, "csrf": browser.csrf(f"/pay?code={payment.code}")}
    paid = browser.request("POST", "/pay", form, {**own, "Origin": AS})
    assert paid.status_code == 200, paid.text
    assert "Payment received" in paid.text
    assert not payment.waiting()


def test_as06_ps27_payment_by_the_signed_in_person_with_csrf(payment: Step) -> None:
    browser = Browser(payment.app).sign_in()
    page = browser.request("GET", f"/pay?code={payment.code}")
    assert "name=csrf" in page.text
    form = {"code": payment.code, "csrf": browser.csrf(f"/pay?code={payment.code}")}
    assert browser.request("POST", "/pay", form).status_code == 200
    assert payment.poll() == 200  # no more steps: the PS gets the token
    again = browser.request("POST", "/pay", form)
    _refused(again, 410, "invalid_code")  # V-37: the step's code is single-use


def test_ps27_the_code_alone_pays_nothing(payment: Step) -> None:
    form = {"code": payment.code}
    _refused(Browser(payment.app).request("POST", "/pay", form), 401, "access_denied")
    assert payment.waiting()


@pytest.mark.parametrize(
    "csrf",
    [
        pytest.param(None, id="without"),
        pytest.param("", id="empty"),
        pytest.param("x" * 43, id="wrong"),
    ],
)
def test_ps27_payment_without_the_sessions_csrf_token(payment: Step, csrf: str | None) -> None:
    browser = Browser(payment.app).sign_in()
    form = {"code": payment.code} if csrf is None else {"code": payment.code, "csrf": csrf}
    _refused(browser.request("POST", "/pay", form), 403, "forbidden")
    assert payment.waiting()


def test_ps27_another_persons_session_cannot_post_a_payment_page(payment: Step) -> None:
    """The page's token is its viewer's: posted with another person's session it is refused."""
    alice = Browser(payment.app).sign_in()
    form = {"code": payment.code, "csrf": alice.csrf(f"/pay?code={payment.code}")}
    bob = Browser(payment.app).sign_in("p", "pw2")
    _refused(bob.request("POST", "/pay", form), 403, "forbidden")
    assert payment.waiting()


def test_the_payment_page_asks_for_sign_in_first(payment: Step) -> None:
    page = Browser(payment.app).request("GET", f"/pay?code={payment.code}")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?next=%2Fpay%3Fcode%3D")
    assert payment.waiting()


def test_the_sign_out_bar_signs_out(interaction: Step) -> None:
    """The consent page's sign-out bar posts to ``/logout``: with the session's CSRF token
    the session closes and the cookie goes; without it, or sent from another site, nothing
    changes (PS-27)."""
    browser = Browser(interaction.app).sign_in()
    page = f"/interact?code={interaction.code}"
    shown = browser.request("GET", page)
    assert "id=sign-out" in shown.text
    assert "action='/logout'" in shown.text
    csrf = browser.csrf(page)
    _refused(browser.request("POST", "/logout", {"next": "/"}), 403, "forbidden")
    _refused(browser.request("POST", "/logout", {"csrf": "x" * len(csrf)}), 403, "forbidden")
    _refused(browser.request("POST", "/logout", {"csrf": csrf}, {"Origin": EVIL}), 403, "forbidden")
    assert browser.request("GET", page).status_code == 200  # still signed in
    out = browser.request("POST", "/logout", {"csrf": csrf})
    assert out.status_code == 200, out.text
    assert "You are signed out." in out.text
    assert f'{SESSION_COOKIE}=""' in out.headers["set-cookie"]
    assert browser.request("GET", page).status_code == 303  # the closed session is gone
    assert interaction.waiting()
