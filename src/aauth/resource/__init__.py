"""The resource side: verify signed requests, challenge for what is missing, mint resource
tokens, and (for ASGI apps) the middleware that does all of it in front of an app."""

from .caller import VerifiedCaller
from .challenge import (
    AgentTokenRequired,
    AuthTokenRequired,
    Challenge,
    ResourceTokenIssuer,
)
from .policy import ResourcePolicy
from .verifier import RequestVerifier

__all__ = [
    "AgentTokenRequired",
    "AuthTokenRequired",
    "Challenge",
    "RequestVerifier",
    "ResourcePolicy",
    "ResourceTokenIssuer",
    "VerifiedCaller",
]
