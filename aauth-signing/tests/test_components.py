"""Component values and field canonicalisation, from the RFC 9421 §2.1–§2.4 examples."""

from __future__ import annotations

import pytest
from aauth_signing import (
    Component,
    HttpRequest,
    HttpResponse,
    InvalidRequest,
    InvalidSignature,
    SignatureParams,
    signature_base,
)


def line(message: HttpRequest | HttpResponse, identifier: str) -> str:
    """The signature base line of one component (the identifier as in Signature-Input)."""
    base = signature_base(message, SignatureParams((Component.parse(identifier),)))
    return base.decode("ascii").split("\n")[0]


def request(uri: str = "https://www.example.com/path?param=value", *headers: str) -> HttpRequest:
    lines = [tuple(h.split(": ", 1)) for h in headers]
    return HttpRequest("POST", uri, lines)  # type: ignore[arg-type]


# RFC 9421 §2.1 example message fragment (field values as an HTTP/1.1 parser hands them over).
FIELDS = [
    ("Host", "www.example.com"),
    ("Date", "Tue, 20 Apr 2021 02:07:56 GMT"),
    ("X-OWS-Header", "   Leading and trailing whitespace.   "),
    ("X-Obs-Fold-Header", "Obsolete\r\n    line folding."),
    ("Cache-Control", "max-age=60"),
    ("Cache-Control", "   must-revalidate"),
    ("Example-Dict", " a=1,    b=2;x=1;y=2,   c=(a   b   c)"),
    ("X-Empty-Header", ""),
]


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        ('"host"', '"host": www.example.com'),
        ('"date"', '"date": Tue, 20 Apr 2021 02:07:56 GMT'),
        ('"x-ows-header"', '"x-ows-header": Leading and trailing whitespace.'),
        ('"x-obs-fold-header"', '"x-obs-fold-header": Obsolete line folding.'),
        ('"cache-control"', '"cache-control": max-age=60, must-revalidate'),
        ('"example-dict"', '"example-dict": a=1,    b=2;x=1;y=2,   c=(a   b   c)'),
        ('"x-empty-header"', '"x-empty-header": '),
        ('"example-dict";sf', '"example-dict";sf: a=1, b=2;x=1;y=2, c=(a b c)'),
    ],
)
def test_section_2_1_field_values(identifier: str, expected: str) -> None:
    assert line(HttpRequest("GET", "https://www.example.com/", FIELDS), identifier) == expected


def test_obs_fold_swallows_the_whitespace_around_it() -> None:
    message = request("https://a.example/", "X-Fold: one  \r\n\t two")
    assert line(message, '"x-fold"') == '"x-fold": one two'


@pytest.mark.parametrize(
    ("key", "expected"),
    [("a", "1"), ("d", "?1"), ("b", "2;x=1;y=2"), ("c", "(a b c)")],
)
def test_section_2_1_2_dictionary_members(key: str, expected: str) -> None:
    message = request("https://a.example/", "Example-Dict:  a=1, b=2;x=1;y=2, c=(a   b    c), d")
    assert line(message, f'"example-dict";key="{key}"') == f'"example-dict";key="{key}": {expected}'


def test_key_combines_multiple_lines_into_one_dictionary() -> None:
    message = request("https://a.example/", "Example-Dict: a=1", "Example-Dict: b=2")
    assert line(message, '"example-dict";key="b"') == '"example-dict";key="b": 2'


def test_section_2_1_3_byte_sequence_wrapping() -> None:
    split = request(
        "https://a.example/", "Example-Header: value, with, lots", "Example-Header: of, commas"
    )
    joined = request("https://a.example/", "Example-Header: value, with, lots, of, commas")
    assert line(split, '"example-header";bs') == (
        '"example-header";bs: :dmFsdWUsIHdpdGgsIGxvdHM=:, :b2YsIGNvbW1hcw==:'
    )
    assert line(joined, '"example-header";bs') == (
        '"example-header";bs: :dmFsdWUsIHdpdGgsIGxvdHMsIG9mLCBjb21tYXM=:'
    )
    # Without ;bs the two messages are indistinguishable, which is why ;bs exists.
    assert line(split, '"example-header"')[-6:] == line(joined, '"example-header"')[-6:]


@pytest.mark.parametrize(
    "identifier",
    [
        '"example-dict";key="zz"',  # member absent
        '"example-dict";bs;sf',  # incompatible parameters
        '"example-dict";bs;key="a"',
        '"date";sf',  # not a known structured field
        '"accept-signature-alg";key="a"',  # a List, not a Dictionary
        '"example-dict";tr',  # trailers are not available
        '"example-dict";foo',  # unknown parameter
        '"example-dict";sf=?0',  # flags must be true
        '"example-dict";req',  # ;req on a request
        '"missing"',  # absent field
        '"Example-Dict"',  # not lowercase
    ],
)
def test_unresolvable_field_components_are_errors(identifier: str) -> None:
    message = request("https://a.example/", "Example-Dict: a=1", "Accept-Signature-Alg: Ed25519")
    with pytest.raises(InvalidSignature):
        line(message, identifier)


def test_sf_on_a_malformed_structured_field_is_an_error() -> None:
    with pytest.raises(InvalidSignature):
        line(request("https://a.example/", "Example-Dict: a=(("), '"example-dict";sf')


# RFC 9421 §2.2: POST /path?param=value to www.example.com over https.
@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        ('"@method"', "POST"),
        ('"@target-uri"', "https://www.example.com/path?param=value"),
        ('"@authority"', "www.example.com"),
        ('"@scheme"', "https"),
        ('"@request-target"', "/path?param=value"),
        ('"@path"', "/path"),
        ('"@query"', "?param=value"),
    ],
)
def test_section_2_2_derived_components(identifier: str, expected: str) -> None:
    assert line(request(), identifier) == f"{identifier}: {expected}"


def test_scheme_is_lowercased() -> None:
    assert line(request("HTTP://www.example.com/path"), '"@scheme"') == '"@scheme": http'


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (
            "https://www.example.com/path?param=value&foo=bar&baz=bat%2Dman",
            "?param=value&foo=bar&baz=bat%2Dman",
        ),
        ("https://www.example.com/path?queryString", "?queryString"),
        ("https://www.example.com/path", "?"),
        ("https://www.example.com/path?", "?"),
    ],
)
def test_section_2_2_7_query(uri: str, expected: str) -> None:
    assert line(request(uri), '"@query"') == f'"@query": {expected}'


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("https://www.example.com/path?a=1", "/path?a=1"),
        ("https://www.example.com/path?", "/path?"),
        ("https://www.example.com/path", "/path"),
        ("https://www.example.com", "/"),
    ],
)
def test_request_target_keeps_an_empty_query(uri: str, expected: str) -> None:
    assert line(request(uri), '"@request-target"') == f'"@request-target": {expected}'


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("https://www.example.com", "/"),
        ("https://www.example.com/a%2Fb/./c", "/a%2Fb/./c"),
        ("https://www.example.com/p#fragment", "/p"),
    ],
)
def test_path_is_as_sent_and_never_empty(uri: str, expected: str) -> None:
    assert line(request(uri), '"@path"') == f'"@path": {expected}'


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("https://EXAMPLE.com:443/f", "example.com"),
        ("http://example.com:80/f", "example.com"),
        ("https://example.com:8443/f", "example.com:8443"),
        ("http://example.com:443/f", "example.com:443"),
        ("https://user:pw@Example.COM/f", "example.com"),
        ("https://[::1]:8443/f", "[::1]:8443"),
        ("https://[::1]:443/f", "[::1]"),
        ("https://example.com:/f", "example.com"),
    ],
)
def test_authority_is_normalised(uri: str, expected: str) -> None:
    assert line(request(uri), '"@authority"') == f'"@authority": {expected}'


def test_a_target_uri_that_cannot_be_split_is_an_invalid_request() -> None:
    with pytest.raises(InvalidRequest):
        line(request("https://[::1/f"), '"@authority"')


QUERY_PARAMS = "https://www.example.com/path?param=value&foo=bar&baz=batman&qux="
FINAL_RFC_QUERY = (
    "https://www.example.com/parameters?var=this%20is%20a%20big%0Amultiline%20value"
    "&bar=with+plus+whitespace&fa%C3%A7ade%22%3A%20=something"
)


@pytest.mark.parametrize(
    ("uri", "name", "expected"),
    [
        (QUERY_PARAMS, "baz", "batman"),
        (QUERY_PARAMS, "qux", ""),
        (QUERY_PARAMS, "param", "value"),
        (FINAL_RFC_QUERY, "var", "this%20is%20a%20big%0Amultiline%20value"),
        (FINAL_RFC_QUERY, "bar", "with%20plus%20whitespace"),
        (FINAL_RFC_QUERY, "fa%C3%A7ade%22%3A%20", "something"),
        ("https://a.example/p?baz=bat%2Dman", "baz", "bat-man"),
        ("https://a.example/p?t=a~b*c", "t", "a%7Eb*c"),
        ("https://a.example/p?flag", "flag", ""),
        ("https://a.example/p?%70aram=x", "param", "x"),
        ("https://a.example/p?bad=%FF", "bad", "%EF%BF%BD"),
    ],
)
def test_section_2_2_8_query_param(uri: str, name: str, expected: str) -> None:
    identifier = f'"@query-param";name="{name}"'
    assert line(request(uri), identifier) == f"{identifier}: {expected}"


@pytest.mark.parametrize(
    ("uri", "identifier"),
    [
        ("https://a.example/p?a=1&a=2", '"@query-param";name="a"'),  # repeated: cover @query
        ("https://a.example/p?a=1&%61=2", '"@query-param";name="a"'),  # repeated once decoded
        ("https://a.example/p?a=1", '"@query-param";name="b"'),  # absent
        ("https://a.example/p", '"@query-param";name="a"'),  # no query at all
        ("https://a.example/p?a=1", '"@query-param"'),  # name missing
        ("https://a.example/p?a=1", '"@query-param";name=1'),  # name not a string
        ("https://a.example/p?a=1", '"@query";name="a"'),  # name only for @query-param
        ("https://a.example/p", '"@unknown"'),  # unknown derived component
        ("https://a.example/p", '"@status"'),  # responses only
        ("https://a.example/p", '"@method";req'),  # ;req on a request
    ],
)
def test_unresolvable_derived_components_are_errors(uri: str, identifier: str) -> None:
    with pytest.raises(InvalidSignature):
        line(request(uri), identifier)


def test_section_2_2_9_status_on_responses_only() -> None:
    response = HttpResponse(200, [("Date", "Fri, 26 Mar 2010 00:05:00 GMT")])
    assert line(response, '"@status"') == '"@status": 200'
    with pytest.raises(InvalidSignature):
        line(response, '"@method"')  # request-only without ;req


def test_section_2_4_req_takes_values_from_the_request() -> None:
    origin = HttpRequest(
        "POST", "https://example.com/foo?param=Value&Pet=dog", [("Example-Dict", "a=1, b=2")]
    )
    response = HttpResponse(503, [("Example-Dict", "a=9")], request=origin)
    assert line(response, '"@method";req') == '"@method";req: POST'
    assert line(response, '"@authority";req') == '"@authority";req: example.com'
    assert line(response, '"@query-param";req;name="Pet"') == '"@query-param";req;name="Pet": dog'
    assert line(response, '"example-dict";req;key="b"') == '"example-dict";req;key="b": 2'
    assert line(response, '"example-dict"') == '"example-dict": a=9'
    with pytest.raises(InvalidSignature):
        line(HttpResponse(503, [], request=None), '"@method";req')
    with pytest.raises(InvalidSignature):
        line(response, '"@status";req')


def test_signature_params_line_is_the_canonical_member() -> None:
    params = SignatureParams(
        (Component("@method"), Component.parse('"@query-param";name="id"')),
        (("created", 1), ("nonce", 'a"b'), ("tag", "t")),
    )
    base = signature_base(HttpRequest("GET", "https://a.example/?id=7"), params).decode()
    assert base.split("\n") == [
        '"@method": GET',
        '"@query-param";name="id": 7',
        '"@signature-params": ("@method" "@query-param";name="id");created=1;nonce="a\\"b";tag="t"',
    ]


@pytest.mark.parametrize(
    "components",
    [
        (Component("@method"), Component("@method")),
        (Component.parse('"x";sf;bs'), Component.parse('"x";bs;sf')),  # order is irrelevant
        (Component("@signature-params"),),
    ],
)
def test_invalid_component_lists(components: tuple[Component, ...]) -> None:
    with pytest.raises(InvalidSignature):
        SignatureParams(components)


def test_the_same_name_with_and_without_req_is_allowed() -> None:
    params = SignatureParams((Component("date"), Component("date", (("req", True),))))
    assert params.names == frozenset({"date"})
    assert params.whole == frozenset({"date"})


@pytest.mark.parametrize(
    ("name", "value"), [("created", "1"), ("expires", True), ("keyid", 1), ("alg", b"x")]
)
def test_signature_parameter_types_are_checked(name: str, value: object) -> None:
    with pytest.raises(InvalidSignature):
        SignatureParams((), ((name, value),))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "headers",
    [
        [("X-Bad", "line\nbreak")],
        [("X-Bad", "carriage\rreturn")],
        [("X-Bad", "caf\u00e9")],
    ],
)
def test_values_that_cannot_be_in_a_base_are_errors(headers: list[tuple[str, str]]) -> None:
    with pytest.raises(InvalidSignature):
        line(HttpRequest("GET", "https://a.example/", headers), '"x-bad"')


def test_non_ascii_target_is_an_error() -> None:
    with pytest.raises(InvalidSignature):
        line(HttpRequest("GET", "https://a.example/caf\u00e9"), '"@path"')


def test_component_identifiers_round_trip() -> None:
    for identifier in ('"@query-param";name="Pet"', '"example-dict";req;key="a"', '"date"'):
        assert Component.parse(identifier).identifier == identifier
    with pytest.raises(InvalidSignature):
        Component("caf\u00e9")
    with pytest.raises(InvalidSignature):
        Component.parse("not-a-string")
