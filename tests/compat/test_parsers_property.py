"""The 0.3 parsers on arbitrary input: a result or the documented error, never another
exception (hypothesis)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import aauth

PARSERS: list[tuple[Callable[[str], Any], type[Exception]]] = [
    (aauth.parse_agent_auth_header, aauth.ChallengeError),
    (aauth.parse_aauth_header, aauth.ChallengeError),
    (aauth.parse_aauth_requirement, aauth.ChallengeError),
    (aauth.parse_signature_error, aauth.ChallengeError),
    (aauth.parse_aauth_mission_header, aauth.ChallengeError),
    (aauth.parse_signature_key, ValueError),
    (aauth.parse_signature_input, ValueError),
    (aauth.parse_signature, ValueError),
    (aauth.parse_token_claims, aauth.TokenError),
    (aauth.extract_resource_token, aauth.ChallengeError),
]

HEADERISH = st.one_of(
    st.text(max_size=200),
    st.text(alphabet='sigrequmnt=;,"() -_.:@/?1hwkjaxe', max_size=200),
)


@pytest.mark.parametrize(("parse", "error"), PARSERS, ids=[p.__name__ for p, _ in PARSERS])
@settings(max_examples=150, deadline=None)
@given(value=HEADERISH)
def test_parsers_fail_only_with_their_error(
    parse: Callable[[str], Any], error: type[Exception], value: str
) -> None:
    argument: Any = {"AAuth-Requirement": value} if parse is aauth.extract_resource_token else value
    with contextlib.suppress(error):
        parse(argument)
