"""The sign-in form's CSRF token (issue 9 item 3): double submit, signed, short-lived."""

from __future__ import annotations

import pytest

from aauth.person.login_csrf import LOGIN_FORM_LIFETIME, LoginCsrf
from aauth.store import SQLiteStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_token_checks_against_itself_until_it_expires() -> None:
    clock = Clock()
    tokens = LoginCsrf(SQLiteStore(), clock=clock)
    token = tokens.issue()
    assert tokens.check(token, token)
    clock.now += LOGIN_FORM_LIFETIME
    assert tokens.check(token, token)
    clock.now += 1
    assert not tokens.check(token, token)


def test_the_secret_is_the_stores() -> None:
    store = SQLiteStore()
    token = LoginCsrf(store).issue()
    assert LoginCsrf(store).check(token, token)  # another worker on the same store
    assert not LoginCsrf(SQLiteStore()).check(token, token)  # another server


@pytest.mark.parametrize(
    "spoil",
    [
        lambda t: (t, t[:-1] + ("A" if t[-1] != "A" else "B")),  # field differs
        lambda t: (None, t),
        lambda t: (t, None),
        lambda t: ("", ""),
        lambda t: ("x" * 200, "x" * 200),
        lambda t: ("é" + t, "é" + t),
        lambda t: ("1.2", "1.2"),
        lambda t: (f"{int(t.split('.')[0]) + 10}.{t.split('.', 1)[1]}",) * 2,  # issued moved
        lambda t: ("abc." + t.split(".", 1)[1],) * 2,
    ],
)
def test_spoiled_tokens_fail(spoil: object) -> None:
    tokens = LoginCsrf(SQLiteStore())
    cookie, field = spoil(tokens.issue())  # type: ignore[operator]
    assert not tokens.check(cookie, field)


def test_current_keeps_a_young_token_and_renews_an_old_one() -> None:
    clock = Clock()
    tokens = LoginCsrf(SQLiteStore(), clock=clock)
    first = tokens.issue()
    clock.now += LOGIN_FORM_LIFETIME / 2
    assert tokens.current(first) == first  # a second tab shows the same token
    clock.now += 1
    assert tokens.current(first) != first
    assert tokens.current(None) != tokens.current("garbage")
