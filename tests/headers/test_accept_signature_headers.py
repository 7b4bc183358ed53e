"""Accept-Signature-Scheme/-Alg, Signature-Error and RFC 9421 Accept-Signature
(signature-key-08 §3, with the -04..-07 ``sigkey`` form read for input)."""

from __future__ import annotations

import contextlib

import http_sf
import pytest
from aauth_signing import InvalidInput, UnsupportedAlgorithm, UnsupportedScheme
from hypothesis import given
from hypothesis import strategies as st

from aauth.headers import (
    HeaderError,
    LegacyAcceptSignature,
    SignatureErrorInfo,
    build_accept_signature_alg,
    build_accept_signature_scheme,
    is_forbidden_algorithm,
    parse_accept_signature,
    parse_accept_signature_alg,
    parse_accept_signature_scheme,
    parse_legacy_accept_signature,
    parse_signature_error,
)

# --- Accept-Signature-Scheme ------------------------------------------------------------------


def test_v19_scheme_list_is_canonical_and_ordered() -> None:
    assert build_accept_signature_scheme(["jwt"]) == "jwt"
    assert build_accept_signature_scheme(["jwt", "hwk", "jwt", "jwks_uri"]) == "jwt, hwk, jwks_uri"


@pytest.mark.parametrize("schemes", [[], [""], ["a b"], ["1jwt"], ["jwt", "caf\u00e9"]])
def test_scheme_build_refuses_non_tokens_and_empty_lists(schemes: list[str]) -> None:
    with pytest.raises(ValueError):
        build_accept_signature_scheme(schemes)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("jwt", ("jwt",)),
        ("jwt, hwk,jwks_uri", ("jwt", "hwk", "jwks_uri")),
        ('jwt;q=1, "hwk", (x509), cached', ("jwt", "cached")),
        ("", ()),
    ],
)
def test_scheme_parse_keeps_tokens_in_order(value: str, expected: tuple[str, ...]) -> None:
    assert parse_accept_signature_scheme(value) == expected


def test_scheme_parse_reads_what_aauth_signing_renders() -> None:
    headers = UnsupportedScheme("no", accepted=["jwt", "hwk"]).response_headers()
    assert parse_accept_signature_scheme(headers["Accept-Signature-Scheme"]) == ("jwt", "hwk")


# --- Accept-Signature-Alg ---------------------------------------------------------------------


def test_alg_list_preserves_case_and_order() -> None:
    assert build_accept_signature_alg(["Ed25519", "ES256"]) == "Ed25519, ES256"
    assert parse_accept_signature_alg("Ed25519, ES256, PS512") == ("Ed25519", "ES256", "PS512")


@pytest.mark.parametrize(
    "algs", [["none"], ["Ed25519", "HS256"], ["hs512"], ["EdDSA"], ["NONE"], [], ["ES 256"]]
)
def test_v18_alg_build_refuses_none_symmetric_and_polymorphic(algs: list[str]) -> None:
    with pytest.raises(ValueError):
        build_accept_signature_alg(algs)


def test_v18_alg_parse_drops_forbidden_values_a_server_should_not_have_sent() -> None:
    assert parse_accept_signature_alg("none, HS256, Ed25519, EdDSA, ES256") == ("Ed25519", "ES256")


@pytest.mark.parametrize("name", ["none", "None", "HS256", "HS384", "hs512", "EdDSA", "eddsa"])
def test_v13_forbidden_algorithm_names(name: str) -> None:
    assert is_forbidden_algorithm(name)


@pytest.mark.parametrize("name", ["Ed25519", "ES256", "ES384", "PS256", "RS256", "ML-DSA-44"])
def test_asymmetric_algorithm_names_are_allowed(name: str) -> None:
    assert not is_forbidden_algorithm(name)


def test_alg_parse_reads_what_aauth_signing_renders() -> None:
    headers = UnsupportedAlgorithm("no", accepted=["Ed25519", "ES256"]).response_headers()
    assert parse_accept_signature_alg(headers["Accept-Signature-Alg"]) == ("Ed25519", "ES256")


# --- Signature-Error --------------------------------------------------------------------------


def test_ag38_signature_error_with_required_input() -> None:
    value = (
        'error=invalid_input, required_input=("@method" "@authority" "@path" "signature-key" '
        '"content-digest")'
    )
    assert parse_signature_error(value) == SignatureErrorInfo(
        "invalid_input",
        ("@method", "@authority", "@path", "signature-key", "content-digest"),
    )


def test_signature_error_reads_what_aauth_signing_renders() -> None:
    error = InvalidInput("missing", required_input=["@method", "signature-key"])
    parsed = parse_signature_error(error.response_headers()["Signature-Error"])
    assert parsed == SignatureErrorInfo("invalid_input", ("@method", "signature-key"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("error=invalid_signature", SignatureErrorInfo("invalid_signature")),
        ("error=expired_jwt, future=?1, x=(1 2)", SignatureErrorInfo("expired_jwt")),
        (
            'error=unsupported_algorithm, supported_algorithms=("ed25519" ES256)',
            SignatureErrorInfo("unsupported_algorithm", (), ("ed25519", "ES256")),
        ),
    ],
)
def test_unknown_members_are_ignored_and_legacy_supported_algorithms_read(
    value: str, expected: SignatureErrorInfo
) -> None:
    assert parse_signature_error(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        'required_input=("@method")',
        'error="invalid_input"',
        "error=(invalid_input)",
        'error=invalid_input, required_input="@method"',
        "error=invalid_input, required_input=(method)",
        'error=invalid_input, required_input=("@method" 1)',
        "error=unsupported_algorithm, supported_algorithms=(1)",
        "error=",
    ],
)
def test_malformed_signature_error_raises_header_error(value: str) -> None:
    with pytest.raises(HeaderError):
        parse_signature_error(value)


# --- RFC 9421 Accept-Signature and the legacy sigkey form -------------------------------------


def test_accept_signature_lists_components_in_order() -> None:
    value = 'sig=("@method" "@authority" "@path" "signature-key");created'
    assert parse_accept_signature(value) == ("@method", "@authority", "@path", "signature-key")


def test_accept_signature_keeps_component_parameters_as_identifiers() -> None:
    value = (
        'sig1=("@method" "@target-uri" "@query-param";name="id" "content-digest";sf);'
        'keyid="test-key-rsa-pss";created;tag="app-123", sig2=("@status")'
    )
    assert parse_accept_signature(value) == (
        "@method",
        "@target-uri",
        '"@query-param";name="id"',
        '"content-digest";sf',
    )


def test_accept_signature_also_reads_the_components_of_a_legacy_value() -> None:
    assert parse_accept_signature('sig=("@method" "@path");sigkey=uri') == ("@method", "@path")


@pytest.mark.parametrize(
    "value", ["", 'sig="@method"', "sig=(method)", 'sig=("@method" 1)', 'sig=("")', "sig=("]
)
def test_malformed_accept_signature_raises_header_error(value: str) -> None:
    with pytest.raises(HeaderError):
        parse_accept_signature(value)


@pytest.mark.parametrize(
    ("sigkey", "scheme"),
    [("jkt", "hwk"), ("uri", "jwks_uri"), ("x509", "x509"), ('"uri"', "jwks_uri")],
)
def test_legacy_sigkey_maps_to_the_scheme_it_stood_for(sigkey: str, scheme: str) -> None:
    value = f'sig=("@method" "@authority" "@path");sigkey={sigkey}'
    assert parse_legacy_accept_signature(value) == LegacyAcceptSignature(
        "sig", ("@method", "@authority", "@path"), sigkey.strip('"'), scheme
    )


def test_legacy_sigkey_is_found_on_any_member() -> None:
    value = 'a=("@method"), b=("@path");alg="ed25519";sigkey=jkt'
    assert parse_legacy_accept_signature(value) == LegacyAcceptSignature(
        "b", ("@path",), "jkt", "hwk"
    )


@pytest.mark.parametrize("value", ['sig=("@method");created', ""])
def test_current_accept_signature_has_no_legacy_reading(value: str) -> None:
    assert parse_legacy_accept_signature(value) is None


@pytest.mark.parametrize(
    "value",
    ['sig=("@method");sigkey=psk', 'sig=("@method");sigkey=1', 'sig="x";sigkey=uri', "sig=("],
)
def test_unknown_sigkey_or_malformed_legacy_value_raises_header_error(value: str) -> None:
    with pytest.raises(HeaderError):
        parse_legacy_accept_signature(value)


# --- properties -------------------------------------------------------------------------------

FRAGMENTS = [
    "sig",
    "error",
    "required_input",
    "supported_algorithms",
    "sigkey",
    "jkt",
    "uri",
    "x509",
    "jwt",
    "Ed25519",
    "none",
    "=",
    ";",
    ", ",
    " ",
    "(",
    ")",
    '"@method"',
    '"x"',
    "name",
    "created",
    "?1",
    "1",
    ":YQ==:",
    '"',
    "\\",
    "\u00e9",
]
any_text = st.one_of(
    st.text(max_size=160), st.lists(st.sampled_from(FRAGMENTS), max_size=14).map("".join)
)


@given(any_text)
def test_every_parser_raises_only_header_error(value: str) -> None:
    for parser in (
        parse_accept_signature_scheme,
        parse_accept_signature_alg,
        parse_signature_error,
        parse_accept_signature,
        parse_legacy_accept_signature,
    ):
        with contextlib.suppress(HeaderError):
            parser(value)


sf_tokens = st.from_regex(r"[A-Za-z*][A-Za-z0-9:/!#$%&'*+\-.^_`|~]{0,15}", fullmatch=True)


@given(st.lists(sf_tokens, min_size=1, max_size=6))
def test_scheme_build_then_parse_round_trips(schemes: list[str]) -> None:
    text = build_accept_signature_scheme(schemes)
    assert parse_accept_signature_scheme(text) == tuple(dict.fromkeys(schemes))
    assert http_sf.ser(http_sf.parse(text.encode(), tltype="list")) == text


@given(st.lists(sf_tokens.filter(lambda a: not is_forbidden_algorithm(a)), min_size=1, max_size=6))
def test_alg_build_then_parse_round_trips(algs: list[str]) -> None:
    text = build_accept_signature_alg(algs)
    assert parse_accept_signature_alg(text) == tuple(dict.fromkeys(algs))
