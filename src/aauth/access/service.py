"""One access server's parts, wired from its configuration: what the ASGI app routes to.

Everything that must outlive the process is in the store (pending requests and their steps,
step codes, billing relationships, sessions, failure counts, replay entries, the
directed-subject secret) or in the key file, so an access server killed in the middle of a
federated consent restarts where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..discovery import Discovery
from ..egress import EgressPolicy
from ..keys import KeySet
from ..keysource import KeySource
from ..metadata import AccessServerMetadata
from ..pending import PendingRequests
from ..person.persons import PersonDirectory
from ..person.subjects import PairwiseSubjects
from ..ratelimit import FailureLimiter
from ..replay import StoreReplayGuard
from ..store.base import Store
from ..tokens import TokenVerifier
from .config import AccessServerConfig
from .flow import AccessFlow
from .issuance import AccessTokenMinter
from .token_endpoint import AccessTokenEndpoint
from .trust import PersonServerVerifier

__all__ = ["AccessService"]

LOGIN_FAILURES = 10
CODE_FAILURES = 10
FAILURE_WINDOW = 600.0


class AccessService:
    """The parts of one access server over ``store``.

    ``key_source`` finds person-server, agent-provider and resource keys; by default a
    :class:`Discovery` under egress rules (loopback allowed when the config allows it).
    """

    def __init__(
        self,
        config: AccessServerConfig,
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
        self.verifier = PersonServerVerifier(
            config.identifier,
            config.trusted_person_servers,
            key_source,
            StoreReplayGuard(store, clock=clock),
            signature_window=config.signature_window,
            clock=clock,
        )
        self.people = PersonDirectory(
            config.people, store, session_lifetime=config.session_lifetime, clock=clock
        )
        self.pending = PendingRequests(store, lifetime=config.pending_lifetime, clock=clock)
        minter = AccessTokenMinter(
            config.identifier,
            self.keys,
            PairwiseSubjects(store),
            lifetime=config.auth_token_lifetime,
            allow_loopback_http=loop,
            clock=clock,
        )
        self.flow = AccessFlow(config, store, self.pending, minter, clock=clock)
        self.token_endpoint = AccessTokenEndpoint(
            config,
            tokens=TokenVerifier(key_source, allow_loopback_http=loop, clock=clock),
            upstream_tokens=TokenVerifier(
                key_source,
                trusted_issuers=(config.identifier, *config.trusted_person_servers),
                allow_loopback_http=loop,
                clock=clock,
            ),
            flow=self.flow,
        )
        self.login_failures = FailureLimiter(
            store, "login", limit=LOGIN_FAILURES, window=FAILURE_WINDOW, clock=clock
        )
        self.code_failures = FailureLimiter(
            store, "code", limit=CODE_FAILURES, window=FAILURE_WINDOW, clock=clock
        )

    def metadata(self) -> AccessServerMetadata:
        """``aauth-access.json`` (AS-01)."""
        identifier = self.config.identifier
        return AccessServerMetadata(
            issuer=identifier,
            name=self.config.name,
            jwks_uri=f"{identifier}/.well-known/jwks.json",
            token_endpoint=f"{identifier}/token",
        )
