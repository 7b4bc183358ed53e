"""One exception tree for the protocol. Every error knows its AAuth error code, its HTTP
status and a description, and renders the RFC 9457 body (and headers) a server returns.

:class:`AAuthError` (defined in :mod:`aauth_signing.errors`, re-exported here) is the root of
both branches: the protocol errors below and the signature failures,
:class:`aauth_signing.SignatureError` subclasses, which render with status 401 and a
``Signature-Error`` header. :func:`error_response` serves both.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from aauth_signing import SignatureError
from aauth_signing.errors import AAuthError

__all__ = [
    "AAuthError",
    "ErrorResponse",
    "ExpiredAgentToken",
    "ExpiredResourceToken",
    "Forbidden",
    "Gone",
    "InsufficientScope",
    "InsufficientTrust",
    "InteractionUnavailable",
    "InvalidAgentToken",
    "InvalidAuthToken",
    "InvalidCode",
    "InvalidRequest",
    "InvalidResourceToken",
    "InvalidScope",
    "InvalidToken",
    "MethodNotAllowed",
    "MissionTerminated",
    "NotFound",
    "PendingAbandoned",
    "PendingDenied",
    "PendingExpired",
    "ServerError",
    "SlowDown",
    "TokenExpired",
    "UntrustedIssuer",
    "UserUnreachable",
    "error_response",
]

PROBLEM_JSON = "application/problem+json"


class InvalidRequest(AAuthError):
    code, status = "invalid_request", 400


class InvalidScope(AAuthError):
    code, status = "invalid_scope", 400


class InvalidAgentToken(AAuthError):
    code, status = "invalid_agent_token", 400


class ExpiredAgentToken(AAuthError):
    code, status = "expired_agent_token", 400


class InvalidResourceToken(AAuthError):
    code, status = "invalid_resource_token", 400


class ExpiredResourceToken(AAuthError):
    code, status = "expired_resource_token", 400


class InvalidToken(AAuthError):
    """A token failed a check; callers map it to the code of their context.

    The same failure is ``invalid_agent_token`` at a PS token endpoint, ``invalid_jwt`` in a
    resource's ``Signature-Error``, and so on; :attr:`expired` says whether only ``exp`` failed.
    """

    code, status = "invalid_token", 401

    def __init__(self, description: str, *, expired: bool = False, **members: Any) -> None:
        super().__init__(description, **members)
        self.expired = expired


class TokenExpired(InvalidToken):
    """The token's ``exp`` has passed (everything else may be fine)."""

    def __init__(self, description: str = "token has expired", **members: Any) -> None:
        super().__init__(description, expired=True, **members)


class UntrustedIssuer(InvalidToken):
    """The token's issuer is not one this verifier trusts."""


class InvalidAuthToken(InvalidToken):
    """An auth token is not valid for this resource and request."""


class InsufficientScope(AAuthError):
    code, status = "insufficient_scope", 403


class Forbidden(AAuthError):
    """A policy denial after a good signature; 403 never carries signature headers."""

    code, status = "forbidden", 403


class UserUnreachable(AAuthError):
    code, status = "user_unreachable", 403


class InsufficientTrust(Forbidden):
    """An access server does not take token requests from this person server (§F.7 403;
    -10 names no code for it, so this one is ours)."""

    code = "insufficient_trust"


class InteractionUnavailable(AAuthError):
    """424: the PS cannot relay this interaction; the agent directs the person itself (§F.6)."""

    code, status = "interaction_unavailable", 424


class MissionTerminated(AAuthError):
    code, status = "mission_terminated", 403

    def __init__(self, description: str = "the mission is no longer active") -> None:
        super().__init__(description, mission_status="terminated")


class PendingDenied(AAuthError):
    code, status = "denied", 403


class PendingAbandoned(AAuthError):
    code, status = "abandoned", 403


class PendingExpired(AAuthError):
    code, status = "expired", 408


class InvalidCode(AAuthError):
    code, status = "invalid_code", 410


class Gone(AAuthError):
    """A pending URL after its terminal response or cancellation."""

    code, status = "gone", 410


class NotFound(AAuthError):
    code, status = "not_found", 404


class MethodNotAllowed(AAuthError):
    code, status = "method_not_allowed", 405


class SlowDown(AAuthError):
    """Too many attempts: wait ``retry_after`` seconds (sent as ``Retry-After``)."""

    code, status = "slow_down", 429

    def __init__(self, description: str, *, retry_after: float = 5.0) -> None:
        super().__init__(description)
        self.retry_after = max(1, math.ceil(retry_after))

    def response_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class ServerError(AAuthError):
    code, status = "server_error", 500


@dataclass(frozen=True)
class ErrorResponse:
    """Status, headers and body bytes ready for any HTTP framework."""

    status: int
    headers: dict[str, str]
    body: bytes


def error_response(error: AAuthError | SignatureError) -> ErrorResponse:
    """Render any protocol error as the response a server sends.

    Signature errors carry ``Signature-Error`` (and ``Accept-Signature-*`` when relevant);
    a 403 never does (protocol-10 §C.6, V-17).
    """
    headers = {"Content-Type": PROBLEM_JSON, "Cache-Control": "no-store"}
    if isinstance(error, SignatureError):
        body = error.problem()
        if error.status != 403:
            headers.update(error.response_headers())
    else:
        body = error.problem()
        headers.update(error.response_headers())
    return ErrorResponse(error.status, headers, json.dumps(body).encode("utf-8"))
