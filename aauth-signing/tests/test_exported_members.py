"""The public surface changes only on purpose: this list is edited together with it."""

from __future__ import annotations

import aauth_signing

PUBLIC = {
    "ALGORITHMS",
    "ALL_SCHEMES",
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
    "SCHEMES",
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
    "X509",
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
}


def test_exported_members() -> None:
    assert set(aauth_signing.__all__) == PUBLIC
    assert len(aauth_signing.__all__) == len(PUBLIC)
    for name in PUBLIC:
        assert getattr(aauth_signing, name) is not None, name


def test_every_error_knows_its_code() -> None:
    codes = {
        cls.code
        for cls in vars(aauth_signing).values()
        if isinstance(cls, type) and issubclass(cls, aauth_signing.SignatureError)
    }
    assert codes == {
        "invalid_signature",
        "invalid_request",
        "invalid_input",
        "invalid_key",
        "unknown_key",
        "unsupported_algorithm",
        "unsupported_scheme",
        "issuer_missing",
        "issuer_mismatch",
        "invalid_jwt",
        "expired_jwt",
        "cache_miss",
    }
