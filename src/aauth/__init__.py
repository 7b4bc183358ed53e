"""AAuth: agent authentication and authorization over HTTP Message Signatures.

The typed API lives in subpackages (:mod:`aauth.resource`, :mod:`aauth.agent`,
:mod:`aauth.tokens`, :mod:`aauth.headers` …); the names here are the ones most programs
need. Verification raises :class:`AAuthError` (signature failures are its subclass
:class:`SignatureError`); render either with :func:`error_response`.

The aauth 0.3.4 names (``sign_request``, ``create_auth_token`` …) are not in ``__all__``;
they resolve on attribute access from :mod:`aauth.compat` (see docs/migration.md).
"""

import importlib
from typing import Any

from aauth_signing import SignatureError, SigningKey, VerifyingKey

from .agent.auth import AgentAuth
from .agent.signer import AgentSigner
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


def __getattr__(name: str) -> Any:
    """The aauth 0.3.4 names, from :mod:`aauth.compat` (PEP 562)."""
    if name.startswith("__"):
        raise AttributeError(name)
    compat = importlib.import_module("aauth.compat")
    return compat.resolve(name)


def __dir__() -> list[str]:
    compat = importlib.import_module("aauth.compat")
    return sorted(set(globals()) | set(compat.NAMES))
