"""aauth 0.3's exception classes and error-code constants.

``AAuthError`` and ``SignatureError`` are the typed tree's own classes (one root for both
branches), so 0.3 ``except`` clauses catch what the typed API raises. ``TokenError``,
``ChallengeError``, ``MetadataError`` and ``JWKSError`` keep 0.3's constructors; the 0.3
wrappers raise them, chained to the typed error that explains the failure.
"""

from __future__ import annotations

from typing import Any, ClassVar

from aauth_signing.errors import AAuthError

from ..metadata import MetadataError as _TypedMetadataError

__all__ = [
    "ERROR_ABANDONED",
    "ERROR_DENIED",
    "ERROR_EXPIRED",
    "ERROR_EXPIRED_AGENT_TOKEN",
    "ERROR_EXPIRED_JWT",
    "ERROR_EXPIRED_RESOURCE_TOKEN",
    "ERROR_INVALID_AGENT_TOKEN",
    "ERROR_INVALID_AUTH_TOKEN",
    "ERROR_INVALID_CODE",
    "ERROR_INVALID_INPUT",
    "ERROR_INVALID_JWT",
    "ERROR_INVALID_KEY",
    "ERROR_INVALID_REQUEST",
    "ERROR_INVALID_RESOURCE_TOKEN",
    "ERROR_INVALID_SIGNATURE",
    "ERROR_SERVER_ERROR",
    "ERROR_SLOW_DOWN",
    "ERROR_UNKNOWN_KEY",
    "ERROR_UNSUPPORTED_ALGORITHM",
    "ChallengeError",
    "JWKSError",
    "MetadataError",
    "TokenError",
    "build_error_response",
]

ERROR_INVALID_REQUEST = "invalid_request"
ERROR_INVALID_INPUT = "invalid_input"
ERROR_INVALID_SIGNATURE = "invalid_signature"
ERROR_UNSUPPORTED_ALGORITHM = "unsupported_algorithm"
ERROR_INVALID_KEY = "invalid_key"
ERROR_UNKNOWN_KEY = "unknown_key"
ERROR_INVALID_JWT = "invalid_jwt"
ERROR_EXPIRED_JWT = "expired_jwt"
ERROR_INVALID_AGENT_TOKEN = "invalid_agent_token"  # noqa: S105
ERROR_EXPIRED_AGENT_TOKEN = "expired_agent_token"  # noqa: S105
ERROR_INVALID_RESOURCE_TOKEN = "invalid_resource_token"  # noqa: S105
ERROR_EXPIRED_RESOURCE_TOKEN = "expired_resource_token"  # noqa: S105
ERROR_INVALID_AUTH_TOKEN = "invalid_auth_token"  # noqa: S105
ERROR_SERVER_ERROR = "server_error"
ERROR_DENIED = "denied"
ERROR_ABANDONED = "abandoned"
ERROR_EXPIRED = "expired"
ERROR_INVALID_CODE = "invalid_code"
ERROR_SLOW_DOWN = "slow_down"


class TokenError(AAuthError):
    """A token could not be created or failed verification; ``error_code`` says which
    protocol code applies (``invalid_agent_token``, ``expired_jwt`` …)."""

    code: ClassVar[str] = "invalid_token"
    status: ClassVar[int] = 401

    def __init__(
        self,
        message: str,
        token_type: str | None = None,
        error_code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.token_type = token_type
        self.error_code = error_code
        self.details = dict(details or {})


class ChallengeError(AAuthError):
    """A challenge header could not be parsed or built."""

    code: ClassVar[str] = "invalid_request"
    status: ClassVar[int] = 400

    def __init__(
        self,
        message: str,
        challenge_type: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.challenge_type = challenge_type
        self.details = dict(details or {})


class MetadataError(_TypedMetadataError):
    """A metadata document could not be fetched or is not acceptable (a typed
    :class:`aauth.metadata.MetadataError` too)."""

    def __init__(
        self,
        message: str,
        metadata_url: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.metadata_url = metadata_url
        self.details = dict(details or {})


class JWKSError(AAuthError):
    """A JWKS could not be fetched or is malformed."""

    code: ClassVar[str] = "invalid_key"
    status: ClassVar[int] = 401

    def __init__(
        self,
        message: str,
        jwks_uri: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.jwks_uri = jwks_uri
        self.details = dict(details or {})


def build_error_response(
    error: str, description: str | None = None, **extras: Any
) -> dict[str, Any]:
    """An error body: ``error``, and the explanation as RFC 9457 ``detail`` (protocol-10 §F;
    0.3 wrote ``error_description``)."""
    response: dict[str, Any] = {"error": error}
    if description:
        response["detail"] = description
    response.update(extras)
    return response
