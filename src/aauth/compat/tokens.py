"""aauth 0.3's token functions: create and verify the three AAuth tokens, returning dicts.

Tokens are signed ``Ed25519`` (protocol-10's fully-specified alg) and 0.3's ``act.sub`` is
written as ``act.agent``. What 0.3 callers pass that protocol-10 forbids (URL-form agent
identifiers) is kept as given; such tokens verify here, with this API's legacy-tolerant
verifiers, and are refused by the typed API and the servers unless their legacy switch is on.
Failures raise :class:`~aauth.compat.errors.TokenError` with the protocol ``error_code``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

from aauth_signing import SignatureError, jwk_thumbprint

from .. import jwt
from ..errors import AAuthError, InvalidToken
from ..keysource import FetcherKeySource
from ..tokens import AGENT_TOKEN, AUTH_TOKEN, RESOURCE_TOKEN, TokenKind, TokenVerifier
from ..tokens.wire import (
    ACCESS_DWK,
    AGENT_DWK,
    AGENT_JWT_TYP,
    AUTH_JWT_TYP,
    RESOURCE_DWK,
    RESOURCE_JWT_TYP,
)
from .errors import TokenError
from .keys import signing_key

__all__ = [
    "create_agent_token",
    "create_auth_token",
    "create_resource_token",
    "legacy_token_verifier",
    "parse_token_claims",
    "verify_agent_token",
    "verify_token",
]

_KINDS: dict[str, TokenKind[Any]] = {
    AGENT_JWT_TYP: AGENT_TOKEN,
    RESOURCE_JWT_TYP: RESOURCE_TOKEN,
    AUTH_JWT_TYP: AUTH_TOKEN,
}
_CODES = {
    AGENT_JWT_TYP: ("invalid_agent_token", "expired_agent_token"),
    RESOURCE_JWT_TYP: ("invalid_resource_token", "expired_resource_token"),
    AUTH_JWT_TYP: ("invalid_auth_token", "expired_jwt"),
}


def _sign(typ: str, claims: dict[str, Any], private_key: Any, kid: str) -> str:
    try:
        return jwt.encode(
            {k: v for k, v in claims.items() if v is not None},
            signing_key(private_key),
            typ=typ,
            kid=kid,
        )
    except (ValueError, TypeError) as exc:
        raise TokenError(f"cannot create {typ}: {exc}", token_type=typ) from exc


def _times(exp: int | None, lifetime: int) -> tuple[int, int]:
    now = int(time.time())
    return now, now + lifetime if exp is None else int(exp)


def _act(act: Any) -> Any:
    """0.3's ``{"sub": agent}`` actor as protocol-10's ``{"agent": agent}``, at every level."""
    if not isinstance(act, Mapping):
        return act
    out = {
        ("agent" if name == "sub" and "agent" not in act else name): value
        for name, value in act.items()
    }
    if "act" in out:
        out["act"] = _act(out["act"])
    return out


def create_agent_token(
    iss: str,
    sub: str,
    cnf_jwk: dict[str, Any],
    private_key: Any,
    kid: str,
    exp: int | None = None,
    aud: str | None = None,
    aud_sub: str | None = None,
    ps: str | None = None,
) -> str:
    """An ``aa-agent+jwt`` (§D.1) for agent ``sub`` and its key ``cnf_jwk``; 1 hour."""
    iat, expiry = _times(exp, 3600)
    claims = {
        "iss": iss,
        "sub": sub,
        "dwk": AGENT_DWK,
        "jti": secrets.token_urlsafe(16),
        "cnf": {"jwk": dict(cnf_jwk)},
        "iat": iat,
        "exp": expiry,
        "aud": aud,
        "aud_sub": aud_sub,
        "ps": ps,
    }
    return _sign(AGENT_JWT_TYP, claims, private_key, kid)


def create_auth_token(
    iss: str,
    aud: str,
    agent: str,
    cnf_jwk: dict[str, Any],
    private_key: Any,
    kid: str,
    act: dict[str, Any],
    scope: str | None = None,
    sub: str | None = None,
    exp: int | None = None,
    mission: dict[str, Any] | None = None,
    dwk: str = ACCESS_DWK,
) -> str:
    """An ``aa-auth+jwt`` (§D.3); at least one of ``scope`` and ``sub`` (B05); ``act`` is
    written as protocol-10's ``{"agent": …}`` (B02/B03)."""
    if not agent:
        raise TokenError("'agent' claim is required in auth token", token_type=AUTH_JWT_TYP)
    if not isinstance(act, Mapping):
        raise TokenError("'act' must be an object such as {'agent': ...}", token_type=AUTH_JWT_TYP)
    if not scope and not sub:
        raise TokenError(
            "At least one of 'sub' or 'scope' must be present in auth token",
            token_type=AUTH_JWT_TYP,
        )
    iat, expiry = _times(exp, 3600)
    claims = {
        "iss": iss,
        "aud": aud,
        "dwk": dwk,
        "jti": secrets.token_urlsafe(16),
        "agent": agent,
        "cnf": {"jwk": dict(cnf_jwk)},
        "act": _act(act),
        "iat": iat,
        "exp": expiry,
        "sub": sub or None,
        "scope": scope or None,
        "mission": mission,
    }
    return _sign(AUTH_JWT_TYP, claims, private_key, kid)


def create_resource_token(
    iss: str,
    aud: str,
    agent: str,
    agent_jkt: str,
    scope: str,
    private_key: Any,
    kid: str,
    exp: int | None = None,
    mission: dict[str, Any] | None = None,
) -> str:
    """An ``aa-resource+jwt`` (§D.2); 10 minutes unless ``exp`` says otherwise (B07);
    ``mission`` is ``{"approver": …, "s256": …}`` (B08)."""
    iat, expiry = _times(exp, 600)
    claims = {
        "iss": iss,
        "aud": aud,
        "dwk": RESOURCE_DWK,
        "jti": secrets.token_urlsafe(16),
        "agent": agent,
        "agent_jkt": agent_jkt,
        "scope": scope,
        "iat": iat,
        "exp": expiry,
        "mission": mission,
    }
    return _sign(RESOURCE_JWT_TYP, claims, private_key, kid)


def parse_token_claims(token: str) -> dict[str, Any]:
    """``{"header": …, "payload": …}`` of a token, UNVERIFIED (B01): for display only."""
    try:
        header, payload = jwt.peek(token)
    except (AAuthError, ValueError) as exc:
        raise TokenError(f"Failed to parse token: {exc}") from exc
    return {"header": header, "payload": payload}


def legacy_token_verifier(jwks_fetcher: Callable[..., Any]) -> TokenVerifier:
    """A TokenVerifier over a 0.3 ``jwks_fetcher`` that reads 0.3's forms (``EdDSA``,
    alg-less JWKs, URL-form agent identifiers) and loopback issuers."""
    keys = FetcherKeySource(jwks_fetcher, allow_legacy=True)
    return TokenVerifier(keys, allow_eddsa=True, allow_loopback_http=True, cache_size=0)


def _verified(kind: TokenKind[Any], token: str, jwks_fetcher: Callable[..., Any]) -> dict[str, Any]:
    invalid, expired = _CODES[kind.typ]
    try:
        claims = legacy_token_verifier(jwks_fetcher).verify(kind, token)
    except InvalidToken as exc:
        code = expired if exc.expired else invalid
        raise TokenError(exc.description, token_type=kind.typ, error_code=code) from exc
    except (SignatureError, AAuthError) as exc:
        raise TokenError(exc.description, token_type=kind.typ, error_code=invalid) from exc
    return dict(claims.raw)


def _audience_ok(aud: Any, expected: str) -> bool:
    return expected in aud if isinstance(aud, list) else aud == expected


def verify_agent_token(
    token: str,
    jwks_fetcher: Callable[[str], dict[str, Any] | None],
    expected_aud: str | None = None,
) -> dict[str, Any]:
    """The verified claims of an agent token; TokenError otherwise. ``expected_aud`` is
    checked when the token carries ``aud``."""
    claims = _verified(AGENT_TOKEN, token, jwks_fetcher)
    aud = claims.get("aud")
    if aud and expected_aud and not _audience_ok(aud, expected_aud):
        raise TokenError(
            f"Invalid audience: expected {expected_aud}, got {aud}",
            token_type=AGENT_JWT_TYP,
            error_code="invalid_agent_token",
        )
    return claims


def verify_token(
    token: str,
    jwks_fetcher: Callable[[str], dict[str, Any] | None],
    expected_typ: str | None = None,
    expected_iss: str | None = None,
    expected_aud: str | None = None,
    expected_agent: str | None = None,
    request_signing_jwk: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The verified claims of any AAuth token, with the ``expected_*`` checks; TokenError
    otherwise (the ``typ`` decides the claim checks when ``expected_typ`` is None)."""
    typ = expected_typ
    if typ is None:
        typ = parse_token_claims(token)["header"].get("typ")
    kind = _KINDS.get(str(typ))
    if kind is None:
        raise TokenError(
            f"Invalid token type: {typ!r}", token_type=str(typ), error_code="invalid_jwt"
        )
    claims = _verified(kind, token, jwks_fetcher)
    invalid = _CODES[kind.typ][0]

    def fail(message: str) -> TokenError:
        return TokenError(message, token_type=kind.typ, error_code=invalid)

    if expected_iss and claims.get("iss") != expected_iss:
        raise fail(f"Invalid issuer: expected {expected_iss}, got {claims.get('iss')}")
    if expected_aud and not _audience_ok(claims.get("aud"), expected_aud):
        raise fail(f"Invalid audience: expected {expected_aud}, got {claims.get('aud')}")
    if expected_agent and claims.get("agent", claims.get("sub")) != expected_agent:
        raise fail(f"Invalid agent: expected {expected_agent}")
    if request_signing_jwk is not None:
        cnf = claims.get("cnf")
        jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
        if not isinstance(jwk, dict) or jwk_thumbprint(jwk) != jwk_thumbprint(request_signing_jwk):
            raise fail("cnf.jwk does not match request signing key")
    return claims
