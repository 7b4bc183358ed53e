"""The negative matrix: every attack is a row, and every row must meet an exact refusal.

A :class:`Case` is an attack run in-process against the library (a callable that must raise);
an :class:`HttpCase` is an attack sent to a live participant (a callable that returns the
response). Both name the exact error class or status and the exact protocol error code, and
the §K checklist IDs they cover. Tables live in ``test_matrix_*.py`` files, each
parametrised with :func:`cases` / :func:`http_cases`, and checked with :func:`assert_refused`
/ :func:`assert_http_refused`.

    ROWS = [Case("alg none", lambda: verify(forged), InvalidJWT, "invalid_jwt", 401, "V-13")]

    @pytest.mark.parametrize("case", cases(ROWS))
    def test_refused(case: Case) -> None:
        assert_refused(case)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from aauth_signing import SignatureError

from aauth.errors import AAuthError, error_response

__all__ = [
    "Case",
    "HttpCase",
    "assert_http_refused",
    "assert_refused",
    "cases",
    "http_cases",
]


@dataclass(frozen=True)
class Case:
    """One in-process attack: ``attack()`` must raise ``error`` carrying ``code``, rendered
    with HTTP ``status``."""

    name: str
    attack: Callable[[], object]
    error: type[AAuthError] | type[SignatureError]
    code: str
    status: int
    ids: tuple[str, ...] = ()

    def __init__(
        self,
        name: str,
        attack: Callable[[], object],
        error: type[AAuthError] | type[SignatureError],
        code: str,
        status: int,
        *ids: str,
    ) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "attack", attack)
        object.__setattr__(self, "error", error)
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "status", status)
        object.__setattr__(self, "ids", ids)


@dataclass(frozen=True)
class HttpCase:
    """One attack on a live participant: ``send(client)`` returns the response, which must
    be ``status`` with a problem+json body whose ``error`` is ``code``."""

    name: str
    send: Callable[[httpx.Client], httpx.Response]
    status: int
    code: str
    ids: tuple[str, ...] = ()

    def __init__(
        self,
        name: str,
        send: Callable[[httpx.Client], httpx.Response],
        status: int,
        code: str,
        *ids: str,
    ) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "send", send)
        object.__setattr__(self, "status", status)
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "ids", ids)


def _test_id(name: str, ids: Sequence[str]) -> str:
    return f"{'+'.join(ids)}: {name}" if ids else name


def _unique(rows: Sequence[Case] | Sequence[HttpCase]) -> None:
    names = [row.name for row in rows]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"matrix rows must have unique names: {duplicates}")


def cases(rows: Sequence[Case]) -> list[Any]:
    """``rows`` as pytest parameters, each with its §K IDs and name as the test id."""
    _unique(rows)
    return [pytest.param(row, id=_test_id(row.name, row.ids)) for row in rows]


def http_cases(rows: Sequence[HttpCase]) -> list[Any]:
    """:func:`cases` for HTTP rows."""
    _unique(rows)
    return [pytest.param(row, id=_test_id(row.name, row.ids)) for row in rows]


def assert_refused(case: Case) -> None:
    """The attack raised exactly the expected class (not a subclass) and code, and renders to
    the response a server would send: ``status``, problem+json with that ``error``, and
    ``Signature-Error`` on a signature failure (never on a 403)."""
    with pytest.raises((AAuthError, SignatureError)) as caught:
        case.attack()
    error = caught.value
    assert type(error) is case.error, f"{type(error).__name__}: {error}"
    assert error.code == case.code, f"{error.code}: {error}"
    response = error_response(error)
    assert response.status == case.status
    assert response.headers["Content-Type"] == "application/problem+json"
    assert json.loads(response.body)["error"] == case.code
    signature_error = response.headers.get("Signature-Error")
    if isinstance(error, SignatureError) and case.status != 403:
        assert signature_error is not None
        assert signature_error.split(",")[0] == f"error={case.code}"
    else:
        assert signature_error is None


def assert_http_refused(response: httpx.Response, status: int, code: str) -> None:
    """A live refusal: the status, a problem+json body whose ``error`` is ``code``, and on a
    401 signature failure the same code in ``Signature-Error``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    body = response.json()
    assert body["error"] == code, body
    assert isinstance(body.get("detail", ""), str)
    signature_error = response.headers.get("signature-error")
    if signature_error is not None:
        assert status == 401
        assert signature_error.split(",")[0] == f"error={code}"
