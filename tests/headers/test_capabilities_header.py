"""AAuth-Capabilities (protocol-10 §E.4)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aauth.headers import (
    CAPABILITIES,
    Capability,
    HeaderError,
    build_capabilities,
    parse_capabilities,
)


def test_build_emits_a_token_list_in_order_once_each() -> None:
    assert build_capabilities(["interaction", "clarification"]) == "interaction, clarification"
    assert build_capabilities(["payment", "interaction", "payment"]) == "payment, interaction"


def test_build_refuses_unknown_values_and_an_empty_list() -> None:
    with pytest.raises(ValueError):
        build_capabilities(["interaction", "telepathy"])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        build_capabilities([])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, frozenset()),
        ("", frozenset()),
        ("interaction, clarification", {"interaction", "clarification"}),
        ("interaction,clarification,payment", set(CAPABILITIES)),
        ("interaction;x=1;y, telepathy, payment", {"interaction", "payment"}),
        ('"interaction", (clarification), payment', {"payment"}),
        ("interaction, interaction", {"interaction"}),
        ("telepathy", frozenset()),
    ],
)
def test_absence_means_none_and_unknown_values_and_params_are_ignored(
    value: str | None, expected: set[str]
) -> None:
    assert parse_capabilities(value) == expected


@pytest.mark.parametrize(
    "value", ["interaction,", ",", "interaction clarification", "\u00e9", "(a"]
)
def test_malformed_values_raise_header_error(value: str) -> None:
    with pytest.raises(HeaderError):
        parse_capabilities(value)


FRAGMENTS = [*CAPABILITIES, "telepathy", ",", ", ", " ", ";", "x=1", "(", ")", '"', "?1", "\u00e9"]
any_text = st.one_of(
    st.text(max_size=120), st.lists(st.sampled_from(FRAGMENTS), max_size=10).map("".join)
)


@given(any_text)
def test_parse_raises_only_header_error(value: str) -> None:
    with contextlib.suppress(HeaderError):
        assert parse_capabilities(value) <= set(CAPABILITIES)


@given(st.lists(st.sampled_from(CAPABILITIES), min_size=1))
def test_build_then_parse_round_trips(values: list[Capability]) -> None:
    assert parse_capabilities(build_capabilities(values)) == frozenset(values)
