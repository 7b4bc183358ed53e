"""Resolving AAuth's ``jwt`` Signature-Key scheme: the token in the header *is* the key.

An agent token or an auth token is verified against its issuer (through a
:class:`~aauth.keysource.KeySource`) and its ``cnf.jwk`` becomes the request key; the
``jwks_uri`` scheme resolves through the same key source, and ``jwks`` (a JWKS URL) through
a key source that can fetch one (:class:`~aauth.discovery.Discovery`). Token failures become the
signature-layer codes ``invalid_jwt``/``expired_jwt``, and a key source that cannot reach
or trust the issuer (egress refused, fetch failed, bad metadata) becomes ``invalid_key``
— every key problem is a 401 with ``Signature-Error`` (§C.6), never a 400 or 502.

A resolver holds no per-request state (one can serve every request of a resource, from any
thread): the token it saw travels on the key it returns, a :class:`TokenBoundKey`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from aauth_signing import (
    ExpiredJWT,
    InvalidJWT,
    InvalidKey,
    Jwks,
    JwksUri,
    Jwt,
    ResolvedKey,
    SignatureError,
    SignatureKeyMember,
    UnsupportedAlgorithm,
    UnsupportedScheme,
    VerifyingKey,
    jwk_thumbprint,
    select_jwk,
)

from . import jwt
from .errors import AAuthError, InvalidToken, TokenExpired
from .keysource import KeySource
from .tokens import AUTH_TOKEN, AgentTokenClaims, AuthTokenClaims, TokenVerifier
from .tokens.wire import AGENT_JWT_TYP, AUTH_JWT_TYP

__all__ = ["AsyncTokenKeyResolver", "Presented", "TokenBoundKey", "TokenKeyResolver", "presented"]


class Presented(NamedTuple):
    """What the ``jwt`` scheme's token turned out to be."""

    agent_token: AgentTokenClaims | None = None
    auth_token: AuthTokenClaims | None = None


_NOTHING = Presented()


def _map_token_error(exc: InvalidToken) -> SignatureError:
    """The ``Signature-Error`` a token failure means. A token whose ``cnf.jwk`` is the broken
    part reports the key's own code, as the key of any other scheme would: ``invalid_key``
    or ``unsupported_algorithm`` (V-49; the claims parser chains that error as the cause)."""
    if isinstance(exc, TokenExpired):
        return ExpiredJWT(exc.description)
    cause = exc.__cause__
    if isinstance(cause, InvalidKey | UnsupportedAlgorithm):
        return type(cause)(exc.description)
    return InvalidJWT(exc.description)


@dataclass(frozen=True)
class TokenBoundKey(ResolvedKey):
    """The key a verified ``jwt``-scheme token binds, with that token's typed claims."""

    presented: Presented = _NOTHING


def presented(resolved: ResolvedKey | None) -> Presented:
    """The token behind a resolved key (empty for schemes that carry none)."""
    return resolved.presented if isinstance(resolved, TokenBoundKey) else _NOTHING


def _bound(member: Jwt, claims: AgentTokenClaims | AuthTokenClaims) -> TokenBoundKey:
    """The key a verified token binds, with the token's identity and claims."""
    if isinstance(claims, AgentTokenClaims):
        token = Presented(claims, None)
    else:
        token = Presented(None, claims)
    return TokenBoundKey(
        key=claims.cnf_key,
        member=member,
        jwk=claims.cnf_jwk,
        thumbprint=claims.jkt,
        signer=claims.iss,
        claims=claims.raw,
        presented=token,
    )


def _identified(
    member: JwksUri | Jwks, key: VerifyingKey, jwk: Mapping[str, Any], signer: str
) -> ResolvedKey:
    """An identified signer's key: ``signer`` is the ``id`` (jwks_uri) or the ``url`` (jwks),
    compared byte for byte, never normalised."""
    return ResolvedKey(key, member, jwk, jwk_thumbprint(jwk), signer)


def _untrusted_source(exc: AAuthError, member: SignatureKeyMember) -> InvalidKey | InvalidJWT:
    """A key source failure (egress, fetch, metadata) as the signature error it means."""
    what = "the token issuer's keys" if isinstance(member, Jwt) else "the signer's keys"
    error = InvalidJWT if isinstance(member, Jwt) else InvalidKey
    return error(f"cannot obtain {what} ({exc.code})")


class TokenKeyResolver:
    """A :class:`aauth_signing.KeyResolver` for the ``jwt`` and ``jwks_uri`` schemes.

    ``audience`` binds auth tokens to a resource (its identifier); None accepts an auth
    token for any audience, for general-purpose verification tools. ``accepted`` is what an
    ``unsupported_scheme`` answer advertises.
    """

    __slots__ = ("_accepted", "_audience", "_keys", "_tokens")

    def __init__(
        self,
        keys: KeySource,
        tokens: TokenVerifier,
        *,
        audience: str | None,
        accepted: tuple[str, ...] = ("jwt",),
    ) -> None:
        self._keys = keys
        self._tokens = tokens
        self._audience = audience
        self._accepted = accepted

    def _kind(self, member: SignatureKeyMember) -> tuple[Jwt, str]:
        if not isinstance(member, Jwt):
            raise UnsupportedScheme(
                f"scheme {member.scheme!r} is not resolved here", self._accepted
            )
        try:
            typ = jwt.peek_typ(member.jwt)
        except InvalidToken as exc:
            raise InvalidJWT(exc.description) from None
        if typ not in (AGENT_JWT_TYP, AUTH_JWT_TYP):
            raise InvalidJWT(f"a {typ!r} JWT cannot sign requests")
        return member, typ

    def _auth(self, token: str) -> AuthTokenClaims:
        if self._audience is None:
            return self._tokens.verify(AUTH_TOKEN, token)
        return self._tokens.verify_auth_token(
            token, audience=self._audience, agent=None, request_jkt=None
        )

    def _accept(self, member: Jwt, claims: AgentTokenClaims | AuthTokenClaims) -> ResolvedKey:
        bound = _bound(member, claims)
        self._tokens.remember_derived((member.jwt, self._audience), bound, claims.exp)
        return bound

    def _jwks_source(self) -> Any:
        """The key source's JWKS fetcher (Discovery has one); none: the scheme is refused."""
        if not hasattr(self._keys, "get_jwks"):
            raise UnsupportedScheme("the jwks scheme needs a discovery key source", self._accepted)
        return self._keys

    def resolve(self, member: SignatureKeyMember) -> ResolvedKey:
        # An earlier resolution of this very token for this audience, while the token is
        # valid: every check it passed is a function of the token alone.
        if type(member) is Jwt:
            remembered = self._tokens.derived((member.jwt, self._audience))
            if remembered is not None:
                return remembered  # type: ignore[no-any-return]
        try:
            if isinstance(member, JwksUri):
                key, jwk = self._keys.get_key(member.id, member.dwk, member.kid)
                return _identified(member, key, jwk, member.id)
            if isinstance(member, Jwks):
                jwks = self._jwks_source().get_jwks(member.url)
                key, jwk = select_jwk(jwks, member.kid)
                return _identified(member, key, jwk, member.url)
            jwt_member, typ = self._kind(member)
            if typ == AGENT_JWT_TYP:
                agent = self._tokens.verify_agent_token(jwt_member.jwt, expected_jkt=None)
                return self._accept(jwt_member, agent)
            return self._accept(jwt_member, self._auth(jwt_member.jwt))
        except InvalidToken as exc:
            raise _map_token_error(exc) from None
        except SignatureError:
            raise
        except AAuthError as exc:
            raise _untrusted_source(exc, member) from None


class AsyncTokenKeyResolver(TokenKeyResolver):
    """The :class:`aauth_signing.AsyncKeyResolver` twin: key lookups are awaited."""

    __slots__ = ()

    async def _aauth(self, token: str) -> AuthTokenClaims:
        if self._audience is None:
            return await self._tokens.averify(AUTH_TOKEN, token)
        return await self._tokens.averify_auth_token(
            token, audience=self._audience, agent=None, request_jkt=None
        )

    async def resolve(self, member: SignatureKeyMember) -> ResolvedKey:  # type: ignore[override]
        # An earlier resolution of this very token for this audience, while the token is
        # valid: every check it passed is a function of the token alone.
        if type(member) is Jwt:
            remembered = self._tokens.derived((member.jwt, self._audience))
            if remembered is not None:
                return remembered  # type: ignore[no-any-return]
        try:
            if isinstance(member, JwksUri):
                key, jwk = await self._keys.aget_key(member.id, member.dwk, member.kid)
                return _identified(member, key, jwk, member.id)
            if isinstance(member, Jwks):
                jwks = await self._jwks_source().aget_jwks(member.url)
                key, jwk = select_jwk(jwks, member.kid)
                return _identified(member, key, jwk, member.url)
            jwt_member, typ = self._kind(member)
            if typ == AGENT_JWT_TYP:
                agent = await self._tokens.averify_agent_token(jwt_member.jwt, expected_jkt=None)
                return self._accept(jwt_member, agent)
            return self._accept(jwt_member, await self._aauth(jwt_member.jwt))
        except InvalidToken as exc:
            raise _map_token_error(exc) from None
        except SignatureError:
            raise
        except AAuthError as exc:
            raise _untrusted_source(exc, member) from None
