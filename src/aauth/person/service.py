"""One person server's parts, wired from its configuration: what the ASGI app routes to.

Everything that must outlive the process is in the store (pending requests and their
results, bindings, consents, missions and their logs, sessions, failure counts, replay
entries, the pairwise-subject secret) or in the key file, so a server killed mid-consent
restarts where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..discovery import Discovery
from ..egress import EgressPolicy
from ..identifiers import server_host
from ..keys import KeySet
from ..keysource import KeySource, StaticKeySource
from ..metadata import PersonServerMetadata
from ..pending import PendingRequests
from ..ratelimit import FailureLimiter, Throttle
from ..replay import StoreReplayGuard
from ..resource import RequestVerifier, ResourcePolicy, RevokedTokens
from ..store.base import Store
from ..tokens import TokenVerifier
from ..tokens.agent import MAX_AGENT_TOKEN_LIFETIME
from ..tokens.auth import MAX_AUTH_TOKEN_LIFETIME
from .access_client import AccessServerClient
from .audit import AuditLog
from .audit_endpoint import AuditEndpoint
from .bindings import AgentBindings
from .chaining import UpstreamTokens
from .clarification import ClarificationChat
from .config import PersonServerConfig
from .consent import ConsentFlow
from .consents import Consents
from .federation import Federation
from .interaction_relay import InteractionRelay
from .issuance import AuthTokenMinter
from .issued_tokens import IssuedTokens
from .login_csrf import LoginCsrf
from .mission_endpoint import MissionEndpoint
from .mission_review import MissionReview
from .missions import Missions
from .permission import PermissionEndpoint
from .persons import PersonDirectory
from .polling import PendingEndpoint
from .relay import AccessServerRelay
from .resource_interaction import ResourceInteractions
from .revocation import TokenRevoker
from .subjects import PairwiseSubjects
from .token_endpoint import TokenEndpoint
from .trust import TrustedAgentProviders

__all__ = ["PersonService"]

HOUR = 3600.0
MAX_BACKOFF = 900.0
"""Backoff doubles from one second up to this (15 min) once a key is over its limit."""
LOGIN_PAIR_FAILURES = 5
"""Wrong passwords for one account from one address before that pair backs off."""
LOGIN_CLIENT_FAILURES = 20
"""Wrong passwords from one address, over all accounts, before the address backs off."""
LOGIN_ACCOUNT_FAILURES = 100
ACCOUNT_MAX_BACKOFF = 60.0
"""The ceiling per account over all addresses: high, with short waits, so a distributed
guesser is slowed to about one guess a minute while the owner is never locked out for long."""
CODE_SESSION_FAILURES = 10
CODE_FAILURES = 20
"""Wrong interaction codes per person and per address (over any number of sessions, V-38)."""


class PersonService:
    """The parts of one person server over ``store``.

    ``key_source`` finds agent-provider and resource keys; by default a :class:`Discovery`
    under egress rules (loopback allowed when the config allows it), which also supplies the
    names and descriptions shown at consent.
    """

    def __init__(
        self,
        config: PersonServerConfig,
        store: Store,
        *,
        key_source: KeySource | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        loop = config.allow_loopback_http
        self.config = config
        self.store = store
        self.keys = KeySet.load_or_generate(config.key_file)
        self.discovery: Discovery | None = None
        if key_source is None:
            self.discovery = key_source = Discovery(EgressPolicy(allow_loopback_http=loop))
        keys = TrustedAgentProviders(key_source, config.trusted_agent_providers)
        policy = ResourcePolicy(
            resource=config.identifier,
            canonical_authorities=(server_host(config.identifier),),
            accepted_schemes=("jwt",),
            require_identity=True,
            trusted_issuers=(),
            allow_loopback_http=loop,
        )
        self.verifier = RequestVerifier(
            policy, keys, replay_guard=StoreReplayGuard(store, clock=clock), clock=clock
        )
        self.revoked_agent_tokens = RevokedTokens(
            store, keep_for=MAX_AGENT_TOKEN_LIFETIME, namespace="revoked-agent-token", clock=clock
        )
        """Agent tokens their provider revoked (§F.11): refused on every endpoint (PS-24)."""
        self.revoked_auth_tokens = RevokedTokens(
            store, keep_for=MAX_AUTH_TOKEN_LIFETIME, namespace="revoked-auth-token", clock=clock
        )
        """This PS's own auth tokens it revoked (§F.11): never extended as ``upstream_token``."""
        self.issued_tokens = IssuedTokens(store, clock=clock)
        """The auth tokens issued under each agent token, revoked with it (§F.11)."""
        self.people = PersonDirectory(
            config.people,
            store,
            session_lifetime=config.session_lifetime,
            password_params=config.password_params,
            clock=clock,
        )
        self.pending = PendingRequests(store, lifetime=config.pending_lifetime, clock=clock)
        self.audit = AuditLog(store, clock=clock)

        def revoked(iss: str, sub: str, person: str) -> None:
            consents.forget_agent(person, iss, sub)
            self.audit.record(person, "revocation", sub, None, (), "the agent's person changed")

        self.bindings = bindings = AgentBindings(
            store,
            config.bindings,
            bind_on_first_approval=config.bind_on_first_approval,
            on_revoke=revoked,
        )
        consents = Consents(
            store,
            config.auto_approve,
            remember=config.remember_consent,
            lifetime=config.consent_lifetime,
            clock=clock,
        )
        subjects = PairwiseSubjects(store)
        self.missions = Missions(store, config.identifier, audit=self.audit, clock=clock)
        minter = AuthTokenMinter(
            config.identifier,
            self.keys,
            subjects,
            lifetime=config.auth_token_lifetime,
            allow_loopback_http=loop,
            missions=self.missions,
            issued=self.issued_tokens,
            clock=clock,
        )
        tokens = TokenVerifier(keys, allow_loopback_http=loop, clock=clock)
        self.chat = ClarificationChat(self.pending, config.clarification_limits, clock=clock)
        self.token_endpoint = TokenEndpoint(
            config,
            tokens=tokens,
            minter=minter,
            people=self.people,
            bindings=bindings,
            consents=consents,
            pending=self.pending,
            discovery=self.discovery,
            upstream=UpstreamTokens(
                config.identifier,
                StaticKeySource({config.identifier: self.keys.jwks()}),
                subjects,
                config.people,
                max_depth=config.max_chain_depth,
                revoked=self.revoked_auth_tokens,
                allow_loopback_http=loop,
                clock=clock,
            ),
            missions=self.missions,
            chat=self.chat,
            audit=self.audit,
            clock=clock,
        )
        self.mission_endpoint = MissionEndpoint(
            config, self.missions, self.pending, bindings, clock=clock
        )
        self.permission_endpoint = PermissionEndpoint(
            self.missions,
            self.pending,
            bindings,
            self.audit,
            self.mission_endpoint,
            allow_loopback_http=loop,
            clock=clock,
        )
        self.interaction_relay = InteractionRelay(
            self.mission_endpoint,
            self.pending,
            bindings,
            self.missions,
            store,
            identifier=config.identifier,
            egress=EgressPolicy(allow_loopback_http=loop),
            allow_loopback_http=loop,
        )
        """Relays agents' interactions to their persons (§F.6)."""
        self.audit_endpoint = AuditEndpoint(
            self.missions, self.mission_endpoint, allow_loopback_http=loop
        )
        self.mission_review = MissionReview(self.pending, bindings, self.missions, chat=self.chat)
        self.revoker = TokenRevoker(
            config.identifier,
            self.keys,
            self.discovery,
            EgressPolicy(allow_loopback_http=loop),
            revoked=self.revoked_auth_tokens,
        )
        self.pending_endpoint = PendingEndpoint(
            self.pending,
            identifier=config.identifier,
            interaction_url=self.interaction_url,
            poll_interval=config.poll_interval,
            chat=self.chat,
            updater=self.token_endpoint.updated,
            allow_loopback_http=loop,
            clock=clock,
        )
        self.federation: Federation | None = None
        self.relay: AccessServerRelay | None = None
        """Sends the person on to an access server's pages and back."""
        if self.discovery is not None:
            client = AccessServerClient(
                config.identifier, self.keys, self.discovery, allow_loopback_http=loop
            )
            self.federation = Federation(
                client,
                tokens=tokens,
                pending=self.pending,
                endpoint=self.pending_endpoint,
                people=self.people,
                subjects=subjects,
                store=store,
                poll_interval=config.poll_interval,
                pending_lifetime=config.pending_lifetime,
                allow_loopback_http=loop,
                clock=clock,
            )
            self.token_endpoint.federation = self.federation
            self.relay = AccessServerRelay(
                self.federation, self.pending, store, identifier=config.identifier, clock=clock
            )
        self.consent = ConsentFlow(
            self.pending, bindings, consents, minter, chat=self.chat, audit=self.audit
        )
        self.resource_interactions = ResourceInteractions(
            self.consent,
            self.pending,
            store,
            identifier=config.identifier,
            egress=EgressPolicy(allow_loopback_http=loop),
        )
        """Sends the person through a resource's own page first (PS-25)."""
        self.login_csrf = LoginCsrf(store, clock=clock)

        def backoff(name: str, limit: int, max_delay: float = MAX_BACKOFF) -> FailureLimiter:
            return FailureLimiter(
                store,
                name,
                limit=limit,
                window=HOUR,
                max_delay=max_delay,
                clock=clock,
            )

        self.login_throttle = Throttle(
            pair=backoff("login-pair", LOGIN_PAIR_FAILURES),
            client=backoff("login-client", LOGIN_CLIENT_FAILURES),
            account=backoff("login-account", LOGIN_ACCOUNT_FAILURES, ACCOUNT_MAX_BACKOFF),
        )
        """Wrong passwords, per (account, address), per address and per account (§H.5)."""
        self.code_throttle = Throttle(
            session=backoff("code-session", CODE_SESSION_FAILURES),
            person=backoff("code-person", CODE_FAILURES),
            client=backoff("code-client", CODE_FAILURES),
        )
        """Wrong interaction codes, per session, per person and per address (V-38)."""

    @property
    def interaction_url(self) -> str:
        """Where people enter codes; the ``url`` of ``requirement=interaction``."""
        return f"{self.config.identifier}/interact"

    def metadata(self) -> PersonServerMetadata:
        """``aauth-person.json`` (PS-01). The user-facing ``/interact`` page is not the
        agent-facing ``interaction_endpoint`` of §F.6 (``/interaction``), which here takes
        mission completions only."""
        identifier = self.config.identifier
        return PersonServerMetadata(
            issuer=identifier,
            name=self.config.name,
            jwks_uri=f"{identifier}/.well-known/jwks.json",
            token_endpoint=f"{identifier}/token",
            audit_endpoint=f"{identifier}/audit",
            permission_endpoint=f"{identifier}/permission",
            mission_endpoint=f"{identifier}/mission",
            interaction_endpoint=f"{identifier}/interaction",
            revocation_endpoint=f"{identifier}/revoke",
            scopes_supported=self.config.scopes_supported,
            claims_supported=("sub", "name"),
        )
