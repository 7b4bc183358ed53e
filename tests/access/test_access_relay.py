"""The PS's relay of an access server's page, step by step over HTTP on loopback (-10
"Interaction Chaining"): the agent's code is single use at the relay too, the relay's pages
need the signed-in person (a reload before coming back sends them to the same AS page
again), and any ``error`` the AS sends back that is not one of the three
mapped ones ends the PS's request with ``server_error`` (PS-26)."""

from __future__ import annotations

import queue
import re
import threading
from html import unescape

import httpx

from aauth.agent.poller import DeferredCallbacks, InteractionPrompt
from aauth.demo.consent import PERSON
from aauth.demo.federation import federated_world
from aauth.errors import AAuthError

from .conftest import fetch, quiet

_CONTINUE = re.compile(r"<a id=continue href='([^']+)'>")


def _signed_in(browser: httpx.Client, password: str) -> None:
    form = browser.get("/login")
    csrf = re.search(r"name='?csrf'? value='([^']+)'", form.text)
    assert csrf is not None
    data = {"username": PERSON, "password": password, "csrf": csrf.group(1)}
    assert browser.post("/login", data=data).status_code == 303


def _shows_sign_out(page: httpx.Response) -> None:
    """The relay's pages name the signed-in person and end with Sign out, like every page of
    the person server (tests/person/test_ps_sign_out_bar.py)."""
    assert "Signed in as <strong>" in page.text
    assert page.text.endswith("id=sign-out>Sign out</button></form></div></body></html>")


def test_ps26_an_unknown_callback_error_is_a_server_error_and_the_code_is_single_use() -> None:
    with federated_world(quiet(), steps={"interaction": True}, auto_approve=True) as world:
        prompts: queue.Queue[InteractionPrompt] = queue.Queue()
        outcome: list[BaseException] = []

        def agent() -> None:
            try:
                fetch(world, world.trusted_ps, DeferredCallbacks(on_interaction=prompts.put))
            except AAuthError as exc:
                outcome.append(exc)

        thread = threading.Thread(target=agent, daemon=True)
        thread.start()
        prompt = prompts.get(timeout=30)
        ps = world.trusted_ps
        assert prompt.url == f"{ps}/interact"  # the PS's own page and code
        with httpx.Client(base_url=ps) as browser, httpx.Client(base_url=ps) as other:
            _signed_in(browser, world.password)
            page = browser.get(prompt.link, follow_redirects=True)
            assert prompt.code in page.text
            _shows_sign_out(page)
            onward = _CONTINUE.search(page.text)
            assert onward is not None
            next_page = unescape(onward.group(1))
            assert re.fullmatch(r"/interact/[\w-]+/next", next_page)
            # The relay's pages need a signed-in person; the code is spent.
            assert other.get(next_page).headers["location"].startswith("/login")
            _signed_in(other, world.password)
            again = other.get(prompt.link, follow_redirects=True)
            assert again.status_code == 410
            assert "already been used" in again.text
            to_as = browser.get(next_page)
            assert to_as.status_code == 303
            assert to_as.headers["location"].startswith(f"{world.access_server}/interact?code=")
            # Not back from the AS yet: a reload sends the person to the same page again.
            assert browser.get(next_page).headers["location"] == to_as.headers["location"]
            callback = next_page.removesuffix("/next") + "/callback"
            ended = browser.get(f"{callback}?error=something_else")
            assert ended.status_code == 403
            assert "server_error" in ended.text
            _shows_sign_out(ended)
            again = browser.get(f"{callback}?error=access_denied")  # visited twice: unchanged
            assert again.status_code == 403
            assert "server_error" in again.text
            assert browser.get("/interact/nothing-here/next").status_code == 404
        thread.join(timeout=30)
    assert len(outcome) == 1
    assert isinstance(outcome[0], AAuthError)
    assert outcome[0].code == "server_error"
