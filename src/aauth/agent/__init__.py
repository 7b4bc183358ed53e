"""The agent side: sign requests, enroll with an agent provider, obtain auth tokens, and an
``httpx.Auth`` that walks challenge → token → retry by itself; missions, and permission and
audit for actions no resource governs (§F.9), and questions for the person (§F.6)."""

from .auth import AgentAuth, AuthTokenCache
from .enrollment import (
    AgentTokenRefused,
    arequest_agent_token,
    request_agent_token,
    request_subagent_token,
)
from .governance import PermissionDenied, PermissionGranted, audit_action, request_permission
from .missions import complete_mission, propose_mission
from .poller import (
    Clarification,
    DeferredCallbacks,
    InteractionPrompt,
    PollSettings,
    PollTimeout,
    UpdatedRequest,
    follow_deferred,
)
from .question import ask_person
from .signer import AgentSigner
from .token_client import TokenRequest, request_auth_token

__all__ = [
    "AgentAuth",
    "AgentSigner",
    "AgentTokenRefused",
    "AuthTokenCache",
    "Clarification",
    "DeferredCallbacks",
    "InteractionPrompt",
    "PermissionDenied",
    "PermissionGranted",
    "PollSettings",
    "PollTimeout",
    "TokenRequest",
    "UpdatedRequest",
    "arequest_agent_token",
    "ask_person",
    "audit_action",
    "complete_mission",
    "follow_deferred",
    "propose_mission",
    "request_agent_token",
    "request_auth_token",
    "request_permission",
    "request_subagent_token",
]
