"""AAuth: agent authentication and authorization over HTTP Message Signatures.

The typed API lives in subpackages (:mod:`aauth.resource`, :mod:`aauth.agent`,
:mod:`aauth.tokens`, :mod:`aauth.headers` …); the names here are the ones most programs
need, plus the 0.3-era convenience functions (:mod:`aauth.compat`) existing code calls.
Verification raises :class:`AAuthError` or :class:`aauth_signing.SignatureError`; render
either with :func:`error_response`.
"""

from aauth_signing import SignatureError, SigningKey, VerifyingKey

from .agent.auth import AgentAuth
from .agent.signer import AgentSigner
from .compat import (
    AgentRequestSigner,
    build_agent_auth_challenge,
    calculate_jwk_thumbprint,
    create_auth_token,
    create_resource_token,
    generate_ed25519_keypair,
    parse_agent_auth_header,
    parse_token_claims,
    public_key_to_jwk,
    sign_request,
    verify_agent_token,
    verify_signature,
)
from .discovery import Discovery
from .egress import EgressPolicy
from .errors import AAuthError, ErrorResponse, error_response
from .keys import KeySet, generate_key
from .keysource import KeySource, StaticKeySource
from .resource import (
    AAuthMiddleware,
    AAuthRequest,
    AgentTokenRequired,
    AuthTokenRequired,
    RequestVerifier,
    ResourcePolicy,
    ResourceTokenIssuer,
    VerifiedCaller,
)
from .tokens import TokenVerifier, issue_agent_token, issue_auth_token, issue_resource_token

__version__ = "0.6.0"

__all__ = [
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
