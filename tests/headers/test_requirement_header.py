"""AAuth-Requirement (protocol-10 §E.1) and the legacy challenge headers it replaced (§A.2)."""

from __future__ import annotations

import contextlib

import http_sf
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aauth.errors import InvalidRequest
from aauth.headers import (
    AgentTokenRequirement,
    ApprovalRequirement,
    AuthTokenRequirement,
    BuildableRequirement,
    ClaimsRequirement,
    ClarificationRequirement,
    HeaderError,
    InteractionRequirement,
    PersonTokenRequirement,
    PseudonymousRequirement,
    Requirement,
    UnknownRequirement,
    build_challenge,
    build_requirement,
    find_requirement,
    parse_agent_auth,
    parse_challenge,
    parse_requirement,
)

RT = "eyJhbGciOiJFZDI1NTE5IiwidHlwIjoiYWEtcmVzb3VyY2Urand0In0.e30.c2ln"


# --- canonical output -------------------------------------------------------------------------


def test_rs01_agent_token_challenge_is_a_bare_401() -> None:
    requirement = AgentTokenRequirement()
    assert build_requirement(requirement) == "requirement=agent-token"
    assert requirement.status == 401
    assert build_challenge(requirement) == {"AAuth-Requirement": "requirement=agent-token"}


def test_rs02_auth_token_challenge_carries_the_resource_token() -> None:
    requirement = AuthTokenRequirement(RT)
    assert build_requirement(requirement) == f'requirement=auth-token;resource-token="{RT}"'
    assert requirement.status == 401
    assert build_challenge(requirement) == {
        "AAuth-Requirement": f'requirement=auth-token;resource-token="{RT}"'
    }


def test_v40_v31_interaction_challenge_is_a_202_with_location_and_no_store() -> None:
    requirement = InteractionRequirement("https://ps.example/interact", "7QKX-3MPD")
    assert requirement.status == 202
    assert build_challenge(
        requirement, location="https://ps.example/pending/abc", retry_after=0
    ) == {
        "AAuth-Requirement": (
            'requirement=interaction;url="https://ps.example/interact";code="7QKX-3MPD"'
        ),
        "Location": "https://ps.example/pending/abc",
        "Retry-After": "0",
        "Cache-Control": "no-store",
    }


@pytest.mark.parametrize(
    ("requirement", "text"),
    [
        (ApprovalRequirement(), "requirement=approval"),
        (ClarificationRequirement(), "requirement=clarification"),
        (ClaimsRequirement(), "requirement=claims"),
    ],
)
def test_v31_deferred_challenges_carry_location_retry_after_and_no_store(
    requirement: BuildableRequirement, text: str
) -> None:
    assert build_challenge(requirement, location="/pending/1") == {
        "AAuth-Requirement": text,
        "Location": "/pending/1",
        "Retry-After": "5",
        "Cache-Control": "no-store",
    }


def test_person_token_requirement_is_a_401_for_the_11_profile() -> None:
    assert build_requirement(PersonTokenRequirement()) == "requirement=person-token"
    assert PersonTokenRequirement.status == 401


def test_strings_are_escaped_canonically() -> None:
    assert build_requirement(AuthTokenRequirement('a"b\\c')) == (
        'requirement=auth-token;resource-token="a\\"b\\\\c"'
    )


def test_legacy_hints_are_never_emitted() -> None:
    legacy = parse_requirement(
        f'require=auth-token; resource-token="{RT}"; auth-server="https://a"'
    )
    assert legacy == AuthTokenRequirement(RT, "https://a")
    assert build_requirement(legacy) == f'requirement=auth-token;resource-token="{RT}"'
    claims = parse_requirement('requirement=claims; required_claims=("email" "tenant")')
    assert build_requirement(claims) == "requirement=claims"


@pytest.mark.parametrize(
    "requirement",
    [PseudonymousRequirement(), UnknownRequirement("payment-token")],
)
def test_legacy_and_unknown_requirements_cannot_be_built(requirement: Requirement) -> None:
    with pytest.raises(ValueError):
        build_requirement(requirement)


@pytest.mark.parametrize(
    "requirement",
    [
        AuthTokenRequirement(""),
        AuthTokenRequirement("line\nbreak"),
        AuthTokenRequirement("caf\u00e9"),
        InteractionRequirement(None, "7QKX-3MPD"),
        InteractionRequirement("http://ps.example/interact", "7QKX-3MPD"),
        InteractionRequirement("https://ps.example/interact?x=1", "7QKX-3MPD"),
        InteractionRequirement("https://ps.example/interact#top", "7QKX-3MPD"),
        InteractionRequirement("https://ps example/interact", "7QKX-3MPD"),
        InteractionRequirement("http://localhost:8080/interact", "7QKX-3MPD"),
        InteractionRequirement("https://ps.example/interact", ""),
    ],
)
def test_v40_invalid_parameters_are_refused_when_building(requirement: Requirement) -> None:
    with pytest.raises(ValueError):
        build_requirement(requirement)


def test_v40_loopback_interaction_url_needs_the_dev_flag() -> None:
    requirement = InteractionRequirement("http://localhost:8080/interact", "7QKX-3MPD")
    text = build_requirement(requirement, allow_loopback_http=True)
    assert text == 'requirement=interaction;url="http://localhost:8080/interact";code="7QKX-3MPD"'
    assert parse_requirement(text, allow_loopback_http=True) == requirement
    with pytest.raises(HeaderError):
        parse_requirement(text)


@pytest.mark.parametrize(
    ("location", "retry_after"),
    [
        (None, 5),
        ("", 5),
        ("https://x/pending 1", 5),
        ("https://x/p\r\nSet-Cookie: a", 5),
        ("/p", -1),
    ],
)
def test_v31_a_202_needs_a_clean_location_and_retry_after(
    location: str | None, retry_after: int
) -> None:
    with pytest.raises(ValueError):
        build_challenge(ApprovalRequirement(), location=location, retry_after=retry_after)


def test_a_401_challenge_takes_no_location() -> None:
    with pytest.raises(ValueError):
        build_challenge(AgentTokenRequirement(), location="/pending/1")


# --- parsing today's form ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("requirement=agent-token", AgentTokenRequirement()),
        (f'requirement=auth-token; resource-token="{RT}"', AuthTokenRequirement(RT)),
        (
            'requirement=interaction; url="https://ps.example/interact"; code="7QKX-3MPD"',
            InteractionRequirement("https://ps.example/interact", "7QKX-3MPD"),
        ),
        ("requirement=approval", ApprovalRequirement()),
        ("requirement=clarification", ClarificationRequirement()),
        ("requirement=claims", ClaimsRequirement()),
        ("requirement=person-token", PersonTokenRequirement()),
        ("  requirement=approval  ", ApprovalRequirement()),
    ],
)
def test_spec_examples_parse(text: str, expected: Requirement) -> None:
    assert parse_requirement(text) == expected


def test_unknown_parameters_and_members_are_ignored() -> None:
    text = f'requirement=auth-token;future=?1;resource-token="{RT}", other=1'
    assert parse_requirement(text) == AuthTokenRequirement(RT)
    assert parse_requirement("requirement=agent-token;x=1") == AgentTokenRequirement()


def test_ag14_unknown_requirement_is_not_a_buildable_known_value() -> None:
    parsed = parse_requirement('requirement=payment-token;x="y"')
    assert parsed == UnknownRequirement("payment-token")
    assert not isinstance(parsed, BuildableRequirement | PseudonymousRequirement)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "approval",
        "other=approval",
        'requirement="approval"',
        "requirement=(approval)",
        "requirement=?1",
        "requirement=auth-token",
        'requirement=auth-token;resource-token=""',
        "requirement=auth-token;resource-token=eyJ",
        'requirement=interaction;code="7QKX-3MPD"',
        'requirement=interaction;url="https://ps.example/i"',
        'requirement=interaction;url="https://ps.example/i";code=""',
        'requirement=interaction;url="http://ps.example/i";code="C"',
        'requirement=interaction;url="https://ps.example/i?a=b";code="C"',
        'requirement=interaction;url="https://ps.example/i#f";code="C"',
        'requirement=interaction;url="/relative";code="C"',
        "requirement=approval;",
        "requirement=approval,",
        "Requirement=approval",
        "requirement=approval\x00",
        "requirement=caf\u00e9",
        'requirement=auth-token;resource-token="' + "a" * 20000 + '"',
    ],
)
def test_malformed_values_raise_header_error(text: str) -> None:
    with pytest.raises(HeaderError):
        parse_requirement(text)


def test_header_error_is_an_invalid_request() -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_requirement("requirement=")
    assert caught.value.code == "invalid_request"
    assert caught.value.status == 400


# --- legacy forms (input only) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("require=identity", AgentTokenRequirement()),
        ("require=pseudonym", PseudonymousRequirement()),
        ("require=approval", ApprovalRequirement()),
        (f'require=auth-token; resource-token="{RT}"', AuthTokenRequirement(RT)),
        (
            f'require=auth-token; resource-token="{RT}"; auth-server="https://as.example"',
            AuthTokenRequirement(RT, "https://as.example"),
        ),
        ('require=interaction; code="ABCD1234"', InteractionRequirement(None, "ABCD1234")),
        ("requirement=identity", AgentTokenRequirement()),
        ("requirement=pseudonym", PseudonymousRequirement()),
        ('requirement=pseudonym, algorithms=("ed25519")', PseudonymousRequirement()),
        (
            'requirement=claims; required_claims=("email" "tenant")',
            ClaimsRequirement(("email", "tenant")),
        ),
        (
            'requirement=claims, required_claims=("email" "tenant")',
            ClaimsRequirement(("email", "tenant")),
        ),
        ("requirement=claims;required_claims=(email)", ClaimsRequirement(("email",))),
    ],
)
def test_legacy_aauth_and_signature_requirement_values_parse(
    text: str, expected: Requirement
) -> None:
    assert parse_requirement(text) == expected


def test_v40_todays_interaction_still_needs_a_url_even_though_legacy_may_omit_it() -> None:
    with pytest.raises(HeaderError):
        parse_requirement('requirement=interaction; code="ABCD1234"')


@pytest.mark.parametrize(
    "text",
    [
        'requirement=claims; required_claims=("email" 1)',
        'requirement=claims; required_claims=("email"',
        'requirement=claims, required_claims="email"',
        'require=auth-token; resource-token="x"; auth-server=x',
    ],
)
def test_malformed_legacy_values_raise_header_error(text: str) -> None:
    with pytest.raises(HeaderError):
        parse_requirement(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("httpsig", PseudonymousRequirement()),
        ("httpsig; identity=?1", AgentTokenRequirement()),
        ("httpsig; identity=?0", PseudonymousRequirement()),
        (
            f'httpsig; auth-token; resource_token="{RT}"; auth_server="https://as.example"',
            AuthTokenRequirement(RT, "https://as.example"),
        ),
        (f'httpsig; auth-token; resource_token="{RT}"', AuthTokenRequirement(RT)),
    ],
)
def test_jan_2026_agent_auth_header_parses(text: str, expected: Requirement) -> None:
    assert parse_agent_auth(text) == expected
    assert parse_challenge(text) == expected


@pytest.mark.parametrize(
    "text", ["", "identity=?1", "httpsig; auth-token", 'httpsig; auth-token; resource_token=""']
)
def test_malformed_agent_auth_raises_header_error(text: str) -> None:
    with pytest.raises(HeaderError):
        parse_agent_auth(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f'requirement=auth-token;resource-token="{RT}"', AuthTokenRequirement(RT)),
        ("require=identity", AgentTokenRequirement()),
        ('sig=("@method" "@authority" "@path");sigkey=jkt', PseudonymousRequirement()),
        ('sig=("@method" "@authority" "@path");sigkey=uri', AgentTokenRequirement()),
        ('sig=("@method" "@authority" "@path");sigkey=x509', AgentTokenRequirement()),
    ],
)
def test_parse_challenge_recognises_every_shape(text: str, expected: Requirement) -> None:
    assert parse_challenge(text) == expected


@pytest.mark.parametrize(
    "text", ["", "x=1", 'sig=("@method");created', 'sig=("@method");sigkey=psk', "(", "httpsig;"]
)
def test_parse_challenge_refuses_anything_else(text: str) -> None:
    with pytest.raises(HeaderError):
        parse_challenge(text)


# --- finding the requirement in a response ----------------------------------------------------


def test_find_prefers_aauth_requirement_over_legacy_headers() -> None:
    headers = {
        "Signature-Requirement": "requirement=pseudonym",
        "Agent-Auth": "httpsig",
        "AAuth": "require=identity",
        "AAuth-Requirement": "requirement=approval",
    }
    assert find_requirement(headers) == ApprovalRequirement()


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"aauth": "require=identity", "agent-auth": "httpsig"}, AgentTokenRequirement()),
        ({"Agent-Auth": "httpsig; identity=?1"}, AgentTokenRequirement()),
        ({"Signature-Requirement": "requirement=pseudonym"}, PseudonymousRequirement()),
        ({"Accept-Signature": 'sig=("@method");sigkey=uri'}, AgentTokenRequirement()),
        ({"Accept-Signature": 'sig=("@method" "signature-key");created'}, None),
        ({"Content-Type": "application/json"}, None),
        ({}, None),
    ],
)
def test_find_falls_back_through_legacy_headers(
    headers: dict[str, str], expected: Requirement | None
) -> None:
    assert find_requirement(headers) == expected


def test_find_accepts_field_lines_and_combines_repeated_ones() -> None:
    lines = [
        ("content-type", "application/json"),
        ("aauth-requirement", "requirement=approval"),
        ("AAuth-Requirement", "future=1"),
    ]
    assert find_requirement(lines) == ApprovalRequirement()
    assert (
        find_requirement([("AAUTH-REQUIREMENT", "requirement=approval")]) == ApprovalRequirement()
    )


def test_find_fails_closed_on_a_malformed_header_instead_of_falling_back() -> None:
    headers = {"AAuth-Requirement": "requirement=", "AAuth": "require=identity"}
    with pytest.raises(HeaderError):
        find_requirement(headers)


def test_find_passes_the_dev_flag_through() -> None:
    value = 'requirement=interaction;url="http://127.0.0.1:9000/i";code="ABCD-EFGH"'
    assert find_requirement({"AAuth-Requirement": value}, allow_loopback_http=True) == (
        InteractionRequirement("http://127.0.0.1:9000/i", "ABCD-EFGH")
    )


# --- properties -------------------------------------------------------------------------------

FRAGMENTS = [
    "requirement",
    "require",
    "=",
    ";",
    ", ",
    " ",
    "auth-token",
    "agent-token",
    "interaction",
    "claims",
    "identity",
    "pseudonym",
    "httpsig",
    "resource-token",
    "resource_token",
    "auth-token",
    "url",
    "code",
    "required_claims",
    "sigkey",
    "sig",
    '"https://ps.example/i"',
    '"x"',
    '""',
    "(",
    ")",
    "?1",
    "?0",
    ":YQ==:",
    "1.5",
    "\\",
    '"',
    "\u00e9",
    "\x00",
]
structured_text = st.lists(st.sampled_from(FRAGMENTS), max_size=14).map("".join)
any_text = st.one_of(st.text(max_size=200), structured_text)


@given(any_text)
def test_parse_requirement_raises_only_header_error(text: str) -> None:
    try:
        result = parse_requirement(text)
    except HeaderError:
        return
    assert result is not None


@given(any_text)
def test_parse_challenge_and_agent_auth_raise_only_header_error(text: str) -> None:
    for parser in (parse_challenge, parse_agent_auth):
        with contextlib.suppress(HeaderError):
            parser(text)


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "AAuth-Requirement",
                "AAuth",
                "Agent-Auth",
                "Signature-Requirement",
                "Accept-Signature",
            ]
        ),
        any_text,
    )
)
def test_find_requirement_raises_only_header_error(headers: dict[str, str]) -> None:
    with contextlib.suppress(HeaderError):
        find_requirement(headers)


printable = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=80)
hosts = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9](\.[a-z][a-z0-9]{0,10}){0,2}", fullmatch=True)
paths = st.from_regex(r"(/[A-Za-z0-9._~-]{0,8}){0,3}", fullmatch=True)
urls = st.builds(lambda host, path: f"https://{host}{path}", hosts, paths)
buildable = st.one_of(
    st.just(AgentTokenRequirement()),
    st.builds(AuthTokenRequirement, printable),
    st.builds(InteractionRequirement, urls, printable),
    st.just(ApprovalRequirement()),
    st.just(ClarificationRequirement()),
    st.just(ClaimsRequirement()),
    st.just(PersonTokenRequirement()),
)


@given(buildable)
def test_build_then_parse_round_trips_and_is_http_sf_canonical(
    requirement: BuildableRequirement,
) -> None:
    text = build_requirement(requirement)
    assert parse_requirement(text) == requirement
    assert parse_challenge(text) == requirement
    assert http_sf.ser(http_sf.parse(text.encode(), tltype="dictionary")) == text
