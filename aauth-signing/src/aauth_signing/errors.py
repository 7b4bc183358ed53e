"""Signature errors, one class per ``Signature-Error`` code (signature-key-08 §3.4).

Verification raises these and never returns a boolean. Each error knows its wire code and
renders the response headers and the RFC 9457 problem body a server sends back, so a caller
never has to map exceptions to codes by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

__all__ = [
    "AAuthError",
    "CacheMiss",
    "ExpiredJWT",
    "InvalidInput",
    "InvalidJWT",
    "InvalidKey",
    "InvalidRequest",
    "InvalidSignature",
    "IssuerMismatch",
    "IssuerMissing",
    "SignatureError",
    "UnknownKey",
    "UnsupportedAlgorithm",
    "UnsupportedScheme",
]


class AAuthError(Exception):
    """Root of every AAuth error: the signature failures below and the protocol errors of
    :mod:`aauth.errors` (which re-exports this class), so one ``except AAuthError`` catches
    both.

    ``code`` is the wire error code, ``status`` the HTTP status, ``description`` the human
    explanation. ``error_code`` and ``details`` keep the attribute names of aauth 0.3.
    """

    code: ClassVar[str] = "server_error"
    status: ClassVar[int] = 500

    def __init__(self, description: str = "", **members: Any) -> None:
        super().__init__(description or self.code)
        self.description = description or self.code
        self.members = members
        self.error_code: str | None = self.code
        self.details: dict[str, Any] = dict(members)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.description!r})"

    def problem(self) -> dict[str, Any]:
        """The RFC 9457 body: ``error`` decides, ``detail`` explains (protocol-10 §F)."""
        body: dict[str, Any] = {"error": self.code, "detail": self.description}
        body.update(self.members)
        return body

    def response_headers(self) -> dict[str, str]:
        return {}


class SignatureError(AAuthError):
    """Base class: a signed message failed verification or could not be signed.

    ``status`` is 401: AAuth pins every signature failure to 401 (protocol-10 §C.6).
    ``error_code`` and ``details`` are the aauth 0.3 constructor's optional arguments
    (``error_code`` defaults to the class's ``code``).
    """

    code: ClassVar[str] = "invalid_signature"
    title: ClassVar[str] = "Invalid signature"
    status: ClassVar[int] = 401

    def __init__(
        self,
        message: str,
        error_code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.error_code = error_code or self.code
        self.details = dict(details or {})

    def extra_members(self) -> list[str]:
        """Serialized extra ``Signature-Error`` members (after ``error``)."""
        return []

    #: Schemes to advertise in ``Accept-Signature-Scheme`` with this error: set when a request
    #: arrived unsigned, so the client learns how to sign without a second round trip.
    advertised_schemes: tuple[str, ...] = ()

    def response_headers(self) -> dict[str, str]:
        """The headers a verifier sends with the 401 that reports this error."""
        members = [f"error={self.code}", *self.extra_members()]
        headers = {"Signature-Error": ", ".join(members)}
        if self.advertised_schemes:
            headers["Accept-Signature-Scheme"] = ", ".join(self.advertised_schemes)
        return headers

    def problem(self) -> dict[str, Any]:
        """RFC 9457 body; ``type`` is the URN signature-key-08 mandates for these errors."""
        return {
            "type": f"urn:ietf:params:sig-error:{self.code}",
            "title": self.title,
            "status": self.status,
            "error": self.code,
            "detail": self.description,
        }


class InvalidSignature(SignatureError):
    """Malformed signature headers, stale ``created``, expired, or a bad signature value."""

    code = "invalid_signature"
    title = "Invalid signature"


class InvalidRequest(SignatureError):
    """The request lacks the signature headers (protocol-10 §C.6 step 1) or is malformed."""

    code = "invalid_request"
    title = "Invalid request"


class InvalidInput(SignatureError):
    """The signature does not cover components the verifier requires."""

    code = "invalid_input"
    title = "Missing covered components"

    def __init__(self, description: str, required_input: Sequence[str] = ()) -> None:
        super().__init__(description)
        self.required_input = tuple(required_input)

    def extra_members(self) -> list[str]:
        if not self.required_input:
            return []
        from ._structured import serialize_string  # _structured imports this module

        inner = " ".join(serialize_string(c) for c in self.required_input)
        return [f"required_input=({inner})"]


class InvalidKey(SignatureError):
    """The key is unparsable, inconsistent (``kty``/``crv`` vs ``alg``) or untrusted."""

    code = "invalid_key"
    title = "Invalid key"


class UnknownKey(SignatureError):
    """The ``kid`` is not in the signer's JWKS, even after one refresh."""

    code = "unknown_key"
    title = "Unknown key"


class _AcceptListError(SignatureError):
    """An error that tells the client what this verifier accepts instead."""

    accept_header: ClassVar[str]

    def __init__(self, description: str, accepted: Sequence[str] = ()) -> None:
        super().__init__(description)
        self.accepted = tuple(accepted)

    def response_headers(self) -> dict[str, str]:
        headers = super().response_headers()
        if self.accepted:
            headers[self.accept_header] = ", ".join(self.accepted)
        return headers


class UnsupportedAlgorithm(_AcceptListError):
    """The key's algorithm is absent, polymorphic or not accepted here."""

    code = "unsupported_algorithm"
    title = "Unsupported algorithm"
    accept_header = "Accept-Signature-Alg"


class UnsupportedScheme(_AcceptListError):
    """The selected ``Signature-Key`` member names a scheme this verifier does not accept."""

    code = "unsupported_scheme"
    title = "Unsupported Signature-Key scheme"
    accept_header = "Accept-Signature-Scheme"


class IssuerMissing(SignatureError):
    """A discovery document has no ``issuer``."""

    code = "issuer_missing"
    title = "Issuer missing"


class IssuerMismatch(SignatureError):
    """A discovery document's ``issuer`` differs from the identifier it was fetched for."""

    code = "issuer_mismatch"
    title = "Issuer mismatch"


class InvalidJWT(SignatureError):
    """A JWT carried in ``Signature-Key`` is malformed or its JWS does not verify."""

    code = "invalid_jwt"
    title = "Invalid JWT"


class ExpiredJWT(SignatureError):
    """A JWT carried in ``Signature-Key`` has expired."""

    code = "expired_jwt"
    title = "Expired JWT"


class CacheMiss(SignatureError):
    """A ``cached`` member names an id this verifier cannot resolve."""

    code = "cache_miss"
    title = "Cache miss"
