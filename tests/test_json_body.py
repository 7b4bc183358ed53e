"""The strict JSON body reader every participant uses (issue 9, item 4)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aauth.errors import InvalidRequest
from aauth.json_body import MAX_JSON_DEPTH, parse_json, parse_json_object


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b'{"n": NaN}', "NaN"),
        (b'{"n": Infinity}', "Infinity"),
        (b'{"n": -Infinity}', "-Infinity"),
        (b'{"n": 1e999}', "out of range"),
        (b'{"n": -1e999}', "out of range"),
        (b'{"s": "\\ud800"}', "UTF-8"),
        (b'{"\\udfff": 1}', "UTF-8"),
        (b'{"s": "\xff"}', "UTF-8"),
        (b'{"s": "\xed\xa0\x80"}', "UTF-8"),  # a surrogate encoded as UTF-8 bytes
        (b'{"a": 1, "a": 2}', "duplicate"),
        (b'{"a": {"b": 1, "b": 1}}', "duplicate"),
        (b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1), "deeper"),
        (b"[" * 60_000, "deeper"),
        (b'{"a": ' * 5_000 + b"1" + b"}" * 5_000, "deeper"),
        (b"\xef\xbb\xbf{}", "strict JSON"),  # a byte-order mark
        (b"", "strict JSON"),
        (b'{"a": 1', "strict JSON"),
        (b'{"a": 1} x', "strict JSON"),
    ],
)
def test_refused(raw: bytes, why: str) -> None:
    with pytest.raises(InvalidRequest, match=why) as caught:
        parse_json(raw)
    assert (caught.value.status, caught.value.code) == (400, "invalid_request")


def test_size_cap() -> None:
    body = json.dumps({"s": "x" * 100}).encode()
    assert parse_json_object(body, max_bytes=len(body)) == {"s": "x" * 100}
    with pytest.raises(InvalidRequest, match="exceeds"):
        parse_json_object(body, max_bytes=len(body) - 1)


def test_depth_cap_is_inclusive() -> None:
    deepest = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    assert parse_json(deepest) is not None


@pytest.mark.parametrize("raw", [b"[]", b'"x"', b"1", b"null", b"true"])
def test_object_required(raw: bytes) -> None:
    parse_json(raw)
    with pytest.raises(InvalidRequest, match="must be a JSON object"):
        parse_json_object(raw, what="the token request body")


def test_accepts_what_strict_json_allows() -> None:
    raw = '{"a": [1, -2.5e10, true, null, "é\\u00e9 \\ud83d\\ude00"], "b": {}}'.encode()
    assert parse_json_object(raw) == {"a": [1, -2.5e10, True, None, "éé 😀"], "b": {}}


_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(), _values, max_size=5))
def test_round_trips_any_strict_object(value: dict[str, Any]) -> None:
    raw = json.dumps(value, ensure_ascii=False).encode("utf-8")
    assert parse_json_object(raw) == value


@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_invalid_request(raw: bytes) -> None:
    with contextlib.suppress(InvalidRequest):
        parse_json(raw)
