"""AAuth-Mission (protocol-10 §E.2, §I.2) and the mission claim it becomes."""

from __future__ import annotations

import contextlib

import http_sf
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aauth.errors import InvalidToken
from aauth.headers import HeaderError, MissionRef, build_mission, parse_mission

PS = "https://ps.example"
S256 = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CANONICAL = f'approver="{PS}";s256="{S256}"'


def test_build_emits_the_canonical_dictionary() -> None:
    assert build_mission(MissionRef(PS, S256)) == CANONICAL


@pytest.mark.parametrize(
    "text",
    [
        CANONICAL,
        f'approver="{PS}"; s256="{S256}"',
        f'approver="{PS}";  s256="{S256}";future=1',
        f'approver="{PS}", s256="{S256}"',
        f'approver="{PS}";s256="{S256}", s256="{S256}"',
        f'manager="{PS}"; s256="{S256}"',
        f'manager="{PS}", s256="{S256}"',
        f'approver="{PS}";s256="{S256}", manager="https://other.example"',
        f'approver="{PS}";s256="{S256}", future=?1',
    ],
)
def test_canonical_spaced_compat_and_legacy_forms_parse(text: str) -> None:
    assert parse_mission(text) == MissionRef(PS, S256)


def test_ag29_parsed_values_are_reemitted_verbatim() -> None:
    assert build_mission(parse_mission(f'manager="{PS}", s256="{S256}"')) == CANONICAL


@pytest.mark.parametrize(
    "text",
    [
        "",
        f's256="{S256}"',
        f'approver={PS[8:]};s256="{S256}"',
        f'approver="{PS}"',
        f'approver="{PS}";s256={S256[:5]}',
        f'approver="{PS}";s256="{S256[:-1]}"',
        f'approver="{PS}";s256="{S256}A"',
        f'approver="{PS}";s256="{S256[:-1]}="',
        f'approver="{PS}";s256="{S256[:-1]}+"',
        f'approver="{PS}";s256="{S256}", s256="{"A" * 43}"',
        f'approver="{PS}", s256=1',
        f'approver="{PS}/";s256="{S256}"',
        f'approver="{PS}/path";s256="{S256}"',
        f'approver="{PS}:8443";s256="{S256}"',
        f'approver="https://PS.example";s256="{S256}"',
        f'approver="http://ps.example";s256="{S256}"',
        f'approver="http://localhost:8000";s256="{S256}"',
        f'approver=("{PS}");s256="{S256}"',
        f'approver="{PS}";s256="{S256}"\u00e9',
    ],
)
def test_invalid_values_raise_header_error(text: str) -> None:
    with pytest.raises(HeaderError):
        parse_mission(text)


def test_loopback_approver_needs_the_dev_flag() -> None:
    ref = MissionRef("http://localhost:8000", S256)
    text = build_mission(ref, allow_loopback_http=True)
    assert text == f'approver="http://localhost:8000";s256="{S256}"'
    assert parse_mission(text, allow_loopback_http=True) == ref
    with pytest.raises(ValueError):
        build_mission(ref)


@pytest.mark.parametrize(
    "ref",
    [
        MissionRef("https://ps.example/", S256),
        MissionRef("ps.example", S256),
        MissionRef(PS, S256[:-1]),
        MissionRef(PS, S256[:-1] + "!"),
    ],
)
def test_build_refuses_invalid_pairs(ref: MissionRef) -> None:
    with pytest.raises(ValueError):
        build_mission(ref)


def test_rs08_claim_is_the_pair_copied_unchanged() -> None:
    ref = parse_mission(CANONICAL)
    assert ref.to_claim() == {"approver": PS, "s256": S256}
    assert MissionRef.from_claim(ref.to_claim()) == ref
    assert MissionRef.from_claim({"approver": PS, "s256": S256, "future": 1}) == ref


@pytest.mark.parametrize(
    "claim",
    [
        None,
        "x",
        [PS, S256],
        {},
        {"approver": PS},
        {"s256": S256},
        {"approver": PS, "s256": 1},
        {"approver": 1, "s256": S256},
        {"approver": "https://ps.example/", "s256": S256},
        {"approver": PS, "s256": S256 + "A"},
    ],
)
def test_from_claim_rejects_malformed_claims_with_invalid_token(claim: object) -> None:
    with pytest.raises(InvalidToken):
        MissionRef.from_claim(claim)


def test_from_claim_loopback_needs_the_dev_flag() -> None:
    claim = {"approver": "http://127.0.0.1:9000", "s256": S256}
    assert MissionRef.from_claim(claim, allow_loopback_http=True).approver == claim["approver"]
    with pytest.raises(InvalidToken):
        MissionRef.from_claim(claim)


FRAGMENTS = [
    "approver",
    "manager",
    "s256",
    "=",
    ";",
    ", ",
    " ",
    f'"{PS}"',
    f'"{S256}"',
    '"',
    "(",
    ")",
    "?1",
    "1",
    "\\",
    "\x7f",
]
any_text = st.one_of(
    st.text(max_size=200), st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join)
)


@given(any_text)
def test_parse_raises_only_header_error(text: str) -> None:
    with contextlib.suppress(HeaderError):
        parse_mission(text)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=50),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(
    st.one_of(json_values, st.fixed_dictionaries({"approver": json_values, "s256": json_values}))
)
def test_from_claim_raises_only_invalid_token(claim: object) -> None:
    with contextlib.suppress(InvalidToken):
        MissionRef.from_claim(claim)


hosts = st.from_regex(r"[a-z0-9]{1,10}(\.[a-z][a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
digests = st.text(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", min_size=43, max_size=43
)


@given(hosts, digests)
def test_build_then_parse_round_trips(host: str, s256: str) -> None:
    ref = MissionRef(f"https://{host}", s256)
    text = build_mission(ref)
    assert text == f'approver="https://{host}";s256="{s256}"'
    assert parse_mission(text) == ref
    assert MissionRef.from_claim(ref.to_claim()) == ref
    assert http_sf.ser(http_sf.parse(text.encode(), tltype="dictionary")) == text
