"""Wrong types fail at construction with a clear TypeError/ValueError, not later and not
silently (issue 12, "Library")."""

from __future__ import annotations

import pytest

from aauth import AgentSigner, ResourcePolicy, generate_key
from aauth.agent.auth import AgentAuth

API = "https://api.example"


def test_required_scopes_as_one_string_is_refused() -> None:
    with pytest.raises(TypeError, match=r"required_scopes must be a tuple of strings.*data\.read"):
        ResourcePolicy(API, required_scopes="data.read")  # type: ignore[arg-type]


def test_trusted_issuers_as_one_string_is_refused() -> None:
    with pytest.raises(TypeError, match="trusted_issuers must be a tuple of strings"):
        ResourcePolicy(API, trusted_issuers="https://ps.example")  # type: ignore[arg-type]


def test_collections_of_strings_become_tuples_and_other_items_are_refused() -> None:
    policy = ResourcePolicy(API, trusted_issuers=["https://ps.example"])  # type: ignore[arg-type]
    assert policy.trusted_issuers == ("https://ps.example",)
    assert ResourcePolicy(API, trusted_issuers=None).trusted_issuers is None
    with pytest.raises(TypeError, match="canonical_authorities must hold only strings"):
        ResourcePolicy(API, canonical_authorities=(1,))  # type: ignore[arg-type]


def test_require_auth_token_without_scopes_is_refused() -> None:
    with pytest.raises(ValueError, match="require_auth_token=True needs required_scopes"):
        ResourcePolicy(API, require_auth_token=True)
    base = ResourcePolicy(API)
    with pytest.raises(ValueError, match="needs required_scopes"):
        base.with_(require_auth_token=True)
    assert base.with_(require_auth_token=True, required_scopes=("data.read",)).require_auth_token


def test_a_flag_that_is_not_a_bool_is_refused() -> None:
    with pytest.raises(TypeError, match="require_identity must be True or False"):
        ResourcePolicy(API, require_identity="no")  # type: ignore[arg-type]


@pytest.mark.parametrize("resource", ["api.example", "", "/data", 42])
def test_a_resource_that_is_not_an_identifier_is_refused(resource: object) -> None:
    with pytest.raises(ValueError, match="resource must be this resource's identifier"):
        ResourcePolicy(resource)  # type: ignore[arg-type]


def test_agent_signer_refuses_a_token_that_is_not_a_string() -> None:
    with pytest.raises(TypeError, match="agent_token must be the agent token"):
        AgentSigner(generate_key(), 123)  # type: ignore[arg-type]


def test_agent_signer_refuses_a_key_that_is_not_a_signing_key() -> None:
    with pytest.raises(TypeError, match=r"key must be an aauth_signing\.SigningKey"):
        AgentSigner("agent.jwk")  # type: ignore[arg-type]


def test_agent_auth_refuses_a_bare_key() -> None:
    expected = r"must be an AgentSigner\(key, agent_token\), not SigningKey"
    with pytest.raises(TypeError, match=expected):
        AgentAuth(generate_key())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="parent must be an AgentSigner"):
        AgentAuth(AgentSigner(generate_key()), parent="x")  # type: ignore[arg-type]
