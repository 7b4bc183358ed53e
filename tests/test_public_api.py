"""The public surface changes only on purpose: these lists are the contract."""

from __future__ import annotations

import aauth_signing

import aauth

AAUTH = [
    "AAuthError",
    "AAuthMiddleware",
    "AAuthRequest",
    "AgentAuth",
    "AgentRequestSigner",
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
    "build_agent_auth_challenge",
    "calculate_jwk_thumbprint",
    "create_auth_token",
    "create_resource_token",
    "error_response",
    "generate_ed25519_keypair",
    "generate_key",
    "issue_agent_token",
    "issue_auth_token",
    "issue_resource_token",
    "parse_agent_auth_header",
    "parse_token_claims",
    "public_key_to_jwk",
    "sign_request",
    "verify_agent_token",
    "verify_signature",
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
