"""AAuth tokens (protocol-10 §D): typed claims, issuance, and verification.

Issuers call ``issue_agent_token`` (Agent Provider), ``issue_resource_token`` (resource) or
``issue_auth_token`` (PS/AS). Verifiers hold one :class:`TokenVerifier` per process and call
its ``verify_*``/``averify_*`` methods; agents check what they receive with
``check_resource_challenge`` and ``check_auth_receipt``.
"""

from .agent import check_agent_binding, confirmation_jwk, issue_agent_token
from .auth import (
    chained_actor,
    check_auth_binding,
    check_auth_receipt,
    check_upstream_token,
    issue_auth_token,
)
from .claims import (
    Actor,
    AgentTokenClaims,
    AuthTokenClaims,
    Interaction,
    ResourceTokenClaims,
    format_scope,
    parse_scope,
)
from .issuing import Signer
from .resource import check_resource_binding, check_resource_challenge, issue_resource_token
from .verifier import (
    AGENT_TOKEN,
    AUTH_TOKEN,
    RESOURCE_TOKEN,
    TokenKind,
    TokenVerifier,
    decode_unverified,
)

__all__ = [
    "AGENT_TOKEN",
    "AUTH_TOKEN",
    "RESOURCE_TOKEN",
    "Actor",
    "AgentTokenClaims",
    "AuthTokenClaims",
    "Interaction",
    "ResourceTokenClaims",
    "Signer",
    "TokenKind",
    "TokenVerifier",
    "chained_actor",
    "check_agent_binding",
    "check_auth_binding",
    "check_auth_receipt",
    "check_resource_binding",
    "check_resource_challenge",
    "check_upstream_token",
    "confirmation_jwk",
    "decode_unverified",
    "format_scope",
    "issue_agent_token",
    "issue_auth_token",
    "issue_resource_token",
    "parse_scope",
]
