"""The public surface changes only on purpose: these lists are the contract."""

from __future__ import annotations

import aauth_signing

import aauth

AAUTH = [
    "AAuthError",
    "AAuthMiddleware",
    "AAuthRequest",
    "AgentAuth",
    "AgentSigner",
    "AgentTokenRequired",
    "AuthTokenRequired",
    "Discovery",
    "EgressPolicy",
    "ErrorResponse",
    "KeySet",
    "KeySource",
    "RequestVerifier",
    "ResourcePolicy",
    "ResourceTokenIssuer",
    "SignatureError",
    "SigningKey",
    "StaticKeySource",
    "TokenVerifier",
    "VerifiedCaller",
    "VerifyingKey",
    "__version__",
    "error_response",
    "generate_key",
    "issue_agent_token",
    "issue_auth_token",
    "issue_resource_token",
]


def test_aauth_exports_exactly_the_documented_names() -> None:
    assert sorted(aauth.__all__) == sorted(AAUTH)
    for name in aauth.__all__:
        assert hasattr(aauth, name), name


def test_no_private_names_are_exported() -> None:
    for module in (aauth, aauth_signing):
        assert not [n for n in module.__all__ if n.startswith("_") and n != "__version__"]
        for name in module.__all__:
            assert hasattr(module, name), name


def test_the_typed_api_stays_clean_of_0_3_names() -> None:
    """aauth.__all__ is the typed API; the 0.3 names resolve on access only (issue 10)."""
    from aauth.compat import NAMES

    assert not set(NAMES) & set(aauth.__all__)
    assert "sign_request" not in vars(aauth)
    assert callable(aauth.sign_request)
