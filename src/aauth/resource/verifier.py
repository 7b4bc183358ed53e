"""Verifying a request at a resource: signature, token, binding, then what the route needs.

The order is the protocol's (§C.6): signature headers and coverage, ``created`` window,
Signature-Key scheme, the key — for AAuth's ``jwt`` scheme that is the agent or auth token,
fully verified against its issuer — then the HTTP signature with that key. Only then does
policy run: an agent that should have presented an agent token or an auth token gets a
challenge (401 + ``AAuth-Requirement``), not a signature error.

Signature failures raise :class:`aauth_signing.SignatureError` subclasses (rendered with
``Signature-Error``); challenges raise :class:`~aauth.resource.challenge.Challenge`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NamedTuple, NoReturn

from aauth_signing import (
    HttpRequest,
    InvalidInput,
    InvalidSignature,
    VerificationPolicy,
    VerifiedSignature,
    averify_request,
    verify_request,
)
from aauth_signing._cache import BoundedCache
from aauth_signing.signer import NONCE_EXEMPT_METHODS

from ..errors import Forbidden, InsufficientScope
from ..headers import MissionRef, parse_authorization, parse_mission
from ..keysource import JwksFetcher, KeySource, as_key_source
from ..replay import InMemoryReplayGuard, ReplayGuard, replay_key
from ..token_keys import AsyncTokenKeyResolver, TokenBoundKey, TokenKeyResolver, presented
from ..tokens import AgentTokenClaims, AuthTokenClaims, TokenVerifier
from .caller import VerifiedCaller
from .challenge import AgentTokenRequired, AuthTokenRequired, ResourceTokenIssuer
from .policy import ResourcePolicy
from .revocation import RevokedTokens

__all__ = ["RequestVerifier"]

_UNTRACKED_METHODS = NONCE_EXEMPT_METHODS
"""Safe methods: not replay-checked, so the signer sends no nonce on them (and the reverse)."""
_LEGACY_KEYWORDS = frozenset({"canonical_authorities", "jwks_fetcher", "trusted_auth_servers"})


class RequestVerifier:
    """Verifies requests to one resource and returns the :class:`VerifiedCaller`.

    ``key_source`` finds issuer keys (a :class:`~aauth.discovery.Discovery` in production);
    ``token_issuer`` lets the verifier answer with ``requirement=auth-token`` challenges
    (without it, a missing or insufficient auth token is a 403: nothing the agent could do
    would help). ``revoked`` holds auth tokens their issuer revoked (§F.11): such a token
    counts as absent.
    State-changing requests (not GET/HEAD/OPTIONS) are checked against ``replay_guard``.

    >>> verifier = RequestVerifier(policy, Discovery())  # doctest: +SKIP
    >>> caller = verifier.verify(request)  # doctest: +SKIP
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> RequestVerifier:
        """aauth 0.3's ``RequestVerifier(canonical_authorities, jwks_fetcher,
        trusted_auth_servers)`` builds its 0.3 form (:mod:`aauth.compat.resource`)."""
        if cls is RequestVerifier and (
            _LEGACY_KEYWORDS.intersection(kwargs)
            or (args and not isinstance(args[0], ResourcePolicy))
        ):
            from ..compat.resource import LegacyRequestVerifier

            return object.__new__(LegacyRequestVerifier)
        return object.__new__(cls)

    def __init__(
        self,
        policy: ResourcePolicy,
        key_source: KeySource | JwksFetcher | None = None,
        *,
        token_issuer: ResourceTokenIssuer | None = None,
        replay_guard: ReplayGuard | None = None,
        revoked: RevokedTokens | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.revoked = revoked
        self.policy = policy
        self.token_issuer = token_issuer
        self._keys = as_key_source(key_source)
        self._replay = replay_guard if replay_guard is not None else InMemoryReplayGuard()
        self._clock = clock
        self._verifiers: dict[tuple[tuple[str, ...] | None, bool, bool], TokenVerifier] = {}
        self._contexts: BoundedCache[int, _PolicyContext] = BoundedCache(256)

    # -- plumbing shared by both colours -------------------------------------------------------

    def _tokens(self, policy: ResourcePolicy) -> TokenVerifier:
        """One TokenVerifier (with its cache) per trust configuration."""
        key = (policy.trusted_issuers, policy.allow_loopback_http, policy.allow_legacy)
        verifier = self._verifiers.get(key)
        if verifier is None:
            verifier = TokenVerifier(
                self._keys,
                trusted_issuers=policy.trusted_issuers,
                allow_loopback_http=policy.allow_loopback_http,
                allow_eddsa=policy.allow_legacy,
                clock=self._clock,
            )
            self._verifiers[key] = verifier
        return verifier

    def _context(self, policy: ResourcePolicy) -> _PolicyContext:
        """What verifying under ``policy`` needs, built once per policy object (the resolvers
        are stateless). Held with the policy, so its id cannot be reused while cached."""
        context = self._contexts.get(id(policy))
        if context is not None and context.policy is policy:
            return context
        tokens, accepted, audience = self._tokens(policy), policy.accepted_schemes, policy.resource
        context = _PolicyContext(
            policy,
            policy.signature_policy,
            policy.authorities,
            TokenKeyResolver(self._keys, tokens, audience=audience, accepted=accepted),
            AsyncTokenKeyResolver(self._keys, tokens, audience=audience, accepted=accepted),
            policy.replay_protection,
        )
        self._contexts.put(id(policy), context)
        return context

    def clear_token_cache(self) -> None:
        """Forget verified tokens (e.g. after an issuer's key was revoked out of band)."""
        for verifier in self._verifiers.values():
            verifier.clear_cache()

    @staticmethod
    def _wrong_authority(request: HttpRequest) -> NoReturn:
        """A signature made for another host must not be accepted here (the default
        authority is the resource identifier's host)."""
        raise InvalidSignature(f"this resource does not answer to {request.target.authority!r}")

    @staticmethod
    def _replay_key(request: HttpRequest, verified: VerifiedSignature) -> str | None:
        if request.method.upper() in _UNTRACKED_METHODS or verified.thumbprint is None:
            return None
        return replay_key(verified.thumbprint, verified.base_digest)

    def _caller(
        self,
        request: HttpRequest,
        verified: VerifiedSignature,
        policy: ResourcePolicy,
    ) -> VerifiedCaller:
        """Policy after a good signature: challenge, or the caller."""
        resolved = verified.signature_key
        agent, auth = resolved.presented if type(resolved) is TokenBoundKey else presented(resolved)
        if (
            auth is not None
            and self.revoked is not None
            and self.revoked.is_revoked(auth.iss, auth.jti)
        ):
            auth = None
        scheme, thumbprint = (resolved.member.scheme, resolved.thumbprint) if resolved else ("", "")
        if (policy.require_identity or policy.require_auth_token) and not (agent or auth):
            raise AgentTokenRequired()
        header = request.headers.get("aauth-mission")
        if header is None:
            mission = auth.mission if auth is not None else None
        else:
            mission = self._mission(header, verified, policy)
        if policy.require_auth_token and not (
            auth is not None
            and (mission is None or auth.mission == mission)
            and policy.required_scope_set.issubset(auth.scope)
        ):
            self._challenge(agent, auth, thumbprint, policy, mission)
        authorization = request.headers.get_all("authorization")
        access = parse_authorization(authorization) if authorization else None
        agent_id = agent.sub if agent else (auth.agent if auth else None)
        if header is not None and auth is not None and auth.mission != mission:
            # A grant under another mission (or none) grants nothing under this one: the
            # caller keeps its identity, its scopes are empty (a route requiring the token
            # was challenged above).
            auth = None
        # Every field, in order, without the generated __new__ (one per request, half the cost).
        fields = (verified, scheme, thumbprint, agent_id, agent, auth, access, mission)
        return tuple.__new__(VerifiedCaller, fields)

    @staticmethod
    def _mission(header: str, verified: VerifiedSignature, policy: ResourcePolicy) -> MissionRef:
        """The mission an ``AAuth-Mission`` header names; it only counts when the signature
        covers it (§C.2). Without the header, the auth token's ``mission`` applies."""
        if "aauth-mission" not in verified.covered:
            raise InvalidInput(
                "the signature must cover AAuth-Mission", required_input=("aauth-mission",)
            )
        return parse_mission(header, allow_loopback_http=policy.allow_loopback_http)

    def _challenge(
        self,
        agent: AgentTokenClaims | None,
        auth: AuthTokenClaims | None,
        thumbprint: str,
        policy: ResourcePolicy,
        mission: MissionRef | None,
    ) -> NoReturn:
        """For a route that needs an auth token with every required scope (and, under a
        mission, issued under that mission) when the request has none: an ``auth-token``
        challenge (AG-13), or 403 when this resource cannot issue resource tokens."""
        issuer = self.token_issuer
        if issuer is None:
            # Without resource tokens the agent has no way to obtain what is missing, so this
            # is a policy denial (403), not a challenge it could answer.
            if auth is None:
                raise Forbidden("an auth token is required and this resource issues none")
            raise InsufficientScope(
                "the auth token does not grant " + " ".join(policy.required_scopes)
            )
        scope = tuple(policy.required_scopes)
        if auth is not None:
            # Step-up keeps what the agent already holds, so one token serves both routes
            # instead of the agent trading tokens back and forth between them.
            scope += tuple(s for s in issuer.offerable(auth.scope) if s not in scope)
        if not scope:
            raise ValueError("a route that requires an auth token must name required_scopes")
        agent_id = agent.sub if agent else auth.agent if auth else ""
        ps = agent.ps if agent else (mission.approver if mission else None)
        if ps is None and auth is not None and issuer.access_server is None:
            ps = auth.iss
        token = issuer.issue(
            agent=agent_id, agent_jkt=thumbprint, scope=scope, ps=ps, mission=mission
        )
        why = "insufficient scope" if auth is not None else "an auth token is required"
        raise AuthTokenRequired(token, why)

    # -- the two colours -----------------------------------------------------------------------

    def verify(self, request: HttpRequest, policy: ResourcePolicy | None = None) -> VerifiedCaller:
        """Verify ``request`` under ``policy`` (default: this verifier's)."""
        policy = policy or self.policy
        context = self._context(policy)
        if request.target.authority not in context.authorities:
            self._wrong_authority(request)
        verified = verify_request(request, context.signature_policy, context.resolver)
        key = self._replay_key(request, verified) if context.replay else None
        if key is not None:
            self._replay.check_and_store(key, self._clock() + 2 * policy.signature_window)
        return self._caller(request, verified, policy)

    async def averify(
        self, request: HttpRequest, policy: ResourcePolicy | None = None
    ) -> VerifiedCaller:
        """The asynchronous form of :meth:`verify` (discovery fetches are awaited)."""
        policy = policy or self.policy
        context = self._context(policy)
        if request.target.authority not in context.authorities:
            self._wrong_authority(request)
        verified = await averify_request(request, context.signature_policy, context.aresolver)
        key = self._replay_key(request, verified) if context.replay else None
        if key is not None:
            await self._replay.acheck_and_store(key, self._clock() + 2 * policy.signature_window)
        return self._caller(request, verified, policy)


class _PolicyContext(NamedTuple):
    policy: ResourcePolicy
    signature_policy: VerificationPolicy
    authorities: tuple[str, ...]
    resolver: TokenKeyResolver
    aresolver: AsyncTokenKeyResolver
    replay: bool
