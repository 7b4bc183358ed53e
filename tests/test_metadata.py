"""The well-known metadata documents (protocol-10 §B.3-B.8)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from aauth_signing import IssuerMismatch, IssuerMissing
from hypothesis import given
from hypothesis import strategies as st

from aauth.errors import AAuthError
from aauth.metadata import (
    ACCESS_DWK,
    AGENT_DWK,
    DOCUMENT_TYPES,
    PERSON_DWK,
    RESOURCE_DWK,
    AccessServerMetadata,
    AgentProviderMetadata,
    MetadataDocument,
    MetadataError,
    PersonServerMetadata,
    ResourceMetadata,
    check_issuer,
    well_known_url,
)

AP = "https://ap.example"
PS = "https://ps.example"
AS = "https://as.example"
RS = "https://docs.example"


def agent_doc(**extra: Any) -> dict[str, Any]:
    return {"issuer": AP, "jwks_uri": f"{AP}/.well-known/jwks.json", **extra}


def person_doc(**extra: Any) -> dict[str, Any]:
    return {
        "issuer": PS,
        "jwks_uri": f"{PS}/.well-known/jwks.json",
        "token_endpoint": f"{PS}/token",
        **extra,
    }


def access_doc(**extra: Any) -> dict[str, Any]:
    return {
        "issuer": AS,
        "jwks_uri": f"{AS}/jwks",
        "token_endpoint": f"{AS}/token",
        **extra,
    }


RESOURCE_EXAMPLE = {
    "issuer": RS,
    "jwks_uri": f"{RS}/.well-known/jwks.json",
    "access_mode": "auth-token",
    "authorization_endpoint": f"{RS}/authorize",
    "scope_descriptions": {"docs.read": "Read your documents"},
    "signature_window": 60,
    "additional_signature_components": ["content-type", "content-digest"],
}


def test_well_known_names_and_url() -> None:
    assert (AGENT_DWK, PERSON_DWK, ACCESS_DWK, RESOURCE_DWK) == (
        "aauth-agent.json",
        "aauth-person.json",
        "aauth-access.json",
        "aauth-resource.json",
    )
    assert well_known_url(PS, PERSON_DWK) == "https://ps.example/.well-known/aauth-person.json"
    assert {name: kind.dwk for name, kind in DOCUMENT_TYPES.items()} == {
        name: name for name in (AGENT_DWK, PERSON_DWK, ACCESS_DWK, RESOURCE_DWK)
    }


def test_ap01_agent_provider_document_round_trip() -> None:
    """AP-01: issuer and jwks_uri; the §B.5 example parses and renders unchanged."""
    example = agent_doc(name="Trip Planner", callback_endpoint=f"{AP}/callback")
    example["localhost_callback_allowed"] = False
    doc = AgentProviderMetadata.from_json(example, AP)
    assert doc.callback_endpoint == f"{AP}/callback"
    assert doc.localhost_callback_allowed is False
    assert doc.to_json() == example
    with pytest.raises(MetadataError, match="jwks_uri"):
        AgentProviderMetadata.from_json({"issuer": AP}, AP)


def test_ps01_person_server_document() -> None:
    """PS-01: issuer, token_endpoint and jwks_uri are required."""
    doc = PersonServerMetadata.from_json(
        person_doc(
            mission_endpoint=f"{PS}/mission",
            scopes_supported=["openid", "email"],
            claims_supported=["sub", "email"],
        ),
        PS,
    )
    assert doc.token_endpoint == f"{PS}/token"
    assert doc.scopes_supported == ("openid", "email")
    assert doc.to_json()["scopes_supported"] == ["openid", "email"]
    assert "permission_endpoint" not in doc.to_json()
    for member in ("token_endpoint", "jwks_uri"):
        document = person_doc()
        del document[member]
        with pytest.raises(MetadataError, match=member):
            PersonServerMetadata.from_json(document, PS)


def test_person_server_uses_the_10_names_only() -> None:
    """The -11 auth_token_endpoint neither replaces token_endpoint nor is emitted."""
    document = person_doc(auth_token_endpoint=f"{PS}/auth")
    del document["token_endpoint"]
    with pytest.raises(MetadataError, match="token_endpoint"):
        PersonServerMetadata.from_json(document, PS)
    assert "auth_token_endpoint" not in PersonServerMetadata.from_json(person_doc(), PS).to_json()


def test_as01_access_server_document() -> None:
    """AS-01: issuer, token_endpoint and jwks_uri are required."""
    doc = AccessServerMetadata.from_json(access_doc(revocation_endpoint=f"{AS}/revoke"), AS)
    assert doc.revocation_endpoint == f"{AS}/revoke"
    with pytest.raises(MetadataError, match="token_endpoint"):
        AccessServerMetadata.from_json({"issuer": AS, "jwks_uri": f"{AS}/jwks"}, AS)


def test_rs21_resource_document() -> None:
    """RS-21: issuer required; jwks_uri optional in the document (required by discovery)."""
    doc = ResourceMetadata.from_json(RESOURCE_EXAMPLE, RS)
    assert doc.to_json() == RESOURCE_EXAMPLE
    assert doc.scope_descriptions == {"docs.read": "Read your documents"}
    assert doc.additional_signature_components == ("content-type", "content-digest")
    bare = ResourceMetadata.from_json({"issuer": RS}, RS)
    assert bare.jwks_uri is None
    assert bare.signature_window == 60
    assert bare.to_json() == {"issuer": RS, "signature_window": 60}


def test_constructed_documents_render_for_publishing() -> None:
    doc = PersonServerMetadata(
        issuer=PS, jwks_uri=f"{PS}/jwks", token_endpoint=f"{PS}/token", name="My PS"
    )
    assert doc.to_json() == {
        "issuer": PS,
        "jwks_uri": f"{PS}/jwks",
        "name": "My PS",
        "token_endpoint": f"{PS}/token",
    }
    assert PersonServerMetadata.from_json(doc.to_json(), PS) == doc
    with pytest.raises(dataclasses.FrozenInstanceError):
        doc.issuer = AP  # type: ignore[misc]


def test_v21_issuer_missing() -> None:
    """V-21: a document without issuer is rejected with issuer_missing."""
    document = agent_doc()
    del document["issuer"]
    with pytest.raises(IssuerMissing) as info:
        AgentProviderMetadata.from_json(document, AP)
    assert info.value.code == "issuer_missing"


@pytest.mark.parametrize(
    "issuer",
    [
        "https://ap.example/",
        "https://AP.example",
        "https://ap.example:443",
        "https://other.example",
        7,
    ],
)
def test_v22_v29_issuer_must_be_byte_equal(issuer: Any) -> None:
    """V-22, V-29: issuer equals the identifier the URL was built from, byte for byte."""
    with pytest.raises(IssuerMismatch) as info:
        AgentProviderMetadata.from_json(agent_doc(issuer=issuer), AP)
    assert info.value.code == "issuer_mismatch"


@pytest.mark.parametrize(
    "identifier",
    [
        "http://ap.example",
        "https://ap.example:8443",
        "https://ap.example/v1",
        "https://Ap.example",
        "http://localhost:8000",
    ],
)
def test_v30_issuer_must_be_a_server_identifier(identifier: str) -> None:
    """V-30: even when issuer equals the identifier, it must be https + lowercase host only."""
    with pytest.raises(MetadataError, match="server identifier"):
        check_issuer({"issuer": identifier}, identifier)


def test_loopback_development_documents_need_the_flag() -> None:
    base = "http://localhost:8000"
    document = {"issuer": base, "jwks_uri": f"{base}/jwks", "token_endpoint": f"{base}/token"}
    with pytest.raises(MetadataError):
        PersonServerMetadata.from_json(document, base)
    doc = PersonServerMetadata.from_json(document, base, allow_loopback_http=True)
    assert doc.token_endpoint == f"{base}/token"
    with pytest.raises(MetadataError, match="jwks_uri"):
        PersonServerMetadata.from_json(
            {**document, "jwks_uri": "http://ps.example/jwks"}, base, allow_loopback_http=True
        )


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("token_endpoint", "http://ps.example/token"),
        ("token_endpoint", "https://ps.example/token?x=1"),
        ("token_endpoint", "https://ps.example/token#frag"),
        ("token_endpoint", "https://ps.example/to\nken"),
        ("token_endpoint", "https://ps.example/tök"),
        ("token_endpoint", "/token"),
        ("mission_endpoint", 42),
        ("jwks_uri", "http://ps.example/jwks"),
        ("jwks_uri", "ftp://ps.example/jwks"),
        ("jwks_uri", ["https://ps.example/jwks"]),
        ("logo_uri", "javascript:alert(1)"),
        ("name", 5),
        ("description", {"md": "x"}),
        ("scopes_supported", "openid"),
        ("scopes_supported", ["openid", 3]),
        ("claims_supported", {"sub": True}),
    ],
)
def test_wrong_member_types_are_metadata_errors(member: str, value: Any) -> None:
    with pytest.raises(MetadataError, match=member) as info:
        PersonServerMetadata.from_json(person_doc(**{member: value}), PS)
    assert isinstance(info.value, AAuthError)
    assert (info.value.status, info.value.code) == (502, "server_error")


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("signature_window", True),
        ("signature_window", 0),
        ("signature_window", -5),
        ("signature_window", 60.0),
        ("signature_window", "60"),
        ("scope_descriptions", ["docs.read"]),
        ("scope_descriptions", {"docs.read": 1}),
        ("additional_signature_components", "content-type"),
        ("access_mode", False),
        ("authorization_endpoint", "https://docs.example/authorize?x"),
    ],
)
def test_wrong_resource_members_are_metadata_errors(member: str, value: Any) -> None:
    with pytest.raises(MetadataError, match=member):
        ResourceMetadata.from_json({**RESOURCE_EXAMPLE, member: value}, RS)


def test_agent_provider_boolean_is_strict() -> None:
    with pytest.raises(MetadataError, match="localhost_callback_allowed"):
        AgentProviderMetadata.from_json(agent_doc(localhost_callback_allowed="true"), AP)


def test_unknown_members_ignored_and_null_means_absent() -> None:
    doc = AgentProviderMetadata.from_json(
        agent_doc(clarification_supported=True, future={"x": 1}, callback_endpoint=None), AP
    )
    assert doc.callback_endpoint is None
    assert "future" not in doc.to_json()


def test_urls_may_carry_a_query_where_they_are_not_endpoints() -> None:
    doc = AgentProviderMetadata.from_json(agent_doc(jwks_uri=f"{AP}/jwks?v=2"), AP)
    assert doc.jwks_uri == f"{AP}/jwks?v=2"


@pytest.mark.parametrize("document", [None, [], "{}", 3])
def test_non_object_document(document: Any) -> None:
    with pytest.raises(MetadataError, match="JSON object"):
        ResourceMetadata.from_json(document, RS)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=10,
)
MEMBERS = st.sampled_from(
    [f.name for kind in DOCUMENT_TYPES.values() for f in dataclasses.fields(kind)]
)


@given(
    kind=st.sampled_from(list(DOCUMENT_TYPES.values())),
    document=st.dictionaries(MEMBERS | st.text(), JSON, max_size=8),
    keep_issuer=st.booleans(),
)
def test_any_json_gives_a_document_or_our_errors(
    kind: type[MetadataDocument], document: dict[str, Any], keep_issuer: bool
) -> None:
    if keep_issuer:
        document["issuer"] = PS
    try:
        doc = kind.from_json(document, PS)
    except (MetadataError, IssuerMissing, IssuerMismatch):
        return
    assert kind.from_json(doc.to_json(), PS) == doc
