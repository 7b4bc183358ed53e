"""AAuth-Access and Authorization: AAuth (protocol-10 §E.3)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aauth.headers import (
    HeaderError,
    build_access,
    build_authorization,
    parse_access,
    parse_authorization,
)

TOKEN = "c2Vzcy0xMjM0LmFiY2Q="


def test_builders_emit_the_token_and_the_aauth_scheme() -> None:
    assert build_access(TOKEN) == TOKEN
    assert build_authorization(TOKEN) == f"AAuth {TOKEN}"


@pytest.mark.parametrize("token", ["", " ", "a b", "a,b", "a=b", "=", "a\n", "\u00e9", "a" * 20000])
def test_builders_refuse_anything_but_one_token68(token: str) -> None:
    with pytest.raises(ValueError):
        build_access(token)
    with pytest.raises(ValueError):
        build_authorization(token)


@pytest.mark.parametrize(
    ("value", "token"),
    [
        (TOKEN, TOKEN),
        (f" {TOKEN}\t", TOKEN),
        ("A-._~+/z==", "A-._~+/z=="),
    ],
)
def test_ag27_access_header_parses(value: str, token: str) -> None:
    assert parse_access(value) == token


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "a b",
        "a\tb",
        "a,b",
        f"{TOKEN}, {TOKEN}",
        "a=b",
        "=a",
        "a\x00",
        "\u00e9",
        "a" * 20000,
    ],
)
def test_access_header_rejects_empty_whitespace_control_and_several_values(value: str) -> None:
    with pytest.raises(HeaderError):
        parse_access(value)


@pytest.mark.parametrize(
    "lines",
    [
        f"AAuth {TOKEN}",
        f"aauth {TOKEN}",
        f"AAUTH {TOKEN}",
        f"AAuth   {TOKEN}",
        f" AAuth {TOKEN} ",
        [f"AAuth {TOKEN}"],
        (f"aAuTh {TOKEN}",),
    ],
)
def test_scheme_matches_case_insensitively(lines: str | list[str]) -> None:
    assert parse_authorization(lines) == TOKEN


@pytest.mark.parametrize(
    "lines",
    [
        "",
        "AAuth",
        "AAuth ",
        "AAuth    ",
        f"AAuth {TOKEN} {TOKEN}",
        f"AAuth {TOKEN}, AAuth {TOKEN}",
        f"AAuth {TOKEN},",
        f"AAuth\t{TOKEN}",
        f"AAuth {TOKEN}\x00",
        "AAuth a=b",
        'AAuth realm="x"',
        [f"AAuth {TOKEN}", f"AAuth {TOKEN}"],
        [f"AAuth {TOKEN}", "Bearer x"],
        [],
    ],
)
def test_rs15_empty_malformed_or_multiple_credentials_are_rejected(lines: str | list[str]) -> None:
    with pytest.raises(HeaderError):
        parse_authorization(lines)


@pytest.mark.parametrize(
    "value", [f"Bearer {TOKEN}", f"AAuthx {TOKEN}", f"Basic {TOKEN}", f"\u0391Auth {TOKEN}", TOKEN]
)
def test_other_schemes_are_rejected(value: str) -> None:
    with pytest.raises(HeaderError):
        parse_authorization(value)


FRAGMENTS = [
    "AAuth",
    "aauth",
    "Bearer",
    " ",
    "\t",
    ",",
    "=",
    TOKEN,
    "a",
    "/",
    "~",
    "\x00",
    "\u00e9",
]
any_text = st.one_of(
    st.text(max_size=120), st.lists(st.sampled_from(FRAGMENTS), max_size=8).map("".join)
)


@given(any_text)
def test_parse_access_raises_only_header_error(value: str) -> None:
    with contextlib.suppress(HeaderError):
        parse_access(value)


@given(st.one_of(any_text, st.lists(any_text, max_size=3)))
def test_parse_authorization_raises_only_header_error(lines: str | list[str]) -> None:
    with contextlib.suppress(HeaderError):
        parse_authorization(lines)


token68 = st.from_regex(r"[A-Za-z0-9\-._~+/]{1,60}={0,2}", fullmatch=True)


@given(token68)
def test_build_then_parse_round_trips(token: str) -> None:
    assert parse_access(build_access(token)) == token
    assert parse_authorization(build_authorization(token)) == token
    assert parse_authorization([build_authorization(token)]) == token
