"""Interaction codes: alphabet, entropy floor and forgiving comparison (§F.5)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aauth.interaction_code import ALPHABET, generate_code, normalize_code


def test_v35_codes_are_eight_crockford_symbols_with_a_hyphen() -> None:
    for _ in range(200):
        code = generate_code()
        assert len(code) == 9
        assert code[4] == "-"
        assert set(code.replace("-", "")) <= set(ALPHABET)


def test_v35_fewer_than_forty_bits_is_refused() -> None:
    with pytest.raises(ValueError):
        generate_code(7)


def test_v36_comparison_strips_hyphens_ignores_case_and_folds_ambiguous_letters() -> None:
    assert normalize_code("7qkx-3mpd") == "7QKX3MPD"
    assert normalize_code("il0o-abcd") == normalize_code("1100ABCD")
    assert normalize_code("OOOO-LLLL") == "00001111"


@pytest.mark.parametrize("text", ["", "ABC", "ABCD-EFG!", "U" * 8, "x" * 100])
def test_non_codes_normalize_to_none(text: str) -> None:
    assert normalize_code(text) is None


@given(st.text(max_size=80))
def test_normalize_never_raises(text: str) -> None:
    result = normalize_code(text)
    assert result is None or set(result) <= set(ALPHABET)
