"""Property tests: every parser fails closed with a ``SignatureError`` on any input, and the
regex fast paths in ``_structured`` agree with http-sf whenever they accept."""

from __future__ import annotations

import contextlib
import json
import string
from typing import Any

import http_sf
import pytest
from aauth_signing import (
    Component,
    HttpRequest,
    InvalidJWT,
    SignatureError,
    SignatureKeyHeader,
    SignatureParams,
    SigningKey,
    VerificationPolicy,
    b64url_encode,
    decode_compact,
    parse_signature,
    parse_signature_input,
    public_key_from_jwk,
    signature_base,
    verify,
    verify_content_digest,
    verify_request,
)
from aauth_signing._structured import (
    _FAST_SIGNATURE_INPUT,
    fast_names,
    fast_signature,
    fast_signature_input,
)
from aauth_signing.jws import STRICT_JSON, decode_segment
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text shaped like structured fields, so the parsers get past their first character.
SF_CHARS = string.ascii_lowercase + string.digits + '=();:,"*?-_./+ \\@%' + "ABCxyz\t"
sf_text = st.text(alphabet=SF_CHARS, max_size=120)
any_text = st.one_of(st.text(max_size=200), sf_text)
keys = st.from_regex(r"[a-z*][a-z0-9_\-.*]{0,8}", fullmatch=True)
printable = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20)
bare_items = st.one_of(
    st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1),
    printable,
    st.binary(max_size=40),
    st.booleans(),
    st.from_regex(r"[a-zA-Z*][a-zA-Z0-9:/!#$%&'*+\-.^_`|~]{0,8}", fullmatch=True).map(
        http_sf.Token
    ),
)
params = st.dictionaries(keys, bare_items, max_size=4)


@st.composite
def signature_inputs(draw: st.DrawFn) -> str:
    """Valid Signature-Input values, canonical or not, via http-sf's own serializer."""
    members = draw(
        st.dictionaries(
            keys,
            st.tuples(st.lists(st.tuples(printable, params), max_size=5), params),
            min_size=1,
            max_size=3,
        )
    )
    text = http_sf.ser(members)
    if draw(st.booleans()):
        text = text.replace(";", "; ").replace(" ", draw(st.sampled_from([" ", "  "])))
    return text


def _fails_closed(call: Any, *args: Any) -> None:
    with contextlib.suppress(SignatureError):
        call(*args)


@SETTINGS
@given(st.one_of(any_text, signature_inputs(), st.from_regex(_FAST_SIGNATURE_INPUT)))
def test_parse_signature_input_fails_closed(text: str) -> None:
    _fails_closed(parse_signature_input, text)


@SETTINGS
@given(any_text)
def test_parse_signature_fails_closed(text: str) -> None:
    _fails_closed(parse_signature, text)


@SETTINGS
@given(any_text, st.sampled_from(["sig", "a", "x"]))
def test_signature_key_member_fails_closed(text: str, label: str) -> None:
    _fails_closed(lambda: SignatureKeyHeader.parse(text).member(label))


@st.composite
def signature_keys(draw: st.DrawFn) -> str:
    scheme = draw(
        st.sampled_from(["hwk", "jwt", "jkt-jwt", "jwks_uri", "jwks", "x509", "cached", "zz"])
    )
    names = st.sampled_from(
        [
            "kty",
            "crv",
            "x",
            "y",
            "n",
            "e",
            "alg",
            "kid",
            "jwt",
            "cache",
            "id",
            "dwk",
            "url",
            "x5u",
            "x5t",
            "cid",
        ]
    )
    values = st.one_of(
        bare_items,
        st.sampled_from(
            ["OKP", "EC", "RSA", "oct", "Ed25519", "P-256", "ES256", "EdDSA", "AQAB", "a.b.c"]
        ),
    )
    member = (http_sf.Token(scheme), draw(st.dictionaries(names, values, max_size=6)))
    return http_sf.ser({"sig": member})


@SETTINGS
@given(signature_keys())
def test_structured_signature_key_members_fail_closed(text: str) -> None:
    _fails_closed(lambda: SignatureKeyHeader.parse(text).member("sig"))


@SETTINGS
@given(any_text, st.binary(max_size=64))
def test_verify_content_digest_fails_closed(text: str, body: bytes) -> None:
    _fails_closed(verify_content_digest, text, body)


@SETTINGS
@given(st.one_of(any_text, st.builds(lambda n, p: http_sf.ser((n, p)), printable, params)))
def test_component_parse_fails_closed(text: str) -> None:
    try:
        component = Component.parse(text)
    except SignatureError:
        return
    request = HttpRequest("GET", "https://a.example/p?q=1", {"Example-Dict": "a=1"})
    _fails_closed(lambda: signature_base(request, SignatureParams((component,))))


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10)),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
jwk_names = st.sampled_from(["kty", "crv", "x", "y", "n", "e", "alg", "kid", "d", "k", "use"])
jwk_values = st.one_of(
    json_values,
    st.sampled_from(
        [
            "OKP",
            "EC",
            "RSA",
            "oct",
            "AKP",
            "Ed25519",
            "Ed448",
            "P-256",
            "P-384",
            "ES256",
            "ES384",
            "EdDSA",
            "PS256",
            "RS256",
            "HS256",
            "none",
            "AQAB",
            "AA",
            "",
        ]
    ),
    st.binary(min_size=0, max_size=70).map(lambda b: __import__("aauth_signing").b64url_encode(b)),
)


@SETTINGS
@given(
    st.dictionaries(st.one_of(jwk_names, st.text(max_size=4)), jwk_values, max_size=8),
    st.booleans(),
)
def test_public_key_from_jwk_fails_closed(jwk: dict[Any, Any], legacy: bool) -> None:
    _fails_closed(lambda: public_key_from_jwk(jwk, allow_legacy=legacy))


@SETTINGS
@given(
    st.one_of(
        any_text,
        st.tuples(json_values, json_values, st.binary(max_size=8)).map(
            lambda parts: ".".join(
                __import__("aauth_signing").b64url_encode(
                    p if isinstance(p, bytes) else __import__("json").dumps(p).encode()
                )
                for p in parts
            )
        ),
    )
)
def test_decode_compact_fails_closed(text: str) -> None:
    _fails_closed(decode_compact, text)


KEY = SigningKey.generate("Ed25519")


@SETTINGS
@given(
    st.one_of(signature_inputs(), sf_text),
    st.one_of(sf_text, st.just("sig=:AAAA:")),
    st.one_of(signature_keys(), sf_text),
    st.sampled_from(
        ["https://a.example/p?q=1", "https://[::1/x", "not a uri", "https://A.example:443"]
    ),
)
def test_verify_request_fails_closed(si: str, sig: str, sk: str, uri: str) -> None:
    headers = {"Signature-Input": si, "Signature": sig, "Signature-Key": sk, "Example-Dict": "a=1"}
    request = HttpRequest("POST", uri, headers, b"{}")
    policy = VerificationPolicy.generic(
        required_components=(),
        require_query=False,
        require_content_digest=False,
        required_params=(),
    )
    _fails_closed(verify_request, request, policy)
    _fails_closed(verify, request, KEY.public_key())


# The fast paths must never diverge from http-sf.


def _slow_signature_input(
    text: str,
) -> tuple[str, tuple[str, ...], tuple[tuple[str, Any], ...], str]:
    parsed = http_sf.parse(text.encode("ascii"), tltype="dictionary")
    assert isinstance(parsed, dict)
    assert len(parsed) == 1
    ((label, (items, member_params)),) = parsed.items()
    names = tuple(value for value, _ in items)
    member = http_sf.ser({label: (items, member_params)})[len(label) + 1 :]
    return label, names, tuple(member_params.items()), member


@SETTINGS
@given(st.one_of(signature_inputs(), st.from_regex(_FAST_SIGNATURE_INPUT, fullmatch=True), sf_text))
def test_fast_signature_input_matches_http_sf(text: str) -> None:
    fast = fast_signature_input(text)
    assume(fast is not None)
    assert fast is not None
    label, inner, fast_params, member = fast
    assert (label, fast_names(inner), fast_params, member) == _slow_signature_input(text)


@SETTINGS
@given(
    keys,
    st.lists(printable, max_size=6),
    st.dictionaries(keys, st.one_of(st.integers(0, 10**15 - 1), printable), max_size=3),
)
def test_fast_signature_input_accepts_canonical_plain_members(
    label: str, names: list[str], ps: dict[str, Any]
) -> None:
    text = http_sf.ser({label: ([(n, {}) for n in names], ps)})
    fast = fast_signature_input(text)
    if all(" " not in n and '"' not in n and "\\" not in n for n in names) and all(
        '"' not in str(v) and "\\" not in str(v) for v in ps.values()
    ):
        assert fast is not None  # the common canonical form does take the fast path
    if fast is not None:
        label_, inner, fast_params, member = fast
        assert (label_, fast_names(inner), fast_params, member) == _slow_signature_input(text)


@SETTINGS
@given(
    st.one_of(
        st.builds(lambda k, b: http_sf.ser({k: (b, {})}), keys, st.binary(max_size=96)), sf_text
    )
)
def test_fast_signature_matches_http_sf(text: str) -> None:
    fast = fast_signature(text)
    assume(fast is not None)
    assert fast is not None
    parsed = http_sf.parse(text.encode("ascii"), tltype="dictionary")
    assert isinstance(parsed, dict)
    ((label, (value, member_params)),) = parsed.items()
    assert member_params == {}
    assert fast == (label, value)


@SETTINGS
@given(keys, st.binary(max_size=96))
def test_fast_signature_accepts_canonical_members(label: str, raw: bytes) -> None:
    assert fast_signature(http_sf.ser({label: (raw, {})})) == (label, raw)


# JSON text with the shapes the strict decoder must judge: whitespace around and inside,
# duplicate names, escapes (lone surrogates included), non-finite literals, trailing data.
JSON_PIECES = st.sampled_from(
    [
        '{"a":1}',
        '{"a":1,"a":2}',
        '{"a":{"b":1,"b":1}}',
        ' {"a":1}',
        '{"a":1} ',
        '{"a":1}x',
        '{"s":"\\ud800"}',
        '{"s":"\\udc00x"}',
        '{"s":"\\ud83d\\ude00"}',
        '{"s":"\\\\ud800"}',
        '{"n":NaN}',
        '{"n":1e999}',
        '{"n":-Infinity}',
        "[1,2]",
        '"s"',
        "",
        "{",
        '{"a" :1}',
        '{"a":[{"b":1},{"b":2,"b":3}]}',
        '{"u":"\\u00e9"}',
        '\t{"a":true}\n',
        '{"a":1.5e3}',
    ]
)


def _reference_segment(text: str) -> Any:
    """What decode_segment must answer, from the reference decoder and checks spelled out."""
    value = STRICT_JSON.decode(text)
    json.dumps(value, ensure_ascii=False).encode("utf-8")  # lone surrogates
    if not isinstance(value, dict):
        raise ValueError("not an object")
    return value


DUMPED_JSON = st.tuples(
    json_values, st.sampled_from([(",", ":"), (", ", ": "), (" , ", " : ")]), st.booleans()
).map(lambda t: json.dumps(t[0], separators=t[1], ensure_ascii=t[2]))


@SETTINGS
@given(st.one_of(JSON_PIECES, st.lists(JSON_PIECES, max_size=3).map("".join), DUMPED_JSON))
def test_decode_segment_agrees_with_the_full_strict_decoder(text: str) -> None:
    """The C-scanner fast path and the surrogate check accept exactly what the reference
    does, with the same value."""
    segment = b64url_encode(text.encode("utf-8"))
    try:
        expected = _reference_segment(text)
    except ValueError:
        with pytest.raises(InvalidJWT):
            decode_segment(segment, "payload")
    else:
        assert decode_segment(segment, "payload") == expected
