"""The resource side: verify signed requests, challenge for what is missing, mint resource
tokens, and (for ASGI apps) the middleware that does all of it in front of an app."""

from .agent_identity import ResourceAgent
from .caller import VerifiedCaller
from .chaining import ChainingClient, Deferred, DownstreamCall, DownstreamError
from .challenge import (
    AgentTokenRequired,
    AuthTokenRequired,
    Challenge,
    ResourceTokenIssuer,
)
from .dependency import (
    EXCEPTION_HANDLERS,
    AAuthHTTPException,
    AAuthRequest,
    handle_aauth_error,
    handle_http_error,
    handle_unexpected_error,
    read_json_object,
    require_scopes,
    verified_caller,
)
from .interaction_chain import ChainedRequests
from .middleware import AAuthMiddleware, RouteRule, caller_from_scope
from .policy import ResourcePolicy, published_components
from .revocation import RevokedTokens
from .verifier import RequestVerifier

__all__ = [
    "EXCEPTION_HANDLERS",
    "AAuthHTTPException",
    "AAuthMiddleware",
    "AAuthRequest",
    "AgentTokenRequired",
    "AuthTokenRequired",
    "ChainedRequests",
    "ChainingClient",
    "Challenge",
    "Deferred",
    "DownstreamCall",
    "DownstreamError",
    "RequestVerifier",
    "ResourceAgent",
    "ResourcePolicy",
    "ResourceTokenIssuer",
    "RevokedTokens",
    "RouteRule",
    "VerifiedCaller",
    "caller_from_scope",
    "handle_aauth_error",
    "handle_http_error",
    "handle_unexpected_error",
    "published_components",
    "read_json_object",
    "require_scopes",
    "verified_caller",
]
