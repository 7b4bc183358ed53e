"""One token verifier for every role: decode, find the issuer key, check, and remember.

Verification has a single pure core run in four steps: decode and the checks that need no
key (``typ``, ``dwk``, ``iss`` syntax and trust — so no key is ever fetched for an issuer that
would be refused anyway), key lookup through the :class:`~aauth.keysource.KeySource`
(``get_key`` or ``aget_key``; the only I/O), the JWS check, then the claim checks. The sync
and async methods differ only in the lookup call.

A verified token is remembered by its text until its ``exp`` (plus leeway), in a bounded
LRU, so a busy resource pays for one JWT check per token rather than per request.
Only the context-free result is cached; the per-request bindings (``aud``, ``agent``, key
thumbprint) run on every call. A cached token stays valid after its issuer key is removed
from the JWKS, until it expires (at most 1 h for auth tokens).

Failures raise :class:`~aauth.errors.InvalidToken` (``TokenExpired`` when only ``exp``
failed, ``UntrustedIssuer``/``InvalidAuthToken`` where they apply); discovery failures
propagate as the KeySource's :class:`aauth_signing.SignatureError`.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aauth_signing import SignatureError, VerifyingKey
from aauth_signing._cache import BoundedCache

from .. import jwt
from ..errors import AAuthError, InvalidToken, TokenExpired, UntrustedIssuer
from ..identifiers import is_server_identifier
from ..keysource import KeySource
from .agent import check_agent_binding
from .auth import MAX_AUTH_TOKEN_LIFETIME, check_auth_binding
from .claims import AgentTokenClaims, AuthTokenClaims, ResourceTokenClaims
from .resource import check_resource_binding
from .wire import AGENT_DWK, AGENT_JWT_TYP, AUTH_DWKS, AUTH_JWT_TYP, RESOURCE_DWK, RESOURCE_JWT_TYP

__all__ = [
    "AGENT_TOKEN",
    "AUTH_TOKEN",
    "DEFAULT_CACHE_SIZE",
    "RESOURCE_TOKEN",
    "TokenKind",
    "TokenVerifier",
    "averify_presented",
    "decode_unverified",
]

DEFAULT_CACHE_SIZE = 4096


C = TypeVar("C", AgentTokenClaims, ResourceTokenClaims, AuthTokenClaims)


@dataclass(frozen=True)
class TokenKind(Generic[C]):
    """What distinguishes one token type: header ``typ``, accepted ``dwk`` values, claims type.

    ``max_lifetime`` is enforced on ``exp - iat`` when the protocol makes it a MUST;
    ``trusted_issuers_apply`` says whether the verifier's ``trusted_issuers`` restrict it.
    """

    typ: str
    dwks: frozenset[str]
    build: Callable[..., C]
    max_lifetime: float | None = None
    trusted_issuers_apply: bool = False


AGENT_TOKEN = TokenKind(AGENT_JWT_TYP, frozenset({AGENT_DWK}), AgentTokenClaims.from_claims)
RESOURCE_TOKEN = TokenKind(
    RESOURCE_JWT_TYP, frozenset({RESOURCE_DWK}), ResourceTokenClaims.from_claims
)
AUTH_TOKEN = TokenKind(
    AUTH_JWT_TYP,
    AUTH_DWKS,
    AuthTokenClaims.from_claims,
    max_lifetime=MAX_AUTH_TOKEN_LIFETIME,
    trusted_issuers_apply=True,
)


def _precheck(
    kind: TokenKind[C],
    parsed: jwt.ParsedJWT,
    *,
    allow_loopback_http: bool,
    trusted_issuers: frozenset[str] | None,
) -> None:
    """The checks that need no key (V-26, RS-09 first half): ``typ``, ``dwk``, ``iss``."""
    if parsed.typ != kind.typ:
        raise InvalidToken(f"JWT typ {parsed.typ!r} is not {kind.typ!r}")
    dwk = parsed.claims.get("dwk")
    if not isinstance(dwk, str) or dwk not in kind.dwks:
        raise InvalidToken(f"{kind.typ} 'dwk' {dwk!r} is not one of {sorted(kind.dwks)}")
    iss = parsed.claims.get("iss")
    if not isinstance(iss, str) or not is_server_identifier(
        iss, allow_loopback_http=allow_loopback_http
    ):
        raise InvalidToken(f"{kind.typ} 'iss' {iss!r} is not a server identifier")
    if kind.trusted_issuers_apply and trusted_issuers is not None and iss not in trusted_issuers:
        raise UntrustedIssuer(f"{kind.typ} issuer {iss!r} is not trusted here")


def _build(
    kind: TokenKind[C], raw: Mapping[str, Any], *, allow_loopback_http: bool, allow_eddsa: bool
) -> C:
    claims = kind.build(raw, allow_loopback_http=allow_loopback_http, allow_legacy=allow_eddsa)
    if kind.max_lifetime is not None and claims.exp - claims.iat > kind.max_lifetime:
        raise InvalidToken(f"{kind.typ} lifetime exceeds {kind.max_lifetime:.0f} seconds")
    return claims


def decode_unverified(
    kind: TokenKind[C],
    token: str,
    *,
    now: float | None = None,
    leeway: float = 60,
    allow_loopback_http: bool = False,
    allow_eddsa: bool = False,
) -> C:
    """Every check except the signature, for a party that trusts the channel it got the
    token from (an agent reading its PS's answer or a resource's challenge, §D.2, §D.3).

    The result is NOT authenticated; prefer :meth:`TokenVerifier.verify` where a KeySource is
    at hand.
    """
    parsed = jwt.parse(token)
    _precheck(kind, parsed, allow_loopback_http=allow_loopback_http, trusted_issuers=None)
    jwt.check_times(parsed.claims, now=time.time() if now is None else now, leeway=leeway)
    return _build(
        kind, parsed.claims, allow_loopback_http=allow_loopback_http, allow_eddsa=allow_eddsa
    )


class TokenVerifier:
    """Verifies AAuth tokens against issuer keys from a KeySource, caching the results.

    ``trusted_issuers``, when given, is the set of PS/AS identifiers whose auth tokens this
    party accepts (RS-09 "acceptable to local policy"); agent and resource tokens are not
    restricted by it. ``allow_eddsa`` admits what the seed wrote: the ``EdDSA`` JWT alg,
    alg-less ``cnf.jwk``, ``act.sub`` and URL-form agent identifiers (interop only).
    ``clock`` returns Unix seconds.

    >>> verifier = TokenVerifier(key_source, trusted_issuers={"https://ps.example"})
    >>> claims = verifier.verify_auth_token(token, audience="https://docs.example",
    ...     agent=signer_agent, request_jkt=signer_jkt)
    """

    def __init__(
        self,
        key_source: KeySource,
        *,
        trusted_issuers: Collection[str] | None = None,
        allow_loopback_http: bool = False,
        allow_eddsa: bool = False,
        leeway: float = 60,
        clock: Callable[[], float] = time.time,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        if cache_size < 0:
            raise ValueError("cache_size must be >= 0")
        self._keys = key_source
        self._trusted = None if trusted_issuers is None else frozenset(trusted_issuers)
        self._loopback = allow_loopback_http
        self._eddsa = allow_eddsa
        self._leeway = leeway
        self._clock = clock
        self._cache_size = cache_size
        self._cache: OrderedDict[tuple[str, str], tuple[Any, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._derived: BoundedCache[Hashable, tuple[Any, float]] = BoundedCache(max(cache_size, 1))

    # -- the shared core ---------------------------------------------------------------------

    def _begin(self, kind: TokenKind[C], token: str) -> C | jwt.ParsedJWT:
        """A cached result, or the decoded token (keyless checks passed) awaiting its
        issuer key, which is named by its ``iss``, ``dwk`` and ``kid``."""
        if not isinstance(token, str) or len(token) > jwt.MAX_TOKEN_LENGTH:
            raise InvalidToken(f"token is not a string of at most {jwt.MAX_TOKEN_LENGTH} chars")
        hit = self._cache_get((kind.typ, token))
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        parsed = jwt.parse(token)
        _precheck(kind, parsed, allow_loopback_http=self._loopback, trusted_issuers=self._trusted)
        return parsed

    def _complete(
        self, kind: TokenKind[C], token: str, parsed: jwt.ParsedJWT, key: VerifyingKey
    ) -> C:
        raw = jwt.verify(
            parsed,
            key,
            typ=kind.typ,
            leeway=self._leeway,
            now=self._clock(),
            allow_eddsa=self._eddsa,
        )
        claims = _build(kind, raw, allow_loopback_http=self._loopback, allow_eddsa=self._eddsa)
        self._cache_put((kind.typ, token), claims, claims.exp + self._leeway)
        return claims

    def verify(self, kind: TokenKind[C], token: str) -> C:
        """The claims of a token of ``kind`` whose issuer signature and times check out."""
        step = self._begin(kind, token)
        if not isinstance(step, jwt.ParsedJWT):
            return step
        claims = step.claims
        key, _ = self._keys.get_key(claims["iss"], claims["dwk"], step.kid)
        return self._complete(kind, token, step, key)

    async def averify(self, kind: TokenKind[C], token: str) -> C:
        """:meth:`verify` with the key lookup awaited."""
        step = self._begin(kind, token)
        if not isinstance(step, jwt.ParsedJWT):
            return step
        claims = step.claims
        key, _ = await self._keys.aget_key(claims["iss"], claims["dwk"], step.kid)
        return self._complete(kind, token, step, key)

    # -- the cache ----------------------------------------------------------------------------

    def _cache_get(self, cache_key: tuple[str, str]) -> Any:
        """A hit takes no lock: it runs on every request, and each OrderedDict operation is
        atomic on its own (an entry another thread evicted meanwhile is still a valid
        result). Removing an expired entry takes the lock, as insertions do."""
        cache = self._cache
        entry = cache.get(cache_key)
        if entry is None:
            return None
        claims, valid_until = entry
        if self._clock() >= valid_until:
            with self._lock:
                cache.pop(cache_key, None)
            return None
        try:  # noqa: SIM105 (contextlib.suppress costs 0.3 µs, on every request)
            cache.move_to_end(cache_key)
        except KeyError:  # evicted between the two calls
            pass
        return claims

    def _cache_put(self, cache_key: tuple[str, str], claims: Any, valid_until: float) -> None:
        """Insert; when full, the least recently used entry goes (bounded, V-25)."""
        if self._cache_size == 0:
            return
        with self._lock:
            self._cache[cache_key] = (claims, valid_until)
            self._cache.move_to_end(cache_key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def clear_cache(self) -> None:
        """Forget every verified token (e.g. after revoking an issuer's key out of band)."""
        with self._lock:
            self._cache.clear()
        self._derived.clear()

    def derived(self, key: Hashable) -> Any:
        """What :meth:`remember_derived` stored under ``key`` while still valid, else None.

        For results a caller computes from a token this verifier just verified (the resource's
        request key and claims for a ``jwt`` Signature-Key): one lookup replaces the token
        lookup and the binding checks on every later request. They live exactly as long as
        the token would in the cache and are forgotten with it by :meth:`clear_cache`.
        """
        entry = self._derived.get(key)
        if entry is None or self._clock() >= entry[1]:
            return None
        return entry[0]

    def remember_derived(self, key: Hashable, value: Any, exp: float) -> None:
        """Keep ``value`` for :meth:`derived`, derived from a verified token expiring at ``exp``."""
        if self._cache_size:
            self._derived.put(key, (value, exp + self._leeway))

    # -- per token type -----------------------------------------------------------------------

    def verify_agent_token(self, token: str, *, expected_jkt: str | None) -> AgentTokenClaims:
        """§D.1 (V-26, V-27); ``expected_jkt`` is the request-signing key's thumbprint."""
        claims = self.verify(AGENT_TOKEN, token)
        check_agent_binding(claims, expected_jkt=expected_jkt)
        return claims

    async def averify_agent_token(
        self, token: str, *, expected_jkt: str | None
    ) -> AgentTokenClaims:
        claims = await self.averify(AGENT_TOKEN, token)
        check_agent_binding(claims, expected_jkt=expected_jkt)
        return claims

    def verify_resource_token(
        self, token: str, *, audience: str, agent: str, agent_jkt: str, approver: str | None
    ) -> ResourceTokenClaims:
        """§D.2 at the PS/AS (PS-03, PS-05); see :func:`check_resource_binding`."""
        claims = self.verify(RESOURCE_TOKEN, token)
        check_resource_binding(
            claims, audience=audience, agent=agent, agent_jkt=agent_jkt, approver=approver
        )
        return claims

    async def averify_resource_token(
        self, token: str, *, audience: str, agent: str, agent_jkt: str, approver: str | None
    ) -> ResourceTokenClaims:
        claims = await self.averify(RESOURCE_TOKEN, token)
        check_resource_binding(
            claims, audience=audience, agent=agent, agent_jkt=agent_jkt, approver=approver
        )
        return claims

    def verify_auth_token(
        self, token: str, *, audience: str, agent: str | None, request_jkt: str | None
    ) -> AuthTokenClaims:
        """§D.3 at the resource (RS-09 … RS-13); see :func:`check_auth_binding`."""
        claims = self.verify(AUTH_TOKEN, token)
        check_auth_binding(claims, audience=audience, agent=agent, request_jkt=request_jkt)
        return claims

    async def averify_auth_token(
        self, token: str, *, audience: str, agent: str | None, request_jkt: str | None
    ) -> AuthTokenClaims:
        claims = await self.averify(AUTH_TOKEN, token)
        check_auth_binding(claims, audience=audience, agent=agent, request_jkt=request_jkt)
        return claims


async def averify_presented(
    tokens: TokenVerifier,
    kind: TokenKind[C],
    token: str,
    *,
    what: str,
    invalid: type[AAuthError],
    expired: type[AAuthError],
) -> C:
    """A token presented in a request body (a PS's or AS's token request), with every failure
    as the endpoint's own error: ``expired`` when only ``exp`` failed, ``invalid`` otherwise
    (also when the issuer's keys cannot be fetched); ``what`` names the token."""
    try:
        return await tokens.averify(kind, token)
    except TokenExpired as exc:
        raise expired(f"{what}: {exc.description}") from None
    except (InvalidToken, SignatureError) as exc:
        raise invalid(f"{what}: {exc.description}") from None
    except AAuthError as exc:
        raise invalid(f"cannot fetch the keys to verify the {what}: {exc.description}") from None
