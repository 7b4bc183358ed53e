"""The aauth 0.3.4 API, name for name: ``import aauth`` resolves each 0.3 name here.

:data:`NAMES` maps every public name of aauth 0.3.4 to the module of this package that
defines it; ``aauth.__getattr__`` calls :func:`resolve`, so the 0.3 names work as before
(``aauth.sign_request``, ``from aauth import create_auth_token``) while ``aauth.__all__``
stays the typed API. Five names are the typed classes themselves, which also accept 0.3's
calls: ``AAuthError``, ``SignatureError``, ``AAuthRequest``, ``RequestVerifier``,
``ResourceTokenIssuer``.

No warning by default. To be told where 0.3 names are still used, call
``aauth.compat.warn_on_use()`` (or set ``AAUTH_COMPAT_WARNINGS=1`` in the environment): each
resolution then emits a :class:`DeprecationWarning` naming the typed replacement
(``python -W default::DeprecationWarning`` or pytest shows them).
"""

from __future__ import annotations

import importlib
import os
import warnings
from typing import Any

__all__ = ["NAMES", "resolve", "warn_legacy_call", "warn_on_use"]

_MODULES: dict[str, str] = {
    "errors": """
        TokenError ChallengeError MetadataError JWKSError build_error_response
        ERROR_INVALID_REQUEST ERROR_INVALID_INPUT ERROR_INVALID_SIGNATURE
        ERROR_UNSUPPORTED_ALGORITHM ERROR_INVALID_KEY ERROR_UNKNOWN_KEY ERROR_INVALID_JWT
        ERROR_EXPIRED_JWT ERROR_INVALID_AGENT_TOKEN ERROR_EXPIRED_AGENT_TOKEN
        ERROR_INVALID_RESOURCE_TOKEN ERROR_EXPIRED_RESOURCE_TOKEN ERROR_INVALID_AUTH_TOKEN
        ERROR_SERVER_ERROR ERROR_DENIED ERROR_ABANDONED ERROR_EXPIRED ERROR_INVALID_CODE
        ERROR_SLOW_DOWN""",
    "metadata": """
        validate_server_identifier validate_endpoint_url validate_other_url
        generate_agent_metadata generate_resource_metadata generate_auth_metadata
        fetch_auth_metadata fetch_metadata generate_mm_metadata fetch_mm_metadata
        fetch_mm_metadata_async""",
    "http": "AAuthResponse",
    "keys": """
        generate_ed25519_keypair public_key_to_jwk jwk_to_public_key calculate_jwk_thumbprint
        generate_jwks JWKSFetcher JWKSCache DefaultHTTPClient""",
    "signing": """
        sign_request verify_signature ED25519 RSA_PSS_SHA512 RSA_PSS_SHA256
        ECDSA_P256_SHA256 ECDSA_P384_SHA384 SUPPORTED_ALGORITHMS is_supported
        build_signature_key_header parse_signature_key build_signature_input_header
        parse_signature_input build_signature_header parse_signature""",
    "tokens": """
        create_agent_token verify_agent_token create_auth_token parse_token_claims
        verify_token create_resource_token""",
    "headers": """
        parse_agent_auth_header build_agent_auth_challenge parse_aauth_header
        parse_aauth_requirement parse_signature_requirement build_pseudonym_requirement
        build_identity_requirement build_auth_token_requirement build_interaction_requirement
        build_approval_requirement build_clarification_requirement build_claims_requirement
        build_aauth_mission_header parse_aauth_mission_header requirement_header_for_level
        get_challenge_header_value build_aauth_error build_signature_error parse_aauth_error
        parse_signature_error REQUIRE_PSEUDONYM REQUIRE_IDENTITY REQUIRE_AUTH_TOKEN
        REQUIRE_INTERACTION REQUIRE_APPROVAL REQUIRE_CLARIFICATION REQUIRE_CLAIMS
        HEADER_SIGNATURE_REQUIREMENT HEADER_AAUTH_REQUIREMENT""",
    "agent": """
        AgentRequestSigner ChallengeHandler exchange_resource_token extract_resource_token
        poll_pending_url async_poll_pending_url PollingResult""",
    "resource": "ChallengeBuilder",
}

NAMES: dict[str, str] = {
    name: module for module, names in _MODULES.items() for name in names.split()
}
"""Every 0.3 name this package defines → its module (``aauth.compat.<module>``)."""

_warn = os.environ.get("AAUTH_COMPAT_WARNINGS", "") not in ("", "0")


def warn_on_use(enabled: bool = True) -> None:
    """Emit a DeprecationWarning whenever a 0.3 name is resolved (off by default)."""
    global _warn
    _warn = enabled


def _deprecated(what: str, stacklevel: int) -> None:
    warnings.warn(
        f"{what} is the aauth 0.3 API; see docs/migration.md for its typed replacement",
        DeprecationWarning,
        stacklevel=stacklevel + 1,
    )


def warn_legacy_call(name: str) -> None:
    """For the shared names: a 0.3-style call of ``aauth.<name>(…)`` (when switched on)."""
    if _warn:
        _deprecated(f"aauth.{name}(...) called with 0.3 arguments", 3)


def resolve(name: str) -> Any:
    """The 0.3 object called ``name``; AttributeError for a name 0.3 did not export."""
    module = NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'aauth' has no attribute {name!r}")
    if _warn:
        _deprecated(f"aauth.{name}", 3)
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __getattr__(name: str) -> Any:
    """``from aauth.compat import sign_request`` works as ``from aauth import …`` does."""
    module = NAMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
