"""RFC 9421 HTTP Message Signatures with the ``Signature-Key`` header, strict and fast.

Sign with :func:`sign_request` (or a :class:`RequestSigner` for many requests with one key),
verify with :func:`verify_request`/:func:`averify_request`. Verification raises a
:class:`SignatureError` subclass carrying the ``Signature-Error`` code; it never returns False.
"""

from ._rfc9421.base import SignatureParams, signature_base
from ._rfc9421.components import Component
from ._rfc9421.fields import parse_signature, parse_signature_input
from .algorithms import ALGORITHMS, Algorithm, SigningKey, VerifyingKey
from .digest import content_digest, verify_content_digest
from .errors import (
    CacheMiss,
    ExpiredJWT,
    InvalidInput,
    InvalidJWT,
    InvalidKey,
    InvalidRequest,
    InvalidSignature,
    IssuerMismatch,
    IssuerMissing,
    SignatureError,
    UnknownKey,
    UnsupportedAlgorithm,
    UnsupportedScheme,
)
from .jwk import (
    b64url_decode,
    b64url_encode,
    jwk_from_public_key,
    jwk_thumbprint,
    public_key_from_jwk,
    signing_key_from_jwk,
)
from .jws import CompactJWS, decode_compact
from .message import Fields, HttpRequest, HttpResponse
from .policy import ALL_SCHEMES, VerificationPolicy
from .signature_key import (
    SCHEMES,
    X509,
    AsyncKeyResolver,
    Cached,
    Hwk,
    JktJwt,
    Jwks,
    JwksUri,
    Jwt,
    KeyResolver,
    ResolvedKey,
    SignatureKeyHeader,
    SignatureKeyMember,
    UnknownScheme,
    check_discovery_document,
    resolve_locally,
    select_jwk,
)
from .signer import RequestSigner, aauth_components, sign, sign_request
from .verifier import VerifiedSignature, averify_request, verify, verify_request

__version__ = "0.3.0"

__all__ = [
    "ALGORITHMS",
    "ALL_SCHEMES",
    "SCHEMES",
    "X509",
    "Algorithm",
    "AsyncKeyResolver",
    "CacheMiss",
    "Cached",
    "CompactJWS",
    "Component",
    "ExpiredJWT",
    "Fields",
    "HttpRequest",
    "HttpResponse",
    "Hwk",
    "InvalidInput",
    "InvalidJWT",
    "InvalidKey",
    "InvalidRequest",
    "InvalidSignature",
    "IssuerMismatch",
    "IssuerMissing",
    "JktJwt",
    "Jwks",
    "JwksUri",
    "Jwt",
    "KeyResolver",
    "RequestSigner",
    "ResolvedKey",
    "SignatureError",
    "SignatureKeyHeader",
    "SignatureKeyMember",
    "SignatureParams",
    "SigningKey",
    "UnknownKey",
    "UnknownScheme",
    "UnsupportedAlgorithm",
    "UnsupportedScheme",
    "VerificationPolicy",
    "VerifiedSignature",
    "VerifyingKey",
    "aauth_components",
    "averify_request",
    "b64url_decode",
    "b64url_encode",
    "check_discovery_document",
    "content_digest",
    "decode_compact",
    "jwk_from_public_key",
    "jwk_thumbprint",
    "parse_signature",
    "parse_signature_input",
    "public_key_from_jwk",
    "resolve_locally",
    "select_jwk",
    "sign",
    "sign_request",
    "signature_base",
    "signing_key_from_jwk",
    "verify",
    "verify_content_digest",
    "verify_request",
]
